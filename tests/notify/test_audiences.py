"""Audiences resolved at send time beyond roles: an assurance period's team (重保值班) by its shifts,
falling back to the duty roles when the team has nobody on duty."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from linewatch.context import Context
from linewatch.inventory.models import Customer, Staff
from linewatch.notify.models import Notification
from tests.conftest import ADMIN
from tests.cutovers.helpers import in_window
from tests.tickets.helpers import advance_to, post_alarm

C003_LOS = {"ne": "AGG-GL-2", "object": "GE0/2/5", "type": "LOS"}  # FZ-C003-DATA-1 only


def period(client: TestClient, expect: int = 201, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "青运会重保",
        "level": 2,
        "start": in_window(0).isoformat(),
        "end": in_window(23, 59).isoformat(),
        "scope": {"circuits": ["FZ-C003-DATA-1"]},
        **changes,
    }
    response = client.post("/api/v1/assurance", json=body, headers=ADMIN)
    assert response.status_code == expect, response.text
    return response.json()


def told(ctx: Context, kind: str = "incident.assurance") -> list[tuple[int | None, str, str]]:
    """(incident, staff code, text) of every outbox row of that kind."""
    with ctx.db.reading() as session:
        rows = session.execute(
            select(Notification.incident_id, Staff.code, Notification.text)
            .join(Staff, Staff.id == Notification.staff_id)
            .where(Notification.kind == kind)
            .order_by(Notification.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_fault_in_scope_reaches_the_period_team_on_duty_then(small: Context, client: TestClient) -> None:
    got = period(
        client,
        team=[
            {"staff": "S01", "start": in_window(0).isoformat(), "end": in_window(12).isoformat()},
            {"staff": "M301", "start": in_window(12).isoformat()},
        ],
    )
    assert [m["staff"] for m in got["team"]] == ["S01", "M301"]
    assert client.get(f"/api/v1/assurance/{got['id']}", headers=ADMIN).json()["team"] == got["team"]
    advance_to(client, small, in_window(9))
    post_alarm(client, small, **C003_LOS)
    morning = told(small)
    assert [(code) for _, code, _ in morning] == ["S01"]  # only the morning shift of the team
    incident, _, text = morning[0]
    assert text.startswith("【") and "重保故障" in text and "青运会重保" in text
    post_alarm(client, small, **C003_LOS, severity="cleared")
    advance_to(client, small, in_window(13))
    post_alarm(client, small, **C003_LOS)
    afternoon = [(i, code) for i, code, _ in told(small) if i != incident]
    assert [code for _, code in afternoon] == ["M301"]  # the afternoon shift, resolved when sent


def test_a_period_without_a_team_falls_back_to_the_duty_roles(small: Context, client: TestClient) -> None:
    period(client)
    advance_to(client, small, in_window(9))
    post_alarm(client, small, **C003_LOS)
    with small.db.reading() as session:
        roles = set(
            session.scalars(select(Staff.code).where(Staff.role.in_(["fault_manager", "dispatcher"])))
        )
    assert {code for _, code, _ in told(small)} == roles and roles


def test_team_validation_names_the_problem(small: Context, client: TestClient) -> None:
    bad = period(client, expect=422, team=[{"staff": "NOBODY"}])
    assert "NOBODY" in bad["error"]
    late = period(
        client, expect=422, team=[{"staff": "S01", "start": in_window(0, 30).replace(day=12).isoformat()}]
    )
    assert "inside the period" in late["error"]


def test_an_early_warning_reaches_the_account_manager_in_one_sms(small: Context, client: TestClient) -> None:
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")  # urgent on C001: real-time red
    with small.db.reading() as session:
        manager = session.scalar(
            select(Staff.code)
            .join(Customer, Customer.account_manager_id == Staff.id)
            .where(Customer.code == "C001")
        )
        name = session.scalar(select(Customer.name).where(Customer.code == "C001"))
    texts = {code: text for _, code, text in told(small, "customer.warning")}
    assert manager in texts
    assert texts[manager].startswith(f"【红色预警】{name},紧急故障,走访限03-04,预警")
    assert len(texts[manager]) <= 70  # one UCS-2 SMS
