"""Ticket desk (phone view, team scoping), XSS, language switch, incident view, screenshots."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, Live, login
from tests.browser.test_wall import LOS_AGG, open_wall

XSS = "<img src=x onerror=alert(1)>"


def test_a_contractor_works_a_ticket_from_the_phone(new_page: Any, live: Live) -> None:
    live.alarms(LOS_AGG)  # urgent on key customer C001: auto-dispatched to its maintainer CT-A
    live.ctx.settle()
    live.user("CA01", staff="CA01")
    phone = new_page(viewport=(390, 844))
    login(phone, "CA01")
    phone.goto("/m/tickets")
    card = phone.locator(".tcard")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("C001")
    card.click()
    phone.wait_for_url("**/m/tickets/*")
    for event in ("accept", "contact", "on_site", "located"):
        phone.locator(f"button[data-event={event}]").click()
        expect(phone.locator(f"button[data-event={event}]")).to_have_count(0)
    expect(phone.locator(".milestone.done")).to_have_count(4)
    phone.fill("#note", "熔接完成 splice done")
    phone.locator("#note-form button").click()
    expect(phone.locator("#events")).to_contain_text("熔接完成 splice done")
    phone.locator("button[data-event=recovered]").click()
    expect(phone.locator(".milestone.done")).to_have_count(5)
    assert live.http.post("/api/v1/admin/clock", json={"advance_seconds": 3700}).status_code == 200
    phone.select_option("#cause", "fibre_cut")
    phone.fill("#resolution", "重新熔接 re-spliced")
    phone.locator("#close-form button").click()
    expect(phone.locator("#ticket-state")).to_have_text("已回单")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone view scrolls sideways ({width}px)"


def test_a_contractor_cannot_open_another_teams_ticket(new_page: Any, live: Live) -> None:
    live.alarms(LOS_AGG)
    live.ctx.settle()
    [ticket] = live.http.get("/api/v1/tickets").json()["items"]
    assert ticket["assignee"] == "CT-A"
    live.user("CB01", staff="CB01")
    other = new_page(viewport=(390, 844))
    login(other, "CB01")
    response = other.goto(f"/m/tickets/{ticket['id']}")
    assert response is not None and response.status == 404
    expect(other.locator("h1")).to_have_text("无权访问或不存在")
    other.goto("/m/tickets")
    expect(other.locator(".tcard")).to_have_count(0)
    assert other.request.get(f"/api/v1/tickets/{ticket['id']}").status == 404


def test_device_text_stays_inert(new_page: Any, live: Live) -> None:
    live.alarms({**LOS_AGG, "text": XSS}, {**LOS_AGG, "ne": XSS, "object": XSS, "text": XSS})
    live.user("D01", staff="D01")
    page = new_page()
    login(page, "D01")
    page.goto("/console")
    expect(page.locator("#alarm-rows tr[data-alarm]")).to_have_count(2)
    expect(page.locator("#alarm-rows td.text").first).to_have_text(XSS)
    expect(page.locator("#detail-text")).to_have_text(XSS)
    page.goto("/incidents/1")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#alarms")).to_contain_text(XSS)
    for path in ("/console", "/incidents/1", "/wall"):
        page.goto(path)
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        assert page.locator("main img").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_language_switch_is_remembered(new_page: Any, live: Live) -> None:
    live.user("D01", staff="D01")
    page = new_page(lang="zh")
    login(page, "D01")
    page.goto("/console")
    expect(page.locator("a.navlink.on")).to_have_text("告警台")
    page.click("a.lang")
    expect(page.locator("a.navlink.on")).to_have_text("Alarm console")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/tickets")
    expect(page.locator("h1")).to_have_text("Tickets")


def test_the_english_wall_speaks_english(new_page: Any, live: Live) -> None:
    wall = open_wall(new_page, live, lang="en")
    live.alarms(LOS_AGG)
    expect(wall.locator("#popup")).to_be_visible(timeout=2000)
    assert wall.evaluate("window.__spoken") == ["Urgent fault: 福州市鼓楼区人民政府 center voice line down"]
    wall.locator("#mute").click()
    expect(wall.locator("#mute")).to_have_text("Unmute")


def test_incident_view_marks_the_failed_hops_and_screenshots(new_page: Any, live: Live) -> None:
    """Also writes docs/screenshots/ (wall, console, incident, ticket)."""
    wall = open_wall(new_page, live)
    live.alarms(
        LOS_AGG,
        {**LOS_AGG, "ne": "AGG-GL-2", "object": "GE0/2/5", "type": "LINK_DOWN", "severity": "major"},
        {"source": "ems-zte", "ne": "OLT-TJ-1", "object": "0/1/1", "type": "PON_LOS", "severity": "major"},
        {"source": "ems-huawei", "ne": "UNKNOWN-9", "object": "x", "type": "LOS", "severity": "minor"},
    )
    live.ctx.settle()
    expect(wall.locator("#popup")).to_be_visible(timeout=2000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(SCREENSHOTS / "wall-popup.png"))
    wall.locator("#popup-close").click()
    expect(wall.locator("#unmatched")).to_have_text("1")
    wall.screenshot(path=str(SCREENSHOTS / "wall.png"))

    page = new_page(viewport=(1600, 900))
    login(page, "D01")
    page.goto("/incidents/1")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    data = page.locator("[data-circuit='FZ-C001-DATA-1']")
    expect(data.locator("svg.route")).to_have_count(2)
    expect(data.locator("svg.primary g.failed")).to_have_count(1)
    expect(data.locator("svg.primary g.failed")).to_contain_text("AGG-GL-1")
    expect(data.locator("svg.backup g.failed")).to_have_count(0)
    expect(page.locator("#timeline li").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "incident.png"), full_page=True)

    page.goto("/console")
    expect(page.locator("#alarm-rows tr[data-alarm]")).to_have_count(4)
    second = page.locator("#alarm-rows tr[data-alarm]").nth(1).get_attribute("data-alarm")
    page.keyboard.press("j")
    expect(page.locator("#alarm-rows tr.sel")).to_have_attribute("data-alarm", str(second))
    page.screenshot(path=str(SCREENSHOTS / "console.png"))

    page.goto("/tickets")
    expect(page.locator("#ticket-rows tr").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "tickets.png"))
    page.goto("/tickets/1")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.screenshot(path=str(SCREENSHOTS / "ticket.png"), full_page=True)


def test_inventory_browse_and_import_errors(new_page: Any, live: Live, tmp_path: Any) -> None:
    live.user("root", role="admin")
    page = new_page()
    login(page, "root")
    page.goto("/inventory")
    expect(page.locator("#inv-customers li")).to_have_count(3)
    page.locator("#inv-customers a", has_text="C001").click()
    page.locator("#inv-detail a", has_text="FZ-C001-DATA-1").click()
    expect(page.locator("#inv-detail svg.route")).to_have_count(2)
    page.locator("#inv-detail .row a", has_text="AGG-GL-3").first.click()
    expect(page.locator("#inv-detail h2")).to_have_text("AGG-GL-3")
    expect(page.locator("#inv-detail")).to_contain_text("FZ-C001-DATA-1")

    bad = tmp_path / "customers.csv"
    bad.write_text(
        "code,name,level,grade,industry,region,account_manager\nC009,<b>x</b>,emperor,gold,x,GL,AM01\n"
    )
    page.goto("/inventory/import")
    page.set_input_files("#import-files", str(bad))
    page.locator("#import-form button").click()
    expect(page.locator("#import-status")).to_contain_text("校验错误")
    row = page.locator("#import-errors tr", has_text="level").first
    expect(row.locator("td").nth(0)).to_have_text("customers.csv")
    expect(row.locator("td").nth(2)).to_have_text("level")
