"""The alarm wall: live without reload, pop-up and voice for a key customer, ack from the console,
reconnecting after a network drop without losing updates."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Live, login
from tests.browser.proxy import CuttableProxy

LOS_AGG = {
    "source": "ems-huawei",
    "ne": "AGG-GL-1",
    "object": "GE0/1/0",
    "type": "LOS",
    "severity": "critical",
}
SPOKEN_ZH = "紧急故障：福州市鼓楼区人民政府 中心点 语音专线 中断"


def open_wall(new_page: Any, live: Live, lang: str = "zh") -> Any:
    live.user("D01", staff="D01")
    wall = new_page(lang=lang)
    login(wall, "D01")
    wall.goto("/wall")
    expect(wall.locator("body")).to_have_attribute("data-ready", "1")
    expect(wall.locator("body")).to_have_attribute("data-live", "1")
    return wall


def test_an_alarm_appears_on_the_open_wall_and_is_announced(new_page: Any, live: Live) -> None:
    wall = open_wall(new_page, live)
    expect(wall.locator("#incident-rows tr")).to_have_count(0)
    live.alarms(LOS_AGG)
    row = wall.locator("#incident-rows tr")
    expect(row).to_have_count(1, timeout=2000)
    expect(row.first).to_contain_text("福州市鼓楼区人民政府")
    expect(wall.locator("[data-level=urgent]")).to_have_text("1")
    expect(wall.locator("#popup")).to_be_visible()
    expect(wall.locator("#popup-text")).to_have_text("福州市鼓楼区人民政府 中心点 语音专线 中断")
    expect(wall.locator("body")).to_have_attribute("data-sounding", "1")
    assert wall.evaluate("window.__spoken") == [SPOKEN_ZH]


def test_acknowledge_from_the_console_stops_the_sound_on_the_wall(new_page: Any, live: Live) -> None:
    wall = open_wall(new_page, live)
    live.alarms(LOS_AGG)
    expect(wall.locator("body")).to_have_attribute("data-sounding", "1", timeout=2000)

    console = new_page()
    login(console, "D01")
    console.goto("/console")
    expect(console.locator("#alarm-rows tr[data-alarm]")).to_have_count(1)
    console.keyboard.press("a")  # the selected (only) alarm
    expect(console.locator("#alarm-rows tr.acked")).to_have_count(1)
    expect(console.locator("#alarm-rows td.ack")).to_have_text("web:D01")

    expect(wall.locator("body")).to_have_attribute("data-sounding", "0", timeout=2000)
    expect(wall.locator("#popup")).to_be_hidden()


def test_the_wall_reconnects_after_a_drop_and_shows_what_it_missed(new_page: Any, live: Live) -> None:
    """The stream is cut (a relay between browser and server drops every connection); alarms arrive
    meanwhile; when the network is back the wall resumes with Last-Event-ID, without reloading."""
    port = int(live.url.rsplit(":", 1)[1])
    proxy = CuttableProxy(port)
    try:
        live.user("D01", staff="D01")
        wall = new_page(url=proxy.url)
        login(wall, "D01")
        wall.goto("/wall")
        expect(wall.locator("body")).to_have_attribute("data-live", "1")
        expect(wall.locator("body")).to_have_attribute("data-ready", "1")
        wall.evaluate("window.__same_page = true")
        # the first hello loads the state once (a resync); count from there
        expect(wall.locator("body")).to_have_attribute("data-resyncs", "1")

        proxy.drop()
        expect(wall.locator("body")).to_have_attribute("data-live", "0")
        expect(wall.locator("#conn")).to_have_text("连接中断，重连中…")
        live.alarms(LOS_AGG)
        live.alarms({**LOS_AGG, "ne": "AGG-GL-2", "object": "GE0/2/5", "type": "LINK_DOWN"})
        live.ctx.settle()
        hub = live.app.state.live
        expect(wall.locator("#incident-rows tr")).to_have_count(0)  # still cut off

        proxy.restore()
        expect(wall.locator("body")).to_have_attribute("data-live", "1", timeout=5000)
        expect(wall.locator("body")).to_have_attribute("data-last-event", str(hub.last_id))
        expect(wall.locator("#incident-rows tr")).to_have_count(2)
        expect(wall.locator("#popup")).to_be_visible()  # the missed key-customer fault is announced
        assert wall.evaluate("window.__spoken") == [SPOKEN_ZH]
        assert wall.evaluate("window.__same_page") is True  # no reload
        # the missed events came from the replay ring, not from a resync of the whole state
        assert wall.locator("body").get_attribute("data-resyncs") == "1"
    finally:
        proxy.close()
