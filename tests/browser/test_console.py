"""The alarm console's planned filter: alarms inside a cutover window are marked, filterable, silent."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Live, login
from tests.browser.test_wall import LOS_AGG, open_wall
from tests.cutovers.helpers import cutover_body, in_window

PON_LOS = {"source": "ems-zte", "ne": "OLT-TJ-1", "object": "0/1/1", "type": "PON_LOS", "severity": "major"}


def test_planned_alarms_are_marked_filtered_and_not_announced(new_page: Any, live: Live) -> None:
    body = cutover_body(resources={"nes": ["AGG-GL-1"], "ports": [], "circuits": []})
    assert live.http.post("/api/v1/cutovers", json=body).status_code == 201
    moved = live.http.post("/api/v1/admin/clock", json={"set": in_window(10, 5).isoformat()})
    assert moved.status_code == 200, moved.text
    wall = open_wall(new_page, live)
    live.alarms(LOS_AGG, PON_LOS)  # LOS on AGG-GL-1 is inside the window; the PON alarm is not
    live.ctx.settle()
    planned_row = wall.locator("#incident-rows tr", has_text="福州市鼓楼区人民政府")
    expect(planned_row.locator(".tag.planned")).to_have_text("割接", timeout=2000)
    expect(wall.locator("#popup")).to_be_hidden()  # a key customer's outage, but planned: not announced
    assert wall.evaluate("window.__spoken") == []

    console = new_page()
    login(console, "D01")
    console.goto("/console")
    rows = console.locator("#alarm-rows tr[data-alarm]")
    expect(rows).to_have_count(2)
    expect(console.locator("#alarm-rows tr.planned")).to_have_count(1)
    expect(console.locator("#alarm-rows tr.planned td.ne")).to_contain_text("AGG-GL-1")
    console.select_option("select[name=planned]", "true")
    console.locator("#filters button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.ne")).to_contain_text("AGG-GL-1")
    expect(console.locator("#detail-planned")).to_be_visible()
    console.select_option("select[name=planned]", "false")
    console.locator("#filters button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.ne")).to_have_text("OLT-TJ-1")
    expect(console.locator("#alarm-rows tr.planned")).to_have_count(0)
