"""Warned customers' tickets sort first wherever tickets are listed (DOMAIN 8): red, then orange,
then the rest, newest first within each, and the keyset cursor walks the tiers without gaps."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from linewatch.context import Context
from linewatch.inventory.models import Customer
from linewatch.reports.warnings import raise_warning
from tests.conftest import ADMIN
from tests.tickets.helpers import report


def warn(ctx: Context, code: str, level: str) -> None:
    with ctx.db.unit_of_work() as session:
        customer = session.scalars(select(Customer).where(Customer.code == code)).one()
        now = ctx.clock.now()
        raise_warning(session, ctx.policy, ctx.clock.tz, now, customer, level, "periodic", "test", {})


def listed(client: TestClient, **params: Any) -> Any:
    response = client.get("/api/v1/tickets", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def test_warned_customers_tickets_first_and_pages_hold_together(small: Context, client: TestClient) -> None:
    ids: dict[str, int] = {}
    for name, customer in (("c3a", "C003"), ("c2", "C002"), ("c1", "C001"), ("c3b", "C003")):
        response = report(client, customer=customer, description=f"{name} 断网")
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    plain = [t["id"] for t in listed(client)["items"]]
    assert plain == [ids["c3b"], ids["c1"], ids["c2"], ids["c3a"]]  # no warnings: newest first

    warn(small, "C003", "orange")
    warn(small, "C002", "red")
    everything = listed(client)["items"]
    expected = [ids["c2"], ids["c3b"], ids["c3a"], ids["c1"]]  # red C002, orange C003 (newest first), rest
    assert [t["id"] for t in everything] == expected
    assert [t["warning"] for t in everything] == ["red", "orange", "orange", None]

    walked: list[int] = []
    cursor = None
    while True:  # one ticket a page: every tier boundary is crossed through the cursor
        page = listed(client, limit=1, **({"cursor": cursor} if cursor else {}))
        walked += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == expected
    assert listed(client, customer="C003")["items"][0]["id"] == ids["c3b"]  # filters still apply
    bad = client.get("/api/v1/tickets", params={"cursor": "9:1"}, headers=ADMIN)
    assert bad.status_code == 400 and "cursor" in bad.text
