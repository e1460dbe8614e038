"""Pipeline scenarios on the hand-made network, through the real API, on SQLite and PostgreSQL.

The network (tests/fixtures/inventory/small): C001 is a provincial (key) customer with a
dual-routed center data circuit FZ-C001-DATA-1 (primary ACC-GL-1:GE0/2/1 → AGG-GL-1 → CORE-1,
backup ACC-GL-1:GE0/2/2 → AGG-GL-2 → AGG-GL-3 → CORE-2) and a single-routed center voice circuit
FZ-C001-VOICE-1 on NGN-1; C002 (normal) has a PON internet line via ONU-C002 / OLT-TJ-1 0/1/1;
C003 (key) has a single-routed branch data circuit via AGG-GL-2:GE0/2/5.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN

T0 = "2026-03-02T09:00:00+08:00"


def post(client: TestClient, *alarms: dict[str, Any], status: int = 202) -> dict[str, Any]:
    response = client.post("/api/v1/alarms", json=list(alarms), headers=ADMIN)
    assert response.status_code == status, response.text
    return response.json()


def alarm(
    ne: str, type_: str, obj: str = "", severity: str = "major", source: str = "ems-huawei", **extra: Any
) -> dict[str, Any]:
    return {"source": source, "ne": ne, "object": obj, "type": type_, "severity": severity, **extra}


def incidents(client: TestClient, state: str = "open") -> list[dict[str, Any]]:
    response = client.get("/api/v1/incidents", params={"state": state}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def impacts(incident: dict[str, Any]) -> dict[str, str]:
    return {i["circuit"]: i["impact"] for i in incident["impacts"] if i["until"] is None}


def advance(client: TestClient, seconds: float) -> None:
    assert (
        client.post("/api/v1/admin/clock", json={"advance_seconds": seconds}, headers=ADMIN).status_code
        == 200
    )


def test_one_route_of_a_key_center_circuit_is_general_both_routes_urgent(
    small: Context, client: TestClient
) -> None:
    post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"))
    [incident] = incidents(client)
    assert impacts(incident) == {"FZ-C001-DATA-1": "degraded"}
    assert incident["level"] == "general"
    advance(client, 60)
    post(client, alarm("AGG-GL-2", "LOS", "GE0/1/0", "critical"))  # the backup route, shares the circuit
    [incident] = incidents(client)
    assert impacts(incident) == {"FZ-C001-DATA-1": "down"}
    assert incident["level"] == "urgent" and "both routes" in incident["level_reason"]
    assert len(incident["alarm_ids"]) == 2


def test_single_routed_center_voice_line_down_is_urgent(small: Context, client: TestClient) -> None:
    post(client, alarm("AGG-GL-1", "LOS", "GE0/1/0", "critical"))
    [incident] = incidents(client)
    assert impacts(incident) == {"FZ-C001-DATA-1": "degraded", "FZ-C001-VOICE-1": "down"}
    assert incident["level"] == "urgent" and incident["key_customers_down"] == 1


def test_platform_outage_takes_down_its_dependants(small: Context, client: TestClient) -> None:
    post(client, alarm("NGN-1", "PLATFORM_DOWN", severity="critical", source="ngn"))
    [incident] = incidents(client)
    assert impacts(incident) == {"FZ-C001-VOICE-1": "down"}
    assert incident["level"] == "urgent"


def test_pon_port_vs_one_onu_and_the_onu_behind_its_olt(small: Context, client: TestClient) -> None:
    post(client, alarm("ONU-C002", "DYING_GASP", severity="major"))
    [onu] = incidents(client)
    assert impacts(onu) == {"FZ-C002-INT-1": "down"} and onu["level"] == "normal"
    post(client, alarm("OLT-TJ-1", "LOS", "0/1/1", "critical"))  # the PON port: same line, same incident
    post(client, alarm("ONU-C002", "NE_NOT_REACHABLE", severity="major"))  # behind its parent OLT
    [incident] = incidents(client)
    assert incident["id"] == onu["id"] and len(incident["alarm_ids"]) == 3
    alarms = client.get("/api/v1/alarms", params={"incident": incident["id"]}, headers=ADMIN).json()["items"]
    roots = {a["type"]: a["root_id"] for a in alarms}
    assert roots["DYING_GASP"] is None
    assert roots["NE_NOT_REACHABLE"] == roots["LOS"] == incident["root_alarm_id"]


def test_unmatched_alarm_is_kept_and_listed(small: Context, client: TestClient) -> None:
    body = post(client, alarm("GHOST-9", "LOS", "1/1/1", "critical"))
    assert body["accepted"] == 1
    listed = client.get("/api/v1/alarms", params={"matched": "false"}, headers=ADMIN).json()["items"]
    assert [a["ne"] for a in listed] == ["GHOST-9"]
    assert listed[0]["incident_id"] is None and listed[0]["circuits"] == []
    assert incidents(client) == []


def test_clears_in_reverse_order_keep_the_incident_until_the_last(small: Context, client: TestClient) -> None:
    post(client, alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"))
    advance(client, 30)
    post(client, alarm("CORE-1", "MS_AIS", "", "major"))
    [incident] = incidents(client)
    assert len(incident["alarm_ids"]) == 2
    advance(client, 600)
    post(client, alarm("AGG-GL-2", "LOS", "GE0/2/5", "cleared"))  # the root clears first
    [incident] = incidents(client)
    assert incident["state"] == "open" and impacts(incident) == {"FZ-C003-DATA-1": "down"}
    post(client, alarm("CORE-1", "MS_AIS", "", "cleared"))
    assert incidents(client) == []
    [done] = incidents(client, "recovered")
    assert done["recovered_at"] is not None and impacts(done) == {}


def test_consequent_first_then_root_rerooted(small: Context, client: TestClient) -> None:
    ais = post(client, alarm("CORE-1", "MS_AIS", "", "major"))["ids"][0]
    los = post(client, alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"))["ids"][0]
    [incident] = incidents(client)
    assert incident["root_alarm_id"] == los
    got = client.get(f"/api/v1/alarms/{ais}", headers=ADMIN).json()
    assert got["root_id"] == los


def test_duplicate_storm_folds_into_one_alarm(small: Context, client: TestClient) -> None:
    body = post(client, *[alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical")] * 1000)
    assert body["accepted"] == 1000 and len(set(body["ids"])) == 1
    [active] = client.get("/api/v1/alarms", headers=ADMIN).json()["items"]
    assert active["count"] == 1000
    assert len(incidents(client)) == 1


def test_double_insurance_two_systems_one_alarm(small: Context, client: TestClient) -> None:
    own = post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical", source="ems-huawei"))["ids"][0]
    feed = post(client, alarm("ACC-GL-1", "光信号丢失", "GE0/2/1", "critical", source="eoms4"))["ids"][0]
    assert own == feed
    assert len(incidents(client)) == 1


def test_flapping_port_is_marked(small: Context, client: TestClient) -> None:
    flaps = []
    for _ in range(small.policy.alarms.flapping.count + 1):
        body = post(client, alarm("ACC-GL-1", "LINK_DOWN", "GE0/1/1", "major"))
        flaps.append(client.get(f"/api/v1/alarms/{body['ids'][0]}", headers=ADMIN).json()["flapping"])
        advance(client, 30)
        post(client, alarm("ACC-GL-1", "LINK_DOWN", "GE0/1/1", "cleared"))
        advance(client, 30)
    assert flaps[:-1] == [False] * small.policy.alarms.flapping.count and flaps[-1] is True


def test_manual_clear_recovers_and_is_audited(small: Context, client: TestClient) -> None:
    alarm_id = post(client, alarm("ONU-C002", "DYING_GASP"))["ids"][0]
    response = client.post(
        f"/api/v1/alarms/{alarm_id}/clear", json={"reason": "客户已恢复供电"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    got = client.get(f"/api/v1/alarms/{alarm_id}", headers=ADMIN).json()
    assert got["state"] == "cleared" and got["clear_reason"] == "客户已恢复供电"
    assert incidents(client) == []
    again = client.post(f"/api/v1/alarms/{alarm_id}/clear", json={"reason": "x"}, headers=ADMIN)
    assert again.status_code == 409
    audit = client.get("/api/v1/admin/audit", params={"object_type": "alarm"}, headers=ADMIN).json()["items"]
    assert audit[0]["action"] == "manual_clear"


def test_key_branch_down_becomes_overdue_after_four_hours(small: Context, client: TestClient) -> None:
    post(client, alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"))
    [incident] = incidents(client)
    assert incident["level"] == "normal"
    advance(client, small.policy.dispatch.overdue_branch_minutes * 60 - 1)
    assert incidents(client)[0]["level"] == "normal"
    advance(client, 1)
    assert incidents(client)[0]["level"] == "overdue"


def test_diagnosis_deadline_and_diagnosis(small: Context, client: TestClient) -> None:
    post(client, alarm("ONU-C002", "DYING_GASP"))
    [incident] = incidents(client)
    assert incident["diagnosis"] is None and incident["diagnosis_overdue"] is False
    advance(client, small.policy.dispatch.diagnosis_minutes * 60 + 1)
    assert incidents(client)[0]["diagnosis_overdue"] is True
    response = client.post(
        f"/api/v1/incidents/{incident['id']}/diagnosis", json={"category": "non_network"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    diagnosed = incidents(client)[0]
    assert diagnosed["diagnosis"]["category"] == "non_network" and diagnosed["diagnosis_overdue"] is False


def test_inventory_change_rematches_active_alarms(small: Context, client: TestClient, tmp_path: Any) -> None:
    post(client, alarm("AGG-GL-3", "LOS", "GE0/9/9", "critical"))
    [before] = incidents(client)  # a fault on a known NE, but no circuit routed over that port yet
    assert impacts(before) == {} and before["level"] == "normal"
    files = [
        (
            "files",
            (
                "circuits.csv",
                "code,customer,service_type,access,site_role,assurance,maintainer\n"
                "FZ-C003-DATA-2,C003,data,PTN,center,A,CT-A\n",
                "text/csv",
            ),
        ),
        (
            "files",
            (
                "routes.csv",
                "circuit,route,seq,ne,port\nFZ-C003-DATA-2,primary,1,AGG-GL-3,GE0/9/9\n",
                "text/csv",
            ),
        ),
    ]
    assert client.post("/api/v1/inventory/import", files=files, headers=ADMIN).status_code == 200
    [incident] = incidents(client)
    assert incident["id"] == before["id"]
    assert impacts(incident) == {"FZ-C003-DATA-2": "down"} and incident["level"] == "urgent"


def test_alarm_filters_by_customer_and_circuit(small: Context, client: TestClient) -> None:
    post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"), alarm("ONU-C002", "DYING_GASP"))
    by_customer = client.get("/api/v1/alarms", params={"customer": "C002"}, headers=ADMIN).json()["items"]
    assert [a["ne"] for a in by_customer] == ["ONU-C002"] and by_customer[0]["customers"] == ["C002"]
    by_circuit = client.get("/api/v1/alarms", params={"circuit": "FZ-C001-DATA-1"}, headers=ADMIN).json()[
        "items"
    ]
    assert [a["object"] for a in by_circuit] == ["GE0/2/1"]
    assert by_circuit[0]["suggestion"]["steps"], "LOS carries first-line steps"


def test_grouping_does_not_depend_on_batching(small: Context, client: TestClient) -> None:
    """Raise, clear, then a new alarm on the same NE: one request or three, the same incidents."""
    sequence = [
        alarm("ONU-C002", "POWER_FAIL", severity="critical", event_time="2026-03-02T09:00:00+08:00"),
        alarm("ONU-C002", "POWER_FAIL", severity="cleared", event_time="2026-03-02T09:01:00+08:00"),
        alarm("ONU-C002", "DYING_GASP", severity="major", event_time="2026-03-02T09:02:00+08:00"),
    ]
    post(client, *sequence)
    assert len(incidents(client)) == 1 and len(incidents(client, "recovered")) == 1
