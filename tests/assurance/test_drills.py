"""A complete drill (应急演练) with the manual clock: scripted alarms through the real pipeline,
everything flagged drill, milestones timed against their deadlines in the report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from linewatch.assurance import drills
from linewatch.context import Context
from linewatch.db import timers
from tests.conftest import ADMIN
from tests.tickets.helpers import advance, event, incidents, outbox, post_alarm, same, tickets

LOS = {"source": "drill-script", "ne": "AGG-GL-1", "object": "GE0/1/0", "type": "LOS", "severity": "critical"}


def start(client: TestClient, expect: int = 201, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/drills", json={"name": "鼓楼汇聚中断演练", "alarms": [LOS], **body}, headers=ADMIN
    )
    assert response.status_code == expect, response.text
    return response.json()


def test_a_complete_drill_with_its_report(small: Context, client: TestClient) -> None:
    drill = start(client)
    [incident] = incidents(client)
    assert incident["drill"] is True
    [ticket] = tickets(client)
    assert ticket["drill"] is True  # dispatched like a real fault, flagged
    assert outbox(small) and all(r.drill for r in outbox(small))  # recipients see 演练/DRILL
    advance(client, small, 5 * 60)
    assert event(client, ticket["id"], type="accept").status_code == 200
    advance(client, small, 35 * 60)  # the 30-minute contact deadline passes unmet
    assert event(client, ticket["id"], type="contact").status_code == 200
    advance(client, small, 20 * 60)
    step = client.post(
        f"/api/v1/drills/{drill['id']}/steps",
        json={"alarms": [{**LOS, "severity": "cleared"}]},
        headers=ADMIN,
    )
    assert step.status_code == 200, step.text
    report = client.get(f"/api/v1/drills/{drill['id']}/report", headers=ADMIN).json()
    assert report["name"] == "鼓楼汇聚中断演练" and report["incidents"][0]["recovered_at"]
    [row] = report["tickets"]
    got = {m["milestone"]: m for m in row["milestones"]}
    assert got["accepted"]["met"] is True and got["accepted"]["minutes"] == 5.0
    assert got["contacted"]["met"] is False and got["contacted"]["minutes"] == 40.0
    assert got["recovered"]["met"] is True and got["recovered"]["minutes"] == 60.0
    assert got["on_site"]["at"] is None
    assert report["missed"] >= 1


def test_drill_and_real_faults_stay_apart(small: Context, client: TestClient) -> None:
    start(client)
    post_alarm(client, small, ne="AGG-GL-1", object="GE0/1/0", type="LOS")  # a real fault, same port
    found = incidents(client)
    assert sorted(i["drill"] for i in found) == [False, True]
    assert sorted(t["drill"] for t in tickets(client)) == [False, True]


def test_an_invalid_script_injects_nothing(small: Context, client: TestClient) -> None:
    start(client, expect=422, alarms=[LOS, {"ne": "AGG-GL-1"}])
    assert incidents(client) == []
    assert client.get("/api/v1/drills/99/report", headers=ADMIN).status_code == 404


def alarms_by_id(client: TestClient) -> dict[int, dict[str, Any]]:
    response = client.get("/api/v1/alarms", params={"state": "all", "drill": "true"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return {a["id"]: a for a in response.json()["items"]}


def test_timed_steps_fire_on_the_clock_at_their_offsets(small: Context, client: TestClient) -> None:
    voice = {**LOS, "ne": "ACC-GL-1", "object": "GE0/1/1"}
    drill = start(
        client,
        steps=[
            {
                "after_minutes": 10,
                "alarms": [{**LOS, "severity": "cleared"}, {**voice, "severity": "cleared"}],
            },
            {"after_minutes": 5, "alarms": [voice]},
        ],
    )
    started = datetime.fromisoformat(drill["started_at"])
    assert [s["after_minutes"] for s in drill["steps"]] == [0, 5, 10]
    assert [s["done_at"] is not None for s in drill["steps"]] == [True, False, False]
    advance(client, small, 4 * 60 + 59)
    assert len(alarms_by_id(client)) == 1  # nothing before its time
    advance(client, small, 1)
    raised = alarms_by_id(client)
    assert len(raised) == 2
    second = raised[max(raised)]
    assert second["ne"] == "ACC-GL-1" and same(second["first_time"], started + timedelta(minutes=5))
    advance(client, small, 30 * 60)  # one jump past the clear: it happened at +10, not at +35
    cleared = alarms_by_id(client)
    assert all(a["state"] == "cleared" for a in cleared.values())
    assert all(same(a["cleared_time"], started + timedelta(minutes=10)) for a in cleared.values())
    report = client.get(f"/api/v1/drills/{drill['id']}/report", headers=ADMIN).json()
    assert [(s["after_minutes"], s["done_at"] is not None) for s in report["steps"]] == [
        (0, True),
        (5, True),
        (10, True),
    ]
    assert all(
        i["drill"] and same(i["recovered_at"], started + timedelta(minutes=10)) for i in report["incidents"]
    )
    advance(client, small, 60 * 60)
    assert len(alarms_by_id(client)) == 2  # each step ran once


def test_a_step_whose_timer_fired_before_a_crash_runs_at_start(small: Context, client: TestClient) -> None:
    drill = start(client, steps=[{"after_minutes": 15, "alarms": [{**LOS, "severity": "cleared"}]}])
    with small.db.reading() as session:
        [timer] = timers.pending(session, drills.OWNER, drill["id"])
        assert timer.kind == "step:1"  # durable: a row on the one clock's timers
    later = small.clock.now() + timedelta(minutes=20)
    # the timer's mark commits but the process dies before the step is injected
    assert timers.fire_due(small.db.unit_of_work, {drills.OWNER: lambda *_: None}, later) == 1
    assert alarms_by_id(client)[drill["alarm_ids"][0]]["state"] == "active"
    with small.db.reading() as session:  # what start() does
        small.drill_steps.recover(session, later)
    small.run_drill_steps()
    small.settle()
    [alarm] = alarms_by_id(client).values()
    assert alarm["state"] == "cleared"
    assert same(alarm["cleared_time"], datetime.fromisoformat(drill["started_at"]) + timedelta(minutes=15))
    small.run_drill_steps()  # nothing left: it ran once
    assert small.drill_steps.queue == set()


def test_a_bad_timed_step_refuses_the_whole_drill(small: Context, client: TestClient) -> None:
    response = client.post(
        "/api/v1/drills",
        json={"name": "x", "alarms": [LOS], "steps": [{"after_minutes": 5, "alarms": [{"ne": "AGG-GL-1"}]}]},
        headers=ADMIN,
    )
    assert response.status_code == 422 and "step 1 (+5 min)" in response.json()["error"]
    assert incidents(client) == []
