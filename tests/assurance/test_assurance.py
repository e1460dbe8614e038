"""Assurance periods (重保) with the manual clock: faults in scope rise a level and the team hears;
cutovers touching a level-1/2 scope are refused naming the period; level 3 does not block."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from linewatch.context import Context
from linewatch.incidents.choices import Level
from linewatch.incidents.rules import raise_level
from tests.conftest import ADMIN
from tests.cutovers.helpers import cutover_body, in_window, register
from tests.tickets.helpers import advance_to, at, incidents, outbox, post_alarm

C003_LOS = {"ne": "AGG-GL-2", "object": "GE0/2/5", "type": "LOS"}  # FZ-C003-DATA-1 only


def period(client: TestClient, expect: int = 201, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "青运会重保",
        "level": 2,
        "start": at(0, day=11).isoformat(),
        "end": at(0, day=13).isoformat(),
        "scope": {"customers": [], "circuits": [], "regions": []},
        "roster": "3月11日 白班: 张三 13900000009",
        "plan": "主备路由倒换预案",
        **changes,
    }
    response = client.post("/api/v1/assurance", json=body, headers=ADMIN)
    assert response.status_code == expect, response.text
    return response.json()


def test_cutover_touching_a_level_two_scope_is_refused(small: Context, client: TestClient) -> None:
    got = period(client, scope={"customers": ["C001"]})
    assert got["level_label"] == "二级重保"
    response = client.post(
        "/api/v1/cutovers",
        json={**cutover_body(), "resources": {"nes": ["ACC-GL-1"], "ports": [], "circuits": []}},
        headers=ADMIN,
    )
    assert response.status_code == 409, response.text
    assert "青运会重保" in response.json()["error"]
    assert response.json()["detail"]["assurance"]["id"] == got["id"]
    register(client, "GJ-C002", resources={"nes": ["OLT-TJ-1"]})  # outside the scope: accepted
    # a cutover before the period is accepted too
    register(
        client,
        "GJ-EARLY",
        window_start=at(10, day=10).isoformat(),
        window_end=at(12, day=10).isoformat(),
        published_at=at(9, day=1).isoformat(),
        resources={"nes": ["ACC-GL-1"]},
    )


def test_region_scope_and_level_three(small: Context, client: TestClient) -> None:
    period(client, level=3, scope={"regions": ["GL"]})
    register(client, "GJ-L3", resources={"nes": ["ACC-GL-1"]})  # level 3 only watches
    period(client, name="峰会", level=1, scope={"regions": ["TJ"]})
    refused = client.post(
        "/api/v1/cutovers",
        json={**cutover_body("GJ-TJ"), "resources": {"nes": ["OLT-TJ-1"], "ports": [], "circuits": []}},
        headers=ADMIN,
    )
    assert refused.status_code == 409 and "峰会" in refused.json()["error"]


def test_faults_in_scope_rise_one_level_and_notify_the_team(small: Context, client: TestClient) -> None:
    advance_to(client, small, in_window(9))
    post_alarm(client, small, **C003_LOS)
    [before] = incidents(client)
    post_alarm(client, small, **C003_LOS, severity="cleared")
    period(client, scope={"circuits": ["FZ-C003-DATA-1"]})
    advance_to(client, small, in_window(9, 30))
    post_alarm(client, small, **C003_LOS)
    [inside] = incidents(client)
    assert inside["level"] == raise_level(Level(before["level"]), 1).value != before["level"]
    assert inside["assurance"]["name"] == "青运会重保" and "重保" in inside["level_reason"]
    [notice] = outbox(small, "incident.assurance")
    assert notice.incident_id == inside["id"] and notice.data["assurance"]["level"] == 2


def test_an_open_fault_rises_when_the_period_begins(small: Context, client: TestClient) -> None:
    period(client, scope={"customers": ["C003"]})
    advance_to(client, small, at(23, 50, day=10))
    post_alarm(client, small, **C003_LOS)
    [before] = incidents(client)
    assert before["assurance"] is None
    advance_to(client, small, at(0, 1, day=11))
    [after] = incidents(client)
    assert after["assurance"]["name"] == "青运会重保"
    assert after["level"] == raise_level(Level(before["level"]), 1).value
    assert before["assurance_history"] == []
    [entry] = after["assurance_history"]
    assert entry["name"] == "青运会重保" and entry["level"] == 2 and entry["raised_to"] == after["level"]
    assert entry["since"] == at(0, 1, day=11).isoformat() and entry["until"] is None


def test_assurance_history_records_each_period_and_when_it_ended(small: Context, client: TestClient) -> None:
    period(client, name="峰会", end=at(12, day=11).isoformat(), scope={"customers": ["C003"]})
    period(
        client,
        name="青运会",
        level=1,
        start=at(12, day=11).isoformat(),
        scope={"circuits": ["FZ-C003-DATA-1"]},
    )
    advance_to(client, small, at(9, day=11))
    post_alarm(client, small, **C003_LOS)
    advance_to(client, small, at(12, 5, day=11))  # 峰会 ended at 12:00; 青运会 began then
    [incident] = incidents(client)
    first, second = incident["assurance_history"]
    assert (first["name"], first["since"], first["until"]) == (
        "峰会",
        at(9, day=11).isoformat(),
        at(12, 5, day=11).isoformat(),
    )
    assert (second["name"], second["level"], second["until"]) == ("青运会", 1, None)
    assert incident["assurance"]["name"] == "青运会"
    advance_to(client, small, at(0, 1, day=13))  # every period over: the history stays, closed
    [later] = incidents(client)
    assert later["assurance"] is None
    assert [e["until"] for e in later["assurance_history"]] == [first["until"], at(0, 1, day=13).isoformat()]
    response = client.get(f"/api/v1/incidents/{incident['id']}", headers=ADMIN)
    assert response.status_code == 200 and len(response.json()["assurance_history"]) == 2


def test_validation(small: Context, client: TestClient) -> None:
    period(client, expect=422, level=4, scope={"customers": ["C003"]})
    period(client, expect=422, scope={})
    period(client, expect=422, end=at(0, day=10).isoformat(), scope={"customers": ["C003"]})
    got = period(client, scope={"customers": ["C003"]})
    assert client.get(f"/api/v1/assurance/{got['id']}", headers=ADMIN).json()["plan"] == "主备路由倒换预案"
    assert len(client.get("/api/v1/assurance", headers=ADMIN).json()["items"]) == 1
