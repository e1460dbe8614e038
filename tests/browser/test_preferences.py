"""The notification preferences page: a person orders their channels and sets quiet hours; an admin
edits someone else's; both languages."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Live, login


def test_a_person_sets_channels_and_quiet_hours(new_page: Any, live: Live) -> None:
    live.user("D01", staff="D01")
    page = new_page(lang="zh")
    login(page, "D01")
    page.goto("/preferences")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    expect(page.locator("a.navlink.on")).to_have_text("通知设置")
    items = page.locator("#prefs-channels li")
    expect(items).to_have_count(3)
    email = page.locator("#prefs-channels li[data-channel=email]")
    email.locator("input").check()
    page.locator("#prefs-channels li[data-channel=sms] input").check()
    email.locator("button").click()  # e-mail before SMS
    page.fill("#quiet-start", "22:00")
    page.fill("#quiet-end", "07:30")
    page.click("#prefs-save")
    expect(page.locator("#prefs-status")).to_have_text("已保存")
    saved = live.http.get("/api/v1/staff/D01/notify-preferences").json()
    assert (saved["channels"], saved["quiet_start"], saved["quiet_end"]) == (
        ["email", "sms"],
        "22:00",
        "07:30",
    )
    page.fill("#quiet-end", "")
    page.click("#prefs-save")
    expect(page.locator("#prefs-status")).to_contain_text("quiet_end")  # the server names the problem
    page.reload()
    expect(page.locator("#prefs-channels li").first).to_have_attribute("data-channel", "email")
    expect(page.locator("#quiet-end")).to_have_value("07:30")


def test_an_admin_edits_someone_elses_in_english(new_page: Any, live: Live) -> None:
    live.user("boss", role="admin")
    page = new_page(lang="en")
    login(page, "boss")
    page.goto("/preferences")
    expect(page.locator("h1")).to_contain_text("Notifications")
    page.fill("#prefs-staff", "FM01")
    page.click("#prefs-load")
    expect(page.locator("#prefs-who")).to_contain_text("FM01")
    expect(page.locator("#prefs-channels li[data-channel=voice]")).to_contain_text("voice call")
    page.locator("#prefs-channels li[data-channel=voice] input").check()
    page.click("#prefs-save")
    expect(page.locator("#prefs-status")).to_have_text("Saved")
    assert live.http.get("/api/v1/staff/FM01/notify-preferences").json()["channels"] == ["voice"]
