"""Report page: figures and inline-SVG charts for the fixture month, drill-down to the rows behind
a number, filters, Excel links, print layout, reader scoping; warned tickets first on the desk."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, Live, login
from tests.reports.test_monthly import build_month
from tests.reports.test_warned_first import warn
from tests.tickets.helpers import report


def march_report(new_page: Any, username: str) -> Any:
    """The report page of 2026-03 as ``username`` sees it (the page opens on the clock's month)."""
    page = new_page()
    login(page, username)
    page.goto("/reports")
    page.fill("#f-month", "2026-03")
    page.click("#apply")
    expect(page.locator("#period-label")).to_have_text("2026-03-01..2026-03-31")
    return page


def test_the_monthly_report_page_charts_drills_filters_and_prints(new_page: Any, live: Live) -> None:
    ids = build_month(live.ctx, live.http)  # type: ignore[arg-type]  # httpx speaks TestClient's API
    live.user("boss", role="leader")
    page = march_report(new_page, "boss")
    expect(page.locator(".tile[data-view=faults] .num")).to_have_text("3")
    expect(page.locator("#trend-title")).to_have_text("按日统计")
    expect(page.locator("#chart-trend svg a.bar")).to_have_count(31)
    # by region: GL 2, TJ 1, drawn by our own SVG; the GL bar opens its faults.
    bars = page.locator("#chart-region svg a.bar")
    expect(bars).to_have_count(2)
    expect(bars.first).to_contain_text("GL")
    bars.first.click()
    expect(page.locator("#drill")).to_be_visible()
    expect(page.locator("#drill-rows tr")).to_have_count(2)
    expect(page.locator("#drill-rows")).to_contain_text(f"#{ids['F1']}")
    expect(page.locator("#drill-rows")).to_contain_text(f"#{ids['F5']}")
    # SLA contact 25 %: its rows are the four tickets counted.
    contact = page.locator("#sla-rows tr[data-deadline=contact] a.count").first
    expect(contact).to_have_text("25.00%")
    contact.click()
    expect(page.locator("#drill-rows tr")).to_have_count(4)
    expect(page.locator("#league-rows tr")).to_have_count(3)
    expect(page.locator("#chart-cause svg")).to_contain_text("光缆中断")  # cause labels in Chinese
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "reports.png"), full_page=True)

    # Excel: one link for the filtered statistics, one for the month's report.
    page.fill("#f-region", "TJ")
    page.click("#apply")
    expect(page.locator(".tile[data-view=faults] .num")).to_have_text("1")
    href = page.locator("#export").get_attribute("href")
    assert href and "format=xlsx" in href and "region=TJ" in href
    monthly = page.locator("#export-monthly").get_attribute("href")
    assert monthly and "/api/v1/reports/monthly?" in monthly and "month=2026-03" in monthly
    xlsx = page.request.get(href)
    assert xlsx.status == 200 and xlsx.body()[:2] == b"PK"

    # Printable: the navigation, the form and the buttons are not on paper.
    page.emulate_media(media="print")
    expect(page.locator("header.bar")).to_be_hidden()
    expect(page.locator("#report-filters")).to_be_hidden()
    expect(page.locator("#chart-region svg")).to_be_visible()
    page.emulate_media(media="screen")

    # An account manager sees only their own customers' figures.
    live.user("AM02", staff="AM02")
    manager = march_report(new_page, "AM02")
    expect(manager.locator(".tile[data-view=faults] .num")).to_have_text("1")
    expect(manager.locator("#chart-customers svg a.bar")).to_have_count(1)
    expect(manager.locator("#chart-customers svg")).to_contain_text("C002")


def test_the_ticket_desk_lists_warned_customers_first(new_page: Any, live: Live) -> None:
    for customer in ("C002", "C001", "C003"):
        assert report(live.http, customer=customer, description="断网").status_code == 201  # type: ignore[arg-type]
    warn(live.ctx, "C002", "red")
    live.user("d1", role="dispatcher")
    page = new_page()
    login(page, "d1")
    page.goto("/tickets")
    rows = page.locator("#ticket-rows tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("C002")
    expect(rows.first.locator(".warn-red")).to_have_text("红色预警")
    expect(rows.nth(1)).to_contain_text("C003")  # then newest first
    expect(page.locator("#ticket-rows .warn")).to_have_count(1)
