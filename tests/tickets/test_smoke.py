"""Tickets end to end on the small network: auto-dispatch, milestones, timers, close (both databases)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN


def post_alarm(client: TestClient, ctx: Context, **alarm: Any) -> None:
    body = {"source": "ems", "severity": "critical", **alarm}
    assert client.post("/api/v1/alarms", json=body, headers=ADMIN).status_code == 202
    ctx.settle()


def tickets(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/tickets", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def event(client: TestClient, ticket_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/tickets/{ticket_id}/events", json=body, headers=ADMIN)


def advance(client: TestClient, ctx: Context, seconds: float) -> None:
    assert (
        client.post("/api/v1/admin/clock", json={"advance_seconds": seconds}, headers=ADMIN).status_code
        == 200
    )
    ctx.settle()


def test_urgent_fault_is_dispatched_timed_and_closed(small: Context, client: TestClient) -> None:
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    [ticket] = tickets(client)
    assert ticket["channel"] == "auto" and ticket["assignee"] == "CT-A" and ticket["track"] == "gold"
    assert ticket["circuits"] == ["FZ-C001-DATA-1", "FZ-C001-VOICE-1"]
    assert ticket["deadlines"]["accept"] == "2026-03-02T01:10:00+00:00"
    assert ticket["deadlines"]["recover"] == "2026-03-02T03:00:00+00:00"  # AAA: 2 h
    assert event(client, ticket["id"], type="accept").status_code == 200
    advance(client, small, 31 * 60)  # contact deadline (30 min) passes unmet: a breach
    got = client.get(f"/api/v1/tickets/{ticket['id']}", headers=ADMIN).json()
    assert got["breaches"] == ["contact"] and got["milestones"]["accepted"]
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS", severity="cleared")
    got = client.get(f"/api/v1/tickets/{ticket['id']}", headers=ADMIN).json()
    assert got["milestones"]["recovered"] and got["recovered_by"] == "incident"
    refused = event(client, ticket["id"], type="close", cause="fibre_cut", resolution="熔接 spliced")
    assert refused.status_code == 409
    advance(client, small, 3600)
    closed = event(client, ticket["id"], type="close", cause="fibre_cut", resolution="熔接 spliced")
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"


def test_breaches_are_counted_per_contractor(small: Context, client: TestClient) -> None:
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    advance(client, small, 31 * 60)  # accept (10 min) and contact (30 min) pass unmet
    counts = client.get(
        "/api/v1/tickets/breaches",
        params={"since": "2026-03-01T00:00:00+08:00", "until": "2026-04-01T00:00:00+08:00"},
        headers=ADMIN,
    )
    assert counts.status_code == 200, counts.text
    assert counts.json()["by_team"] == {"CT-A": {"breach:accept": 1, "breach:contact": 1, "total": 2}}


def test_a_report_before_the_alarm_becomes_the_incidents_ticket(small: Context, client: TestClient) -> None:
    report = {"channel": "400", "customer": "C003", "circuit": "FZ-C003-DATA-1", "description": "专线不通"}
    created = client.post("/api/v1/tickets", json=report, headers=ADMIN)
    assert created.status_code == 201, created.text
    post_alarm(client, small, ne="AGG-GL-2", object="GE0/2/5", type="LOS")
    [incident] = client.get("/api/v1/incidents", headers=ADMIN).json()["items"]
    assert incident["ticket_ids"] == [created.json()["id"]]  # linked, not a second ticket
    assert len(tickets(client)) == 1
