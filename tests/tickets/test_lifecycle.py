"""The ticket lifecycle through POST /api/v1/tickets/{id}/events (DOMAIN 5): milestones, automatic
and confirmed recovery, the closing rules, reopen, transfer, notes, and the audit of every step;
on the manual clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN
from tests.tickets.helpers import (
    START,
    advance,
    advance_to,
    at,
    event,
    events,
    ok_event,
    outbox,
    post_alarm,
    report,
    same,
    ticket,
    tickets,
    timer_rows,
    token_for,
)

CLOSE = {"type": "close", "cause": "fibre_cut", "resolution": "熔接 spliced the fibre"}


def auto_ticket(client: TestClient, ctx: Context) -> dict:
    post_alarm(client, ctx, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    [got] = tickets(client)
    return got


def quiet_report(client: TestClient) -> int:
    response = report(client, customer="C002", circuit="FZ-C002-INT-1", description="断网 down")
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_milestones_move_the_state_in_order_and_are_set_once(small: Context, client: TestClient) -> None:
    ticket_id = auto_ticket(client, small)["id"]
    contractor = token_for(client, "CA01")
    for minute, kind, state in [
        (3, "accept", "accepted"),
        (12, "contact", "contacted"),
        (40, "on_site", "on_site"),
        (70, "located", "located"),
    ]:
        advance_to(client, small, START + timedelta(minutes=minute))
        response = event(client, ticket_id, contractor, type=kind, note=f"{kind} 备注")
        assert response.status_code == 200, response.text
        got = response.json()
        assert got["state"] == state and same(got["milestones"][state], START + timedelta(minutes=minute))
    assert event(client, ticket_id, contractor, type="accept").status_code == 409  # once
    assert event(client, ticket_id, contractor, type="dance").status_code == 400
    future = (small.clock.now() + timedelta(minutes=10)).isoformat()
    assert event(client, ticket_id, contractor, type="note", note="later", at=future).status_code == 400
    # a milestone may be dated in the past (the engineer reports it late)
    got = ticket(client, ticket_id)
    assert got["breaches"] == [] and got["escalations"] == []  # every milestone in time (gold)
    assert [e["type"] for e in events(got)][:3] == ["dispatched", "accepted", "note"]
    assert all(e["actor"] == "token:CA01" for e in events(got, "accepted", "contacted", "on_site", "located"))
    # the reached milestones' deadline timers are cancelled, not fired
    outcomes = {t.kind: t.outcome for t in timer_rows(small, ticket_id) if t.kind.startswith("deadline:")}
    assert {k: outcomes[k] for k in ("deadline:accept", "deadline:contact", "deadline:on_site")} == {
        "deadline:accept": "cancelled",
        "deadline:contact": "cancelled",
        "deadline:on_site": "cancelled",
    }


def test_recovery_is_set_when_the_incident_no_longer_impacts_any_of_the_tickets_circuits(
    small: Context, client: TestClient
) -> None:
    got = auto_ticket(client, small)  # FZ-C001-DATA-1 (degraded) and FZ-C001-VOICE-1 (down)
    post_alarm(client, small, ne="ACC-GL-1", object="GE0/1/1", type="LOS")  # the voice line's access port
    assert [i for i in ticket(client, got["id"])["circuits"]] == ["FZ-C001-DATA-1", "FZ-C001-VOICE-1"]
    advance(client, small, 600)
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS", severity="cleared")
    assert ticket(client, got["id"])["milestones"]["recovered"] is None  # the voice line is still down
    advance(client, small, 600)
    post_alarm(client, small, ne="ACC-GL-1", object="GE0/1/1", type="LOS", severity="cleared")
    after = ticket(client, got["id"])
    assert same(after["milestones"]["recovered"], at(9, 20)) and after["recovered_by"] == "incident"
    assert after["state"] == "recovered"
    [recovered] = events(after, "recovered")
    assert recovered["actor"] == "incident"
    # recovery stops the repair clock: no escalation, no recovery breach, no more reminders
    advance_to(client, small, at(23))
    late = ticket(client, got["id"])
    assert late["escalations"] == [] and "recover" not in late["breaches"]
    assert events(late, "progress_due") == []
    # confirming by hand what the incident already set is refused
    assert event(client, got["id"], type="recovered").status_code == 409


def test_recovery_confirmed_by_hand(small: Context, client: TestClient) -> None:
    ticket_id = quiet_report(client)  # no incident: nothing sets it automatically
    contractor = token_for(client, "CB01")
    advance(client, small, 1800)
    got = event(client, ticket_id, contractor, type="recovered", note="重启光猫 restarted the ONU").json()
    assert got["state"] == "recovered" and got["recovered_by"] == "token:CB01"
    assert same(got["milestones"]["recovered"], at(9, 30))


def test_closing_needs_recovery_an_hour_of_observation_a_listed_cause_and_a_resolution(
    small: Context, client: TestClient
) -> None:
    ticket_id = quiet_report(client)
    refused = event(client, ticket_id, **CLOSE)
    assert refused.status_code == 409 and "recovery" in refused.json()["error"]
    ok_event(client, ticket_id, type="recovered")  # 09:00
    advance_to(client, small, at(9, 59, 59))
    refused = event(client, ticket_id, **CLOSE)
    assert refused.status_code == 409
    assert same(refused.json()["detail"]["close_after"], at(10))
    # dating the close ahead (the allowed few minutes of skew) does not shorten the observation
    ahead = event(client, ticket_id, **CLOSE, at=at(10, 3).isoformat())
    assert ahead.status_code == 409
    advance_to(client, small, at(10))
    for bad in (
        {"type": "close"},
        {"type": "close", "cause": "fibre_cut"},
        {"type": "close", "resolution": "fixed"},
        {"type": "close", "cause": "gremlins", "resolution": "fixed"},
    ):
        response = event(client, ticket_id, **bad)
        assert response.status_code == 400, (bad, response.text)
    assert ticket(client, ticket_id)["state"] == "recovered"
    got = ok_event(client, ticket_id, **CLOSE)
    assert (
        got["state"] == "closed" and got["cause"] == "fibre_cut" and same(got["milestones"]["closed"], at(10))
    )
    assert got["resolution"] == "熔接 spliced the fibre"
    assert all(t.fired_at is not None for t in timer_rows(small, ticket_id))  # nothing left to fire
    # a closed ticket takes notes and reopen only
    assert event(client, ticket_id, type="accept").status_code == 409
    assert event(client, ticket_id, type="suspend", note="x").status_code == 409
    assert event(client, ticket_id, **CLOSE).status_code == 409
    assert event(client, ticket_id, type="note", note="客户确认 customer confirmed").status_code == 200


def test_close_by_cause_label_in_chinese(small: Context, client: TestClient) -> None:
    ticket_id = quiet_report(client)
    ok_event(client, ticket_id, type="recovered")
    advance(client, small, 3600)
    got = ok_event(client, ticket_id, type="close", cause="客户设备", resolution="客户更换路由器 new router")
    assert got["cause"] == "customer_equipment"


def test_reopen_clears_recovery_and_closing_and_restarts_the_clocks(
    small: Context, client: TestClient
) -> None:
    ticket_id = quiet_report(client)
    assert event(client, ticket_id, type="reopen").status_code == 409  # neither recovered nor closed
    ok_event(client, ticket_id, type="accept")
    ok_event(client, ticket_id, type="recovered")
    advance(client, small, 3600)
    ok_event(client, ticket_id, **CLOSE)
    advance(client, small, 1800)  # 10:30: the fault is back
    got = ok_event(client, ticket_id, type="reopen", note="又断了 down again")
    assert got["state"] == "accepted" and got["milestones"]["recovered"] is None
    assert got["milestones"]["closed"] is None and got["cause"] is None
    assert same(got["milestones"]["accepted"], at(9))  # what was reached before stays
    [reopened] = events(got, "reopened")
    assert reopened["note"] == "又断了 down again"
    pending = {t.kind for t in timer_rows(small, ticket_id) if t.fired_at is None}
    assert {"deadline:recover", "escalate:leader", "progress"} <= pending
    advance(client, small, 3600)
    assert len(events(ticket(client, ticket_id), "progress_due")) == 1  # reminders again until recovered
    ok_event(client, ticket_id, type="recovered")
    advance(client, small, 3600)
    assert ok_event(client, ticket_id, **CLOSE)["state"] == "closed"


def test_transfer_hands_the_ticket_to_another_team(small: Context, client: TestClient) -> None:
    ticket_id = auto_ticket(client, small)["id"]
    assert event(client, ticket_id, type="transfer").status_code == 400  # needs a team
    assert event(client, ticket_id, type="transfer", team="NOPE").status_code == 400
    dispatcher = token_for(client, "D01")
    got = event(
        client, ticket_id, dispatcher, type="transfer", team="TRANS", note="传输问题 transmission"
    ).json()
    assert got["assignee"] == "TRANS"
    [moved] = events(got, "transferred")
    assert moved["data"] == {"from": "CT-A", "to": "TRANS"} and moved["actor"] == "token:D01"
    assert [r.audience for r in outbox(small, "ticket.dispatched", ticket_id)] == [
        {"teams": ["CT-A"]},
        {"teams": ["TRANS"]},
    ]
    # the new team's breaches and escalations name it
    advance_to(client, small, at(9, 10))
    [breach] = outbox(small, "ticket.breach", ticket_id)
    assert breach.audience == {"teams": ["TRANS"]} and breach.data["deadline"] == "accept"


def test_notes_need_text_and_are_kept_with_their_author(small: Context, client: TestClient) -> None:
    ticket_id = quiet_report(client)
    assert event(client, ticket_id, type="note").status_code == 400
    assert event(client, ticket_id, type="note", note="").status_code == 400
    contractor = token_for(client, "CB01")
    event(client, ticket_id, contractor, type="note", note="已约客户下午 appointment this afternoon")
    [note] = events(ticket(client, ticket_id), "note")
    assert note["actor"] == "token:CB01" and note["note"] == "已约客户下午 appointment this afternoon"
    assert same(note["at"], START)


def test_every_action_is_audited_with_actor_and_time(small: Context, client: TestClient) -> None:
    ticket_id = quiet_report(client)
    contractor = token_for(client, "CB01")
    steps = [
        ({"type": "accept"}, contractor),
        ({"type": "note", "note": "路上 on the way"}, contractor),
        ({"type": "suspend", "note": "客户不在 customer away"}, contractor),
        ({"type": "resume"}, contractor),
        ({"type": "transfer", "team": "SUPPORT"}, ADMIN),
        ({"type": "recovered"}, ADMIN),
    ]
    for body, headers in steps:
        advance(client, small, 60)
        assert event(client, ticket_id, headers, **body).status_code == 200, body
    response = client.get("/api/v1/admin/audit", params={"object_type": "ticket", "limit": 50}, headers=ADMIN)
    entries = [e for e in reversed(response.json()["items"]) if e["object_key"] == str(ticket_id)]
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("dispatch", "admin-token"),
        ("accept", "token:CB01"),
        ("note", "token:CB01"),
        ("suspend", "token:CB01"),
        ("resume", "token:CB01"),
        ("transfer", "admin-token"),
        ("recovered", "admin-token"),
    ]
    assert [datetime.fromisoformat(e["at"]) for e in entries] == [
        START + timedelta(minutes=m) for m in range(7)
    ]
    assert entries[3]["before"] == {"state": "accepted"} and entries[3]["after"] == {"state": "suspended"}
    assert entries[3]["note"] == "客户不在 customer away"


@pytest.mark.parametrize("kind", ["accept", "contact", "on_site", "located", "recovered"])
def test_milestones_wait_while_suspended(small: Context, client: TestClient, kind: str) -> None:
    ticket_id = quiet_report(client)
    ok_event(client, ticket_id, type="suspend", note="客户要求 customer's request")
    assert event(client, ticket_id, type=kind).status_code == 409
    ok_event(client, ticket_id, type="resume")
    assert event(client, ticket_id, type=kind).status_code == 200
