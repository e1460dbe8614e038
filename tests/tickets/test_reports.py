"""Customer reports (POST /api/v1/tickets; DOMAIN 5): linked to an open incident's ticket, else
their own ticket to the line's maintainer; never refused for an unknown customer (flagged for a
dispatcher instead); on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from linewatch.context import Context
from linewatch.inventory.models import Customer
from tests.conftest import ADMIN
from tests.tickets.helpers import (
    at,
    events,
    incidents,
    post_alarm,
    report,
    same,
    ticket,
    tickets,
    token_for,
)


def audit(client: TestClient, action: str) -> list[dict]:
    response = client.get("/api/v1/admin/audit", params={"object_type": "ticket"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["action"] == action]


@pytest.mark.parametrize("channel", ["10086-8", "400", "direct"])
def test_a_report_on_a_circuit_with_an_open_incident_is_linked_not_duplicated(
    small: Context, client: TestClient, channel: str
) -> None:
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    [auto] = tickets(client)
    support = token_for(client, "S01")
    response = report(
        client,
        support,
        channel=channel,
        customer="C001",
        circuit="FZ-C001-DATA-1",
        description="专线中断 line down",
        reported_at="2026-03-02T09:01:00+08:00",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["linked"] is True and body["id"] == auto["id"] and body["channel"] == "auto"
    assert [t["id"] for t in tickets(client)] == [auto["id"]]  # no second ticket
    [linked] = events(ticket(client, auto["id"]), "customer_report")
    assert linked["data"]["channel"] == channel and linked["data"]["circuit"] == "FZ-C001-DATA-1"
    assert linked["actor"] == "token:S01" and linked["note"] == "专线中断 line down"
    assert same(linked["data"]["reported_at"], at(9, 1))
    [entry] = audit(client, "report")
    assert entry["object_key"] == str(auto["id"]) and entry["after"]["linked"] is True
    # a report naming only the customer finds the incident through the customer's lines
    again = report(client, channel=channel, customer="C001", description="又断了 still down")
    assert again.status_code == 200 and again.json()["id"] == auto["id"]
    assert len(events(ticket(client, auto["id"]), "customer_report")) == 2


def test_a_report_on_an_undispatched_incident_opens_its_ticket_and_later_reports_link_to_it(
    small: Context, client: TestClient
) -> None:
    post_alarm(client, small, ne="AGG-GL-2", object="GE0/2/5", type="LOS")  # C003: not auto-dispatched
    [incident] = incidents(client)
    first = report(client, channel="400", customer="C003", circuit="FZ-C003-DATA-1")
    assert first.status_code == 201 and first.json()["linked"] is False
    assert first.json()["incident_id"] == incident["id"] and first.json()["channel"] == "400"
    assert first.json()["assignee"] == "CT-A" and first.json()["circuits"] == ["FZ-C003-DATA-1"]
    second = report(client, channel="direct", customer="C003", circuit="FZ-C003-DATA-1")
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert incidents(client)[0]["ticket_ids"] == [first.json()["id"]]


def test_a_report_on_a_quiet_circuit_opens_its_own_ticket_to_the_maintainer(
    small: Context, client: TestClient
) -> None:
    response = report(
        client, channel="direct", customer="C002", circuit="FZ-C002-INT-1", description="慢 slow"
    )
    assert response.status_code == 201, response.text
    got = response.json()
    assert got["linked"] is False and got["incident_id"] is None and got["flagged"] is None
    assert got["assignee"] == "CT-B" and got["customer"] == "C002" and got["channel"] == "direct"
    assert got["circuits"] == ["FZ-C002-INT-1"] and got["state"] == "dispatched" and got["track"] == "normal"
    [dispatched] = events(got, "dispatched")
    assert dispatched["data"]["team"] == "CT-B" and dispatched["data"]["channel"] == "direct"
    [entry] = audit(client, "dispatch")
    assert entry["object_key"] == str(got["id"]) and entry["after"]["team"] == "CT-B"
    # a customer with one line: the line is implied
    implied = report(client, customer="C003", description="医院专线 hospital line")
    assert implied.status_code == 201 and implied.json()["circuits"] == ["FZ-C003-DATA-1"]
    assert implied.json()["assignee"] == "CT-A" and implied.json()["flagged"] is None


def test_unknown_or_lineless_customers_are_accepted_and_flagged(small: Context, client: TestClient) -> None:
    with small.db.unit_of_work() as session:
        session.add(Customer(code="C004", name="新开户 new customer", level="normal", grade="silver"))
    cases = [
        ({"customer": "C999"}, "unknown customer", "C999", "SUPPORT"),
        ({"customer": "C004"}, "no known circuit", "C004", "SUPPORT"),
        ({"customer": "C002", "circuit": "FZ-NOPE"}, "unknown circuit", "C002", "CT-B"),  # C002's one line
        ({"customer": "C002", "circuit": "FZ-C003-DATA-1"}, "does not belong", "C002", "CT-A"),  # as named
        ({"customer": "C001"}, "which one is not known", "C001", "SUPPORT"),  # two lines, none named
    ]
    for body, why, customer, team in cases:
        response = report(client, description="报障 fault", **body)
        assert response.status_code == 201, (body, response.text)
        got = response.json()
        assert why in (got["flagged"] or ""), (body, got["flagged"])
        assert got["customer"] == customer and got["linked"] is False
        assert got["assignee"] == team, (body, got["assignee"])
    assert len(tickets(client)) == len(cases)
    assert tickets(client, customer="C999")[0]["circuits"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"channel": "email", "customer": "C002"}, 400),
        ({"channel": "auto", "customer": "C002"}, 400),
        ({"channel": "console", "customer": "C002"}, 400),
        ({"channel": "400", "customer": ""}, 422),
        ({"channel": "400"}, 422),
        ({"channel": "400", "customer": "C002", "reported_at": "yesterday"}, 400),
        ({"channel": "400", "customer": "C002", "extra": 1}, 422),
    ],
)
def test_bad_reports_are_refused_with_4xx(
    small: Context, client: TestClient, body: dict, status: int
) -> None:
    response = client.post("/api/v1/tickets", json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert tickets(client) == []
