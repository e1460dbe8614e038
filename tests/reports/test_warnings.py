"""Early warnings end to end on the small network: real-time red on an urgent incident, the
weekly review's orange by fault counts, visit and measures tracked, the account manager told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from linewatch.context import Context
from linewatch.db.outbox import NotificationRequest
from tests.conftest import ADMIN
from tests.reports.test_monthly import local, set_clock
from tests.tickets.helpers import incidents, post_alarm, token_for


def warnings(client: TestClient, headers: dict[str, str] = ADMIN, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/warnings", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def requests(ctx: Context) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(audience, data) of the early-warning notification requests, oldest first."""
    with ctx.db.reading() as session:
        query = select(NotificationRequest).where(NotificationRequest.kind == "customer.warning")
        return [(r.audience, r.data) for r in session.scalars(query.order_by(NotificationRequest.id))]


def test_urgent_incident_raises_red_at_once(small: Context, client: TestClient) -> None:
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")  # 03-02 09:00 (Mon)
    [incident] = incidents(client)
    assert incident["level"] == "urgent"
    [w] = warnings(client)
    assert (w["customer"], w["level"], w["source"], w["state"]) == ("C001", "red", "realtime", "active")
    assert w["scope"] == {"incidents": [incident["id"]], "circuits": ["FZ-C001-DATA-1", "FZ-C001-VOICE-1"]}
    assert w["level_label"] == {"zh": "红色预警", "en": "red"}
    assert datetime.fromisoformat(w["visit"]["due"]) == local(3, 5, 0)  # end of Wed 03-04: 2 working days
    assert [h["kind"] for h in w["history"]] == ["opened"]
    [(audience, data)] = requests(small)
    assert data["warning_level"] == "red" and audience == {"customers": ["C001"], "roles": ["support"]}
    # the same customer's warning is not raised twice
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS", severity="cleared")
    set_clock(client, small, local(3, 2, 12))
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    assert len(warnings(client)) == 1 and len(requests(small)) == 1


def test_drill_and_planned_faults_raise_nothing(small: Context, client: TestClient) -> None:
    response = client.post(
        "/api/v1/drills",
        json={
            "name": "演练",
            "alarms": [
                {
                    "source": "ems",
                    "ne": "AGG-GL-1",
                    "object": "GE0/1/0",
                    "type": "LOS",
                    "severity": "critical",
                }
            ],
        },
        headers=ADMIN,
    )
    small.settle()
    if response.status_code == 404:  # drills not built yet: through the pipeline directly
        from linewatch.alarms.normalise import AlarmEvent

        event = AlarmEvent(
            source="ems",
            type="LOS",
            severity="critical",
            event_time=small.clock.now(),
            ne="AGG-GL-1",
            object="GE0/1/0",
            drill=True,
        )
        small.pipeline.submit("drill", [event])
        small.settle()
    assert warnings(client) == []


def test_weekly_review_orange_then_visit_and_measures(small: Context, client: TestClient) -> None:
    # C002 (FZ-C002-INT-1, PON, normal assurance: 8 h to recover): three short faults in March.
    for day in (3, 10, 17):
        set_clock(client, small, local(3, day, 10))
        post_alarm(client, small, ne="OLT-TJ-1", object="0/1/1", type="LOS")
        set_clock(client, small, local(3, day, 11))
        post_alarm(client, small, ne="OLT-TJ-1", object="0/1/1", type="LOS", severity="cleared")
    assert warnings(client) == []  # not urgent: nothing in real time; the review runs on Mondays 08:00
    set_clock(client, small, local(3, 23, 8))
    [w] = warnings(client)
    assert (w["customer"], w["level"], w["source"]) == ("C002", "orange", "periodic")
    assert len(w["scope"]["incidents"]) == 3 and w["scope"]["over_limit"] == []
    assert datetime.fromisoformat(w["opened_at"]) == local(3, 23, 8)
    assert datetime.fromisoformat(w["visit"]["due"]) == local(3, 26, 0)  # Tue, Wed
    set_clock(client, small, local(3, 26, 9))
    assert warnings(client)[0]["visit"]["overdue"] is True
    done = client.post(f"/api/v1/warnings/{w['id']}/visit", json={"note": "走访客户 visited"}, headers=ADMIN)
    assert done.status_code == 200, done.text
    assert done.json()["visit"]["note"] == "走访客户 visited" and done.json()["visit"]["overdue"] is False
    again = client.post(f"/api/v1/warnings/{w['id']}/visit", json={"note": "x"}, headers=ADMIN)
    assert again.status_code == 409
    measures = client.post(f"/api/v1/warnings/{w['id']}/measures", json={"text": "更换分光器"}, headers=ADMIN)
    assert measures.json()["measures"] == "更换分光器"
    # two more faults → red at the next review: the warning escalates, with its level history
    for day in (27, 28):
        set_clock(client, small, local(3, day, 10))
        post_alarm(client, small, ne="OLT-TJ-1", object="0/1/1", type="LOS")
        set_clock(client, small, local(3, day, 11))
        post_alarm(client, small, ne="OLT-TJ-1", object="0/1/1", type="LOS", severity="cleared")
    set_clock(client, small, local(3, 30, 9))
    [w] = warnings(client)
    assert w["level"] == "red" and w["visit"]["done_at"] is None  # a new visit is due
    assert [(h["kind"], h["from"], h["to"]) for h in w["history"]] == [
        ("opened", None, "orange"),
        ("visit", None, None),
        ("measures", None, None),
        ("level", "orange", "red"),
    ]
    assert [data["warning_level"] for _, data in requests(small)] == ["orange", "red"]


def test_account_managers_see_and_visit_only_their_customers(small: Context, client: TestClient) -> None:
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")  # red on C001 (AM01's)
    am01, am02 = token_for(client, "AM01"), token_for(client, "AM02")
    [w] = warnings(client, headers=am01)
    assert warnings(client, headers=am02) == []
    assert client.get(f"/api/v1/warnings/{w['id']}", headers=am02).status_code == 404
    refused = client.post(f"/api/v1/warnings/{w['id']}/visit", json={"note": "x"}, headers=am02)
    assert refused.status_code == 404
    done = client.post(f"/api/v1/warnings/{w['id']}/visit", json={"note": "已走访"}, headers=am01)
    assert done.status_code == 200 and done.json()["visit"]["note"] == "已走访"
    closing = client.post(f"/api/v1/warnings/{w['id']}/close", json={"note": "x"}, headers=am01)
    assert closing.status_code == 403  # closing is for fault managers and above


def test_a_huge_incidents_reds_are_raised_a_part_per_transaction(small: Context, client: TestClient) -> None:
    """A fibre cut at scale 100 hurts 26,000 customers: their reds go a part per transaction (the
    write lock is not held for seconds while the pipeline waits). Here one customer a part: the
    hook's own transaction warns the first, a step left for another transaction the second."""
    from linewatch.incidents.engine import IncidentChange
    from linewatch.reports.warnings import on_incident_changes

    small.downstream.hooks.clear()  # the incident opens unwarned; the hook is run by hand below
    post_alarm(client, small, ne="CORE-1", object="", type="NE_DOWN")  # C001 and C003 down
    [incident] = incidents(client)
    assert incident["level"] == "urgent" and warnings(client) == []
    hook = on_incident_changes(small.policy, small.clock.tz, per_transaction=1)
    opened = IncidentChange("opened", incident["id"], "urgent", small.clock.now())
    with small.db.unit_of_work() as session:
        steps = hook(session, [opened])
    assert [w["customer"] for w in warnings(client)] == ["C001"] and len(steps) == 1
    with small.db.unit_of_work() as session:
        steps[0](session)
    assert sorted(w["customer"] for w in warnings(client)) == ["C001", "C003"]
