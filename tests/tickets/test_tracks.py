"""SLA tracks and assurance levels, driven by the manual clock (DOMAIN 5), on SQLite and PostgreSQL.

A customer report on the quiet line FZ-C002-INT-1 opens a ticket to CT-B at 09:00; changing
C002's grade or the line's assurance level selects the track and the recovery limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.tickets.helpers import (
    START,
    advance_to,
    at,
    event,
    events,
    ok_event,
    outbox,
    post_alarm,
    report,
    same,
    set_assurance,
    set_grade,
    ticket,
    tickets,
)

# minutes from dispatch: accept, contact, on site, locate; the repair ladder
TRACKS = {
    "gold": ({"accept": 10, "contact": 30, "on_site": 60, "locate": 120}, (150, 180, 240)),
    "silver": ({"accept": 10, "contact": 30, "on_site": 240, "locate": 300}, (360, 420, 480)),
    "normal": ({"accept": 10, "contact": 30, "on_site": 480, "locate": 540}, (600, 660, 720)),
}
GRADES = {"diamond": "gold", "gold": "gold", "silver": "silver", "bronze": "normal", "standard": "normal"}
LADDER = ("fault_manager", "manager_l3", "leader")


def open_report(client: TestClient) -> dict:
    response = report(client, customer="C002", circuit="FZ-C002-INT-1", description="上不了网 no internet")
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("grade", list(GRADES))
def test_track_and_deadlines_follow_the_customers_service_grade(
    small: Context, client: TestClient, grade: str
) -> None:
    set_grade(small, "C002", grade)
    got = open_report(client)
    track = GRADES[grade]
    assert got["track"] == track and got["assignee"] == "CT-B" and got["linked"] is False
    limits, _ = TRACKS[track]
    expected = {name: START + timedelta(minutes=m) for name, m in limits.items()}
    expected["recover"] = START + timedelta(hours=8)  # the line's assurance level is "normal"
    assert set(got["deadlines"]) == set(expected)
    for name, when in expected.items():
        assert same(got["deadlines"][name], when), (name, got["deadlines"][name])


@pytest.mark.parametrize("track", list(TRACKS))
def test_breaches_and_the_repair_ladder_fire_at_the_exact_policy_times(
    small: Context, client: TestClient, track: str
) -> None:
    set_grade(small, "C002", {"gold": "gold", "silver": "silver", "normal": "standard"}[track])
    ticket_id = open_report(client)["id"]
    limits, ladder = TRACKS[track]
    advance_to(client, small, START + timedelta(minutes=5))
    ok_event(client, ticket_id, type="accept")
    ok_event(client, ticket_id, type="contact", note="客户在场 customer on site")
    # what must happen, when: on-site and locate breaches, technical support at the locate deadline
    # (技术支援), the repair ladder, the recovery limit (8 h, normal assurance)
    due: list[tuple[datetime, str, str]] = [
        (START + timedelta(minutes=limits["on_site"]), "breach", "on_site"),
        (START + timedelta(minutes=limits["locate"]), "breach", "locate"),
        (START + timedelta(minutes=limits["locate"]), "escalation", "fault_manager/locate"),
        *(
            (START + timedelta(minutes=m), "escalation", f"{level}/repair")
            for m, level in zip(ladder, LADDER, strict=True)
        ),
        (START + timedelta(hours=8), "breach", "recover"),
    ]

    def happened(data: dict) -> dict[str, str]:
        out = {}
        for e in events(data, "breach", "escalation"):
            key = (
                e["data"]["deadline"]
                if e["type"] == "breach"
                else f"{e['data']['level']}/{e['data']['trigger']}"
            )
            out[key] = e["at"]
        return out

    for when in sorted({when for when, _, _ in due}):
        keys = [key for moment, _, key in due if moment == when]
        advance_to(client, small, when - timedelta(seconds=1))
        assert not set(keys) & set(happened(ticket(client, ticket_id))), (keys, "early")
        advance_to(client, small, when)
        seen = happened(ticket(client, ticket_id))
        for key in keys:
            assert key in seen and same(seen[key], when), (key, seen.get(key), when)
    got = ticket(client, ticket_id)
    assert sorted(got["breaches"]) == ["locate", "on_site", "recover"]  # accept and contact were in time
    assert [e["level"] for e in got["escalations"]] == ["fault_manager", *LADDER]
    # one notification request per escalation, to the rung's role, by SMS and phone
    rows = outbox(small, "ticket.escalated", ticket_id)
    assert [(r.data["level"], r.data["trigger"]) for r in rows] == [
        ("fault_manager", "locate"),
        *((level, "repair") for level in LADDER),
    ]
    assert [r.audience for r in rows] == [{"roles": [r.data["level"]]} for r in rows]
    assert all(r.channels == ["sms", "voice"] for r in rows)
    breaches = outbox(small, "ticket.breach", ticket_id)
    assert [r.data["deadline"] for r in breaches] == [key for _, kind, key in sorted(due) if kind == "breach"]
    assert all(r.audience == {"teams": ["CT-B"]} for r in breaches)


def test_a_located_and_recovered_ticket_stops_its_clocks(small: Context, client: TestClient) -> None:
    set_grade(small, "C002", "gold")
    ticket_id = open_report(client)["id"]
    for kind in ("accept", "contact", "on_site", "located"):
        ok_event(client, ticket_id, type=kind)
    advance_to(client, small, at(11, 30))  # the repair ladder's first rung
    assert [e["level"] for e in ticket(client, ticket_id)["escalations"]] == ["fault_manager"]
    ok_event(client, ticket_id, type="recovered", note="换光猫 ONU replaced")
    advance_to(client, small, at(23, 0))
    got = ticket(client, ticket_id)
    assert got["breaches"] == [] and [e["level"] for e in got["escalations"]] == ["fault_manager"]
    assert got["state"] == "recovered" and got["recovered_by"] == "admin-token"
    # hourly progress reminders stopped with the recovery: 10:00 and 11:00 only
    assert [datetime.fromisoformat(e["at"]) for e in events(got, "progress_due")] == [at(10), at(11)]


@pytest.mark.parametrize(("assurance", "hours"), [("AAA", 2), ("AA", 4), ("A", 6), ("normal", 8)])
def test_recovery_limit_by_assurance_level(
    small: Context, client: TestClient, assurance: str, hours: int
) -> None:
    set_assurance(small, "FZ-C002-INT-1", assurance)
    got = open_report(client)
    limit = START + timedelta(hours=hours)
    assert same(got["deadlines"]["recover"], limit)
    advance_to(client, small, limit - timedelta(seconds=1))
    assert "recover" not in ticket(client, got["id"])["breaches"]
    advance_to(client, small, limit)
    [breach] = [e for e in events(ticket(client, got["id"]), "breach") if e["data"]["deadline"] == "recover"]
    assert same(breach["at"], limit)


@pytest.mark.parametrize(
    ("data_assurance", "hours"), [("AAA", 2), ("normal", 4)]
)  # FZ-C001-VOICE-1 is AA (4 h)
def test_a_ticket_over_several_circuits_takes_the_earliest_recovery_limit(
    small: Context, client: TestClient, data_assurance: str, hours: int
) -> None:
    set_assurance(small, "FZ-C001-DATA-1", data_assurance)
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    [got] = tickets(client)
    assert got["circuits"] == ["FZ-C001-DATA-1", "FZ-C001-VOICE-1"] and got["track"] == "gold"
    assert same(got["deadlines"]["recover"], START + timedelta(hours=hours))
    advance_to(client, small, START + timedelta(hours=hours))
    assert "recover" in ticket(client, got["id"])["breaches"]
    assert event(client, got["id"], type="accept").status_code == 200
