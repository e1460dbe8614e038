"""A complete drill (应急演练) with the manual clock: scripted alarms through the real pipeline,
everything flagged drill, milestones timed against their deadlines in the report."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN
from tests.tickets.helpers import advance, event, incidents, outbox, post_alarm, tickets

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
