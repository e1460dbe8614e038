"""Escalations on the ticket desk: a contractor asks for 技术支援 from the phone, the fault manager
takes it from the desk; a missed deadline's escalation is taken the same way."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Live, login
from tests.browser.test_wall import LOS_AGG


def test_support_is_asked_from_the_phone_and_taken_at_the_desk(new_page: Any, live: Live) -> None:
    live.alarms(LOS_AGG)  # urgent on key customer C001: auto-dispatched to its maintainer CT-A
    live.ctx.settle()
    [ticket] = live.http.get("/api/v1/tickets").json()["items"]
    live.user("CA01", staff="CA01")
    live.user("FM01", staff="FM01")

    phone = new_page(viewport=(390, 844))
    login(phone, "CA01")
    phone.goto(f"/m/tickets/{ticket['id']}")
    expect(phone.locator("body")).to_have_attribute("data-ready", "1")
    expect(phone.locator("#escalation-actions button[data-ack]")).to_have_count(0)  # not theirs to take
    phone.locator("#support-btn").click()
    expect(phone.locator(".toast.bad")).to_have_text("请先在备注中写明需要的支援")  # says what help first
    phone.fill("#note", "需要熔接机 need a splicer")
    phone.locator("#support-btn").click()
    item = phone.locator("#escalations li.support")
    expect(item).to_contain_text("需要熔接机 need a splicer")
    expect(item).to_have_class("support open")
    expect(phone.locator("#support-btn")).to_have_count(0)  # one open request at a time

    desk = new_page()
    login(desk, "FM01")
    desk.goto(f"/tickets/{ticket['id']}")
    expect(desk.locator("body")).to_have_attribute("data-ready", "1")
    desk.fill("#note", "20分钟到 there in 20 min")
    desk.locator("#escalation-actions button[data-ack=fault_manager]").click()
    taken = desk.locator("#escalations li.support")
    expect(taken).to_have_class("support acked")
    expect(taken.locator(".ack")).to_contain_text("web:FM01")
    expect(taken.locator(".ack")).to_contain_text("20分钟到 there in 20 min")
    expect(desk.locator("#escalation-actions button[data-ack]")).to_have_count(0)

    # two hours on, not located (gold track): the fault manager's escalation arrives and is taken
    assert live.http.post("/api/v1/admin/clock", json={"advance_seconds": 2 * 3600}).status_code == 200
    live.ctx.settle()
    desk.reload()
    expect(desk.locator("#escalations li.escalation.open")).to_have_count(1)
    desk.locator("#escalation-actions button[data-ack=fault_manager]").click()
    expect(desk.locator("#escalations li.escalation.acked")).to_have_count(1)
    got = live.http.get(f"/api/v1/tickets/{ticket['id']}").json()
    assert [e["acked"]["by"] for e in got["escalations"]] == ["web:FM01"]
    assert got["support_requests"][0]["acked"]["by"] == "web:FM01"
