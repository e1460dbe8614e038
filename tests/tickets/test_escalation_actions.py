"""Acting on escalations: 技术支援 asked for from the ticket, escalations acknowledged by whom they reach."""

from __future__ import annotations

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN
from tests.tickets.helpers import advance_to, at, ok_event, outbox, ticket, token_for
from tests.tickets.test_timers import gold_report


def support(client: TestClient, ticket_id: int, headers: dict[str, str], note: str = "需要仪表 need an OTDR"):
    return client.post(f"/api/v1/tickets/{ticket_id}/support", json={"note": note}, headers=headers)


def ack(client: TestClient, ticket_id: int, headers: dict[str, str], level: str, note: str | None = None):
    body = {"level": level, "note": note} if note else {"level": level}
    return client.post(f"/api/v1/tickets/{ticket_id}/escalations/ack", json=body, headers=headers)


def test_a_contractor_asks_for_support_and_the_fault_manager_takes_it(
    small: Context, client: TestClient
) -> None:
    ticket_id = gold_report(client, small)  # C002's line, maintained by CT-B
    contractor, other, manager = (token_for(client, s) for s in ("CB01", "CA01", "FM01"))
    asked = support(client, ticket_id, contractor)
    assert asked.status_code == 201, asked.text
    [request] = asked.json()["support_requests"]
    assert request["by"] == "token:CB01" and request["note"] == "需要仪表 need an OTDR"
    assert request["level"] == "fault_manager" and request["acked"] is None
    assert asked.json()["escalations"] == []  # asked for, not a missed deadline
    [told] = outbox(small, "ticket.escalated", ticket_id)
    assert told.audience == {"roles": ["fault_manager"]}
    assert told.data["trigger"] == "request" and told.data["reason"] == "需要仪表 need an OTDR"

    again = support(client, ticket_id, contractor)
    assert again.status_code == 409 and "not yet acknowledged" in again.json()["error"]
    assert support(client, ticket_id, other).status_code == 404  # another team's ticket
    assert support(client, ticket_id, contractor, note=" ").status_code == 400
    assert ack(client, ticket_id, contractor, "fault_manager").status_code == 403  # not theirs to take

    taken = ack(client, ticket_id, manager, "fault_manager", note="马上到 on my way")
    assert taken.status_code == 200, taken.text
    acked = taken.json()["support_requests"][0]["acked"]
    assert acked["by"] == "token:FM01" and acked["note"] == "马上到 on my way"
    assert ack(client, ticket_id, manager, "fault_manager").status_code == 409  # nothing left open
    assert support(client, ticket_id, contractor).status_code == 201  # a new request may follow
    assert len(ticket(client, ticket_id)["support_requests"]) == 2


def test_escalations_are_acknowledged_rung_by_rung(small: Context, client: TestClient) -> None:
    ticket_id = gold_report(client, small)  # reported 09:00; gold: locate 2 h, ladder 2.5 / 3 / 4 h
    manager, l3 = token_for(client, "FM01"), token_for(client, "M301")
    assert ack(client, ticket_id, manager, "fault_manager").status_code == 409  # nothing escalated yet
    advance_to(client, small, at(11, 0))  # not located: 技术支援 from the fault manager
    got = ack(client, ticket_id, manager, "fault_manager")
    assert got.status_code == 200, got.text
    [first] = got.json()["escalations"]
    assert first["level"] == "fault_manager" and first["acked"]["by"] == "token:FM01"

    advance_to(
        client, small, at(12, 0)
    )  # repair ladder: fault manager at 11:30, third-level manager at 12:00
    open_ones = [e for e in ticket(client, ticket_id)["escalations"] if e["acked"] is None]
    assert [e["level"] for e in open_ones] == ["fault_manager", "manager_l3"]
    assert ack(client, ticket_id, l3, "leader").status_code == 409  # the leader's rung has not come
    assert ack(client, ticket_id, l3, "emperor").status_code == 400
    assert ack(client, ticket_id, l3, "manager_l3").status_code == 200
    still = [e["level"] for e in ticket(client, ticket_id)["escalations"] if e["acked"] is None]
    assert still == ["fault_manager"]  # the second fault-manager rung waits for the fault manager

    ok_event(client, ticket_id, type="recovered")
    late = support(client, ticket_id, ADMIN)
    assert late.status_code == 409 and "recovered" in late.json()["error"]
    events = [e["type"] for e in ticket(client, ticket_id)["events"]]
    assert events.count("escalation_ack") == 2
