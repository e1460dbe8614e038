"""The planning screens: cutovers (calendar, conflicts, short notice, notice + exports, register/
edit/cancel, the assurance refusal), assurance periods with the wall highlight and the incident's
history, and a drill run from its script with the report's steps and milestones."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, Live, login
from tests.browser.test_screens import XSS
from tests.browser.test_wall import LOS_AGG, open_wall


def cutover(live: Live, task_no: str, port: str, start: str, end: str) -> None:
    body = {
        "task_no": task_no,
        "cause": "room_rework",
        "window_start": f"2026-03-11T{start}:00+08:00",
        "window_end": f"2026-03-11T{end}:00+08:00",
        "impact": "interrupt",
        "expected_minutes": 30,
        "region": "GL",
        "published_at": "2026-03-02T09:00:00+08:00",
        "resources": {"ports": [{"ne": "ACC-GL-1", "port": port}]},
    }
    response = live.http.post("/api/v1/cutovers", json=body)
    assert response.status_code == 201, response.text


def test_cutovers_calendar_notice_exports_and_the_form(new_page: Any, live: Live) -> None:
    cutover(live, "GJ-P", "GE0/2/1", "10:00", "12:00")  # FZ-C001-DATA-1's primary route …
    cutover(live, "GJ-B", "GE0/2/2", "11:00", "13:00")  # … and its backup, overlapping: a conflict
    live.user("D01", staff="D01")
    page = new_page(viewport=(1600, 1000))
    login(page, "D01")
    page.goto("/cutovers")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator(".calendar .day")).to_have_count(14)
    day = page.locator(".calendar .day[data-day='2026-03-11']")
    expect(day.locator(".chip.conflict")).to_have_count(2)
    expect(page.locator("#cutover-rows tr[data-task='GJ-P'] .flag.conflict")).to_have_count(1)

    form = page.locator("#cutover-form")
    form.locator("[name=task_no]").fill(XSS)
    form.locator("[name=cause]").select_option("maintenance")
    form.locator("[name=window_start]").fill("2026-03-05T01:00")
    form.locator("[name=window_end]").fill("2026-03-05T03:00")
    form.locator("[name=expected_minutes]").fill("30")
    form.locator("[name=region]").fill("GL")
    form.locator("[name=circuits]").fill("FZ-C003-DATA-1")  # never published: short notice
    form.locator("button[type=submit]").click()
    mine = page.locator("#cutover-rows tr").filter(has_text=XSS)
    expect(mine).to_have_count(1)
    expect(mine.locator(".flag.short")).to_have_text("通知不足6个工作日")
    expect(page.locator(".calendar .day[data-day='2026-03-05'] .chip.short")).to_have_count(1)
    expect(page.locator("#notice-rows tr")).to_have_count(1)  # the new cutover's notice is shown
    expect(page.locator("#notice-rows td").nth(3)).to_have_text("FZ-C003-DATA-1")
    expect(page.locator("#notice-task")).to_have_text(XSS)

    xlsx = page.request.get(page.locator("#export-xlsx").get_attribute("href") or "")
    assert xlsx.status == 200
    sheet = load_workbook(io.BytesIO(xlsx.body())).worksheets[0]
    assert sheet["A1"].value == "割接任务编号" and sheet["D2"].value == "FZ-C003-DATA-1"
    assert sheet["A2"].value == XSS
    csv = page.request.get(page.locator("#export-csv").get_attribute("href") or "")
    assert csv.status == 200 and "FZ-C003-DATA-1" in csv.text()

    mine.locator("button[data-act=edit]").click()
    expect(form.locator("[name=task_no]")).to_have_value(XSS)
    expect(form.locator("[name=window_start]")).to_have_value("2026-03-05T01:00")
    form.locator("[name=window_end]").fill("2026-03-05T04:00")
    form.locator("button[type=submit]").click()
    expect(mine.locator("td").nth(2)).to_contain_text("04:00:00")
    expect(page.locator("#cutover-rows tr")).to_have_count(3)

    page.locator("#cutover-rows tr[data-task='GJ-B'] button[data-act=cancel]").click()
    expect(page.locator("#cutover-rows tr[data-task='GJ-B'] td.state")).to_have_text("已取消")
    expect(day.locator(".chip")).to_have_count(1)
    expect(day.locator(".chip.conflict")).to_have_count(0)

    period = {
        "name": "峰会重保",
        "level": 1,
        "start": "2026-03-10T00:00:00+08:00",
        "end": "2026-03-12T00:00:00+08:00",
        "scope": {"customers": ["C003"]},
    }
    assert live.http.post("/api/v1/assurance", json=period).status_code == 201
    page.locator("#form-reset").click()
    form.locator("[name=task_no]").fill("GJ-REFUSED")
    form.locator("[name=window_start]").fill("2026-03-11T01:00")
    form.locator("[name=window_end]").fill("2026-03-11T02:00")
    form.locator("[name=circuits]").fill("FZ-C003-DATA-1")
    form.locator("button[type=submit]").click()
    expect(page.locator("#form-error")).to_contain_text("峰会重保")
    expect(page.locator("#cutover-rows tr")).to_have_count(3)
    assert page.locator("main img").count() == 0 and page.dialogs == []  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cutovers.png"), full_page=True)


def test_assurance_period_highlights_the_wall_and_the_incident(new_page: Any, live: Live) -> None:
    wall = open_wall(new_page, live)  # D01, a dispatcher
    page = new_page(viewport=(1600, 1000))
    login(page, "D01")
    page.goto("/assurance")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    form = page.locator("#period-form")
    form.locator("[name=name]").fill("青运会重保")
    form.locator("[name=level]").select_option("2")
    form.locator("[name=start]").fill("2026-03-02T08:00")
    form.locator("[name=end]").fill("2026-03-04T00:00")
    form.locator("[name=customers]").fill("C001")
    form.locator("[name=roster]").fill("3月2日 白班: 张三 13900000009")
    form.locator("[name=plan]").fill(XSS)
    form.locator("button[type=submit]").click()
    row = page.locator("#period-rows tr")
    expect(row).to_have_count(1)
    expect(row.locator("td.status")).to_have_text("生效中")
    expect(row).to_have_class("in_force")
    expect(row.locator("td").nth(7)).to_have_text(XSS)
    expect(row.locator("td").nth(1)).to_have_text("二级重保")

    live.alarms(LOS_AGG)  # C001's lines: in scope
    highlighted = wall.locator("#incident-rows tr.assured")
    expect(highlighted).to_have_count(1, timeout=3000)
    expect(highlighted.locator(".badge.assured")).to_have_text("重保 青运会重保")

    page.goto("/incidents/1")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#assurance-history")).to_be_visible()
    expect(page.locator("#assurance-rows tr")).to_have_count(1)
    expect(page.locator("#assurance-rows td").first).to_have_text("青运会重保")
    expect(page.locator("#timeline")).to_contain_text("重保「青运会重保」")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "incident-assurance.png"), full_page=True)
    wall.screenshot(path=str(SCREENSHOTS / "wall-assurance.png"))


def test_a_drill_runs_its_timed_script_and_reports_milestones(new_page: Any, live: Live) -> None:
    live.user("D01", staff="D01")
    page = new_page(viewport=(1600, 1000))
    login(page, "D01")
    page.goto("/drills")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    form = page.locator("#drill-form")
    form.locator("[name=name]").fill("鼓楼汇聚中断演练 " + XSS)
    form.locator("[name=script]").fill("+0 AGG-GL-1 GE0/1/0 LOS\nAGG-GL-1 LOS")
    form.locator("button[type=submit]").click()
    expect(page.locator("#form-error")).to_have_text("第2行格式错误")

    form.locator("[name=script]").fill("+0 AGG-GL-1 GE0/1/0 LOS\n+10 AGG-GL-1 GE0/1/0 LOS cleared")
    form.locator("button[type=submit]").click()
    expect(page.locator("#report-title")).to_contain_text(XSS)
    steps = page.locator("#step-rows tr")
    expect(steps).to_have_count(2)
    expect(page.locator("#step-rows tr.done")).to_have_count(1)
    [ticket] = live.http.get("/api/v1/tickets").json()["items"]
    assert ticket["drill"] is True
    accepted = page.locator(f"#milestone-rows tr[data-ticket='{ticket['id']}'][data-milestone=accepted]")
    expect(accepted).to_contain_text("—")

    live.http.post("/api/v1/admin/clock", json={"advance_seconds": 5 * 60})
    accept = live.http.post(f"/api/v1/tickets/{ticket['id']}/events", json={"type": "accept"})
    assert accept.status_code == 200, accept.text
    live.http.post("/api/v1/admin/clock", json={"advance_seconds": 5 * 60})  # +10: the clear step
    live.ctx.settle()
    expect(page.locator("#step-rows tr.done")).to_have_count(2, timeout=3000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#drill-rows a").first.click()  # re-read the report
    expect(accepted).to_contain_text("✓")
    expect(accepted.locator("td").nth(2)).to_have_text("5")
    expect(page.locator("#drill-rows tr")).to_have_count(1)
    expect(page.locator("#drill-rows tr td").nth(3)).to_have_text("2/2")
    page.screenshot(path=str(SCREENSHOTS / "drill-report.png"), full_page=True)
    assert page.locator("main img").count() == 0 and page.dialogs == []  # type: ignore[attr-defined]


def test_the_planning_pages_in_english_and_who_may_open_them(new_page: Any, live: Live) -> None:
    live.user("D01", staff="D01")
    live.user("eng", role="engineer")
    page = new_page(lang="en")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, "D01")
    for path, title in (("/cutovers", "Cutovers"), ("/assurance", "Assurance"), ("/drills", "Drills")):
        page.goto(path)
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        expect(page.locator("h1")).to_contain_text(title)
        expect(page.locator("a.navlink.on")).to_have_text(title)
    page.goto("/cutovers")
    expect(page.locator(".calendar .day").first.locator(".date")).to_have_text("Mon 02/03")
    assert errors == []
    other = new_page()
    login(other, "eng")
    expect(other.locator("a.navlink[href='/drills']")).to_have_count(0)
    response = other.goto("/drills")
    assert response is not None and response.status == 403
    other.goto("/cutovers")  # engineers read the plan but do not register
    expect(other.locator("body")).to_have_attribute("data-ready", "1")
    expect(other.locator("#cutover-form")).to_have_count(0)
