"""The wall and the console at 1366×768 (the smaller NOC screens): nothing scrolls sideways and the
key parts are on screen."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, Live, login
from tests.browser.test_wall import LOS_AGG, open_wall

WIDTH, HEIGHT = 1366, 768
LONG = "光功率越限 " * 30  # a long device text must wrap, not widen the page


def overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth")) - WIDTH


def on_screen(page: Any, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5, f"{selector} sticks out sideways: {box}"
    assert box["y"] >= 0 and box["y"] < HEIGHT, f"{selector} is below the fold: {box}"


def test_wall_and_console_fit_1366x768(new_page: Any, live: Live) -> None:
    live.alarms(
        {**LOS_AGG, "text": LONG},
        {**LOS_AGG, "ne": "AGG-GL-2", "object": "GE0/2/5", "type": "LINK_DOWN", "severity": "major"},
        {"source": "ems-zte", "ne": "OLT-TJ-1", "object": "0/1/1", "type": "PON_LOS", "severity": "major"},
    )
    live.ctx.settle()
    wall = open_wall(new_page, live)
    wall.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    expect(wall.locator("#incident-rows tr")).to_have_count(3)
    assert overflow(wall) <= 0, f"the wall scrolls sideways by {overflow(wall)} px"
    for selector in (
        "#levels [data-level=urgent]",
        "#unmatched",
        "#key-down",
        "#clock",
        "#mute",
        "#volume",
        "#incident-rows tr",
        "#regions .region",
        "#key-list li",
    ):
        on_screen(wall, selector)
    assert int(wall.evaluate("document.documentElement.scrollHeight")) <= HEIGHT  # a wall does not scroll
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(SCREENSHOTS / "wall-1366.png"))

    console = new_page(viewport=(WIDTH, HEIGHT))
    login(console, "D01")
    console.goto("/console")
    expect(console.locator("#alarm-rows tr[data-alarm]")).to_have_count(3)
    console.locator("#alarm-rows tr[data-alarm]", has_text="AGG-GL-1").click()
    expect(console.locator("#detail-text")).to_contain_text("光功率越限")
    assert overflow(console) <= 0, f"the console scrolls sideways by {overflow(console)} px"
    for selector in (
        "#q",
        "select[name=planned]",
        "#filters button[type=submit]",
        "#alarm-rows tr[data-alarm]",
        "#detail h2",
        "#ack-btn",
    ):
        on_screen(console, selector)
    console.screenshot(path=str(SCREENSHOTS / "console-1366.png"))
