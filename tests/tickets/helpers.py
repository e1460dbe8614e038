"""Helpers for the ticket tests: drive the API and the manual clock, read events, outbox and timers.

The small network (tests/fixtures/inventory/small): C001 (provincial, gold grade, AM01) has
FZ-C001-DATA-1 (AAA, dual-routed) and FZ-C001-VOICE-1 (AA, on NGN-1); C002 (normal, standard,
AM02) has FZ-C002-INT-1 (normal assurance, PON, maintained by CT-B); C003 (municipal key,
diamond, AM01) has FZ-C003-DATA-1 (A, branch, not handed over, CT-A, via AGG-GL-2:GE0/2/5).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from linewatch.context import Context
from linewatch.db.outbox import NotificationRequest
from linewatch.db.timers import Timer
from linewatch.inventory.models import Circuit, Customer
from tests.conftest import ADMIN, START, TZ, bearer


def at(hh: int, mm: int = 0, ss: int = 0, day: int = 2) -> datetime:
    """A local (Asia/Shanghai) time in the test week: day 2 is Monday 2026-03-02."""
    return datetime(2026, 3, day, hh, mm, ss, tzinfo=TZ)


def same(text: str | None, when: datetime) -> bool:
    """An API time (RFC 3339, any offset) is this instant."""
    return text is not None and datetime.fromisoformat(text) == when


def post_alarm(client: TestClient, ctx: Context, **alarm: Any) -> None:
    body = {"source": "ems", "severity": "critical", **alarm}
    response = client.post("/api/v1/alarms", json=body, headers=ADMIN)
    assert response.status_code == 202, response.text
    ctx.settle()


def incidents(client: TestClient, state: str = "open") -> list[dict[str, Any]]:
    response = client.get("/api/v1/incidents", params={"state": state}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def tickets(client: TestClient, headers: dict[str, str] = ADMIN, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/tickets", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def ticket(client: TestClient, ticket_id: int, headers: dict[str, str] = ADMIN) -> dict[str, Any]:
    response = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def event(client: TestClient, ticket_id: int, headers: dict[str, str] = ADMIN, **body: Any) -> Any:
    return client.post(f"/api/v1/tickets/{ticket_id}/events", json=body, headers=headers)


def ok_event(client: TestClient, ticket_id: int, **body: Any) -> dict[str, Any]:
    response = event(client, ticket_id, **body)
    assert response.status_code == 200, response.text
    return response.json()


def report(client: TestClient, headers: dict[str, str] = ADMIN, **body: Any) -> Any:
    return client.post("/api/v1/tickets", json={"channel": "10086-8", **body}, headers=headers)


def advance(client: TestClient, ctx: Context, seconds: float) -> None:
    response = client.post("/api/v1/admin/clock", json={"advance_seconds": seconds}, headers=ADMIN)
    assert response.status_code == 200, response.text
    ctx.settle()


def set_clock(client: TestClient, ctx: Context, when: datetime) -> None:
    response = client.post("/api/v1/admin/clock", json={"set": when.isoformat()}, headers=ADMIN)
    assert response.status_code == 200, response.text
    ctx.settle()


def advance_to(client: TestClient, ctx: Context, when: datetime) -> None:
    assert when >= ctx.clock.now(), (when, ctx.clock.now())
    advance(client, ctx, (when - ctx.clock.now()).total_seconds())


def token_for(client: TestClient, staff: str) -> dict[str, str]:
    response = client.post("/api/v1/admin/tokens", json={"staff": staff}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def ingest_token(client: TestClient) -> dict[str, str]:
    response = client.post("/api/v1/admin/tokens", json={"kind": "ingest", "name": "ems"}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def events(data: dict[str, Any], *types: str) -> list[dict[str, Any]]:
    return [e for e in data["events"] if not types or e["type"] in types]


def outbox(ctx: Context, kind: str | None = None, ticket_id: int | None = None) -> list[NotificationRequest]:
    with ctx.db.reading() as session:
        query = select(NotificationRequest).order_by(NotificationRequest.id)
        if kind:
            query = query.where(NotificationRequest.kind == kind)
        if ticket_id is not None:
            query = query.where(NotificationRequest.ticket_id == ticket_id)
        rows = list(session.scalars(query))
        session.expunge_all()  # detached with their loaded values (reading() rolls back)
        return rows


def timer_rows(ctx: Context, ticket_id: int | None = None) -> list[Timer]:
    with ctx.db.reading() as session:
        query = select(Timer).where(Timer.owner == "ticket").order_by(Timer.due_at, Timer.id)
        if ticket_id is not None:
            query = query.where(Timer.owner_id == ticket_id)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def set_grade(ctx: Context, customer: str, grade: str) -> None:
    with ctx.db.unit_of_work() as session:
        session.execute(update(Customer).where(Customer.code == customer).values(grade=grade))


def set_assurance(ctx: Context, circuit: str, assurance: str) -> None:
    with ctx.db.unit_of_work() as session:
        session.execute(update(Circuit).where(Circuit.code == circuit).values(assurance=assurance))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


__all__ = ["ADMIN", "START", "TZ"]
