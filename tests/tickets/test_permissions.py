"""Who may read and act on tickets (INTERFACES "Access"): a contractor its own team's tickets only,
an account manager reads its own customers' tickets and acts on none, ingest tokens nothing;
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN
from tests.tickets.helpers import event, ingest_token, post_alarm, report, tickets, token_for


@pytest.fixture
def two_tickets(small: Context, client: TestClient) -> tuple[int, int]:
    """One ticket of CT-A (C001, auto-dispatched) and one of CT-B (C002, reported)."""
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    [ct_a] = tickets(client)
    response = report(client, customer="C002", circuit="FZ-C002-INT-1")
    assert response.status_code == 201 and response.json()["assignee"] == "CT-B"
    return ct_a["id"], response.json()["id"]


def test_a_contractor_sees_and_works_its_own_teams_tickets_only(
    client: TestClient, two_tickets: tuple[int, int]
) -> None:
    ct_a, ct_b = two_tickets
    ca01 = token_for(client, "CA01")
    assert client.get(f"/api/v1/tickets/{ct_b}", headers=ca01).status_code == 404
    assert event(client, ct_b, ca01, type="accept").status_code == 404
    assert event(client, ct_b, ca01, type="note", note="peek").status_code == 404
    assert client.get(f"/api/v1/tickets/{ct_a}", headers=ca01).status_code == 200
    assert event(client, ct_a, ca01, type="accept").status_code == 200
    assert [t["id"] for t in tickets(client, ca01)] == [ct_a]
    assert tickets(client, ca01, team="CT-B") == []
    # CT-B's contractor: the mirror image
    cb01 = token_for(client, "CB01")
    assert [t["id"] for t in tickets(client, cb01)] == [ct_b]
    assert event(client, ct_a, cb01, type="accept").status_code == 404
    # handing a ticket over moves it out of the first contractor's reach
    assert event(client, ct_a, ca01, type="transfer", team="CT-B", note="台江片区").status_code == 200
    assert client.get(f"/api/v1/tickets/{ct_a}", headers=ca01).status_code == 404
    assert sorted(t["id"] for t in tickets(client, cb01)) == sorted([ct_a, ct_b])


def test_contractors_neither_take_reports_nor_dispatch_nor_diagnose(
    client: TestClient, two_tickets: tuple[int, int]
) -> None:
    ca01 = token_for(client, "CA01")
    assert report(client, ca01, customer="C001", circuit="FZ-C001-DATA-1").status_code == 403
    incident_id = client.get("/api/v1/incidents", headers=ADMIN).json()["items"][0]["id"]
    assert client.post(f"/api/v1/incidents/{incident_id}/dispatch", json={}, headers=ca01).status_code == 403
    diagnosis = client.post(
        f"/api/v1/incidents/{incident_id}/diagnosis", json={"category": "network"}, headers=ca01
    )
    assert diagnosis.status_code == 403


def test_an_account_manager_reads_its_customers_tickets_and_cannot_act(
    client: TestClient, two_tickets: tuple[int, int]
) -> None:
    c001, c002 = two_tickets
    am01 = token_for(client, "AM01")  # C001 and C003
    assert client.get(f"/api/v1/tickets/{c001}", headers=am01).status_code == 200
    assert client.get(f"/api/v1/tickets/{c002}", headers=am01).status_code == 404
    assert [t["id"] for t in tickets(client, am01)] == [c001]
    for body in (
        {"type": "accept"},
        {"type": "note", "note": "客户经理 note"},
        {"type": "transfer", "team": "CT-B"},
    ):
        response = event(client, c001, am01, **body)
        assert response.status_code == 403, (body, response.text)
    assert report(client, am01, customer="C001", circuit="FZ-C001-DATA-1").status_code == 403
    am02 = token_for(client, "AM02")  # C002
    assert [t["id"] for t in tickets(client, am02)] == [c002]
    assert event(client, c002, am02, type="accept").status_code == 403


def test_ingest_tokens_and_anonymous_callers_are_refused(
    client: TestClient, two_tickets: tuple[int, int]
) -> None:
    ticket_id = two_tickets[0]
    ingest = ingest_token(client)
    assert client.get("/api/v1/tickets", headers=ingest).status_code == 403
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=ingest).status_code == 403
    assert event(client, ticket_id, ingest, type="accept").status_code == 403
    assert report(client, ingest, customer="C001").status_code == 403
    assert client.get("/api/v1/tickets").status_code == 401
    assert client.post(f"/api/v1/tickets/{ticket_id}/events", json={"type": "accept"}).status_code == 401


@pytest.mark.parametrize("staff", ["D01", "S01", "E01", "FM01"])
def test_duty_staff_work_any_ticket(client: TestClient, two_tickets: tuple[int, int], staff: str) -> None:
    headers = token_for(client, staff)
    assert len(tickets(client, headers)) == 2
    for ticket_id in two_tickets:
        assert event(client, ticket_id, headers, type="note", note=f"{staff} 看过").status_code == 200
