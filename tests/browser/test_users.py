"""The users page: an admin creates a user, sets the role, disables it; the user then cannot log in."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, SCREENSHOTS, Live, login


def test_an_admin_manages_users_from_the_page(new_page: Any, live: Live) -> None:
    live.user("root", role="admin")
    live.user("CA01", staff="CA01")
    page = new_page()
    login(page, "root")
    page.goto("/console")
    page.locator("a.navlink", has_text="用户管理").click()
    page.wait_for_url("**/admin/users")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    staff_row = page.locator("tr[data-user=CA01]")
    expect(staff_row.locator("select.role")).to_have_count(0)  # the role follows the staff record
    expect(staff_row).to_contain_text("代维")

    page.fill("#new-username", "ops1")
    page.select_option("#new-role", "dispatcher")
    page.fill("#new-password", PASSWORD)
    page.locator("#user-form button[type=submit]").click()
    row = page.locator("tr[data-user=ops1]")
    expect(row.locator("select.role")).to_have_value("dispatcher")
    row.locator("select.role").select_option("support")
    expect(page.locator(".toast").last).to_have_text("已完成")
    row.locator("button.toggle").click()
    expect(row.locator("td.active")).to_have_text("已停用")
    expect(row).to_have_class("off")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "users.png"))
    users = {u["username"]: u for u in live.http.get("/api/v1/admin/users").json()["items"]}
    assert users["ops1"]["role"] == "support" and users["ops1"]["active"] is False

    other = new_page()
    other.goto("/login")
    other.fill("input[name=username]", "ops1")
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    expect(other.locator(".error")).to_be_visible()

    dispatcher = new_page()
    live.user("D01", staff="D01")
    login(dispatcher, "D01")
    dispatcher.goto("/console")
    expect(dispatcher.locator("a.navlink", has_text="用户管理")).to_have_count(0)
    response = dispatcher.goto("/admin/users")
    assert response is not None and response.status == 403
