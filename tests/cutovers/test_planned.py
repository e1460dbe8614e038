"""Planned alarms with the manual clock: inside a window they are planned and not dispatched; at the
window's end (plus grace) what is still down becomes a fault; outside the resources, a fault at once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from linewatch.alarms.models import AlarmRecord
from linewatch.context import Context
from tests.conftest import ADMIN
from tests.cutovers.helpers import cutover_body, in_window, register
from tests.tickets.helpers import advance_to, incidents, post_alarm, report, tickets

LOS = {"ne": "AGG-GL-1", "object": "GE0/1/0", "type": "LOS"}


def planned_alarms(ctx: Context) -> list[bool]:
    with ctx.db.reading() as session:
        return list(session.scalars(select(AlarmRecord.planned).order_by(AlarmRecord.id)))


def verdict(client: TestClient, ticket_id: int) -> dict[str, str]:
    response = client.get(f"/api/v1/tickets/{ticket_id}/verdict", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def test_before_the_window_an_alarm_is_a_fault(small: Context, client: TestClient) -> None:
    register(client, resources={"nes": ["AGG-GL-1"]})
    advance_to(client, small, in_window(9, 50))
    post_alarm(client, small, **LOS)
    assert planned_alarms(small) == [False]
    assert len(tickets(client)) == 1


def test_window_start_planned_then_recovered_inside_is_never_dispatched(
    small: Context, client: TestClient
) -> None:
    register(client, resources={"nes": ["AGG-GL-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    assert planned_alarms(small) == [True]
    [incident] = incidents(client)
    assert incident["planned"] is True
    assert tickets(client) == []  # not dispatched
    advance_to(client, small, in_window(10, 40))
    post_alarm(client, small, **LOS, severity="cleared")
    advance_to(client, small, in_window(12, 30))  # the window ends: nothing left to release
    assert tickets(client) == [] and incidents(client) == []


def test_overrun_becomes_a_fault_and_is_dispatched(small: Context, client: TestClient) -> None:
    register(client, resources={"nes": ["AGG-GL-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    advance_to(client, small, in_window(11, 59))
    assert tickets(client) == []
    assert small.pipeline.incidents.key_down == []  # planned work is not counted towards the window
    advance_to(
        client,
        small,
        in_window(
            12,
            0,
        ),
    )  # window end + grace 0
    [ticket] = tickets(client)
    assert incidents(client)[0]["planned"] is False
    assert {entry[1] for entry in small.pipeline.incidents.key_down} == {small.index.circuits[1].customer_id}
    got = verdict(client, ticket["id"])
    assert (
        got["verdict"] == "network_fault" and got["rule"] == "ran_past_window" and got["cutover"] == "GJ-001"
    )


def test_impact_outside_the_declared_resources_is_a_fault_from_the_start(
    small: Context, client: TestClient
) -> None:
    register(client, resources={"nes": ["AGG-GL-2"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)  # AGG-GL-1 is not under the cutover
    assert planned_alarms(small) == [False]
    assert len(tickets(client)) == 1


def test_unplanned_alarm_joining_a_planned_incident_makes_it_a_fault(
    small: Context, client: TestClient
) -> None:
    register(client, resources={"ports": [{"ne": "ACC-GL-1", "port": "GE0/1/1"}]})  # VOICE-1's access port
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, ne="ACC-GL-1", object="GE0/1/1", type="LOS")
    assert tickets(client) == [] and incidents(client)[0]["planned"] is True
    post_alarm(client, small, **LOS)  # AGG-GL-1 shares VOICE-1: correlates, but is not planned work
    assert planned_alarms(small) == [True, False]
    assert incidents(client)[0]["planned"] is False
    assert len(tickets(client)) == 1


def test_cancelled_cutover_releases_its_planned_incidents(small: Context, client: TestClient) -> None:
    got = register(client, resources={"nes": ["AGG-GL-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    assert tickets(client) == []
    assert client.post(f"/api/v1/cutovers/{got['id']}/cancel", headers=ADMIN).status_code == 200
    advance_to(client, small, in_window(10, 6))
    assert len(tickets(client)) == 1


def test_customer_report_during_an_announced_window_is_a_planned_cutover(
    small: Context, client: TestClient
) -> None:
    register(client, resources={"nes": ["AGG-GL-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    response = report(
        client, channel="10086-8", customer="C001", circuit="FZ-C001-VOICE-1", description="断了"
    )
    assert response.status_code in (200, 201), response.text
    ticket_id = response.json()["id"]
    assert verdict(client, ticket_id)["verdict"] == "planned_cutover"  # still inside the window
    advance_to(client, small, in_window(10, 40))
    post_alarm(client, small, **LOS, severity="cleared")
    advance_to(client, small, in_window(13))
    got = verdict(client, ticket_id)
    assert got == {**got, "verdict": "planned_cutover", "rule": "as_announced", "cutover": "GJ-001"}


def test_short_notice_makes_it_a_network_fault(small: Context, client: TestClient) -> None:
    register(client, published_at=in_window(9).isoformat(), resources={"nes": ["AGG-GL-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    ticket_id = report(client, channel="10086-8", customer="C001", circuit="FZ-C001-VOICE-1").json()["id"]
    assert verdict(client, ticket_id)["rule"] == "short_notice"


def test_not_notified_and_non_interrupting(small: Context, client: TestClient) -> None:
    register(client, published_at=None, resources={"nes": ["AGG-GL-1"]})
    register(client, "GJ-002", impact="none", resources={"nes": ["OLT-TJ-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    post_alarm(client, small, ne="OLT-TJ-1", object="0/1/1", type="LOS")
    voice = report(client, channel="10086-8", customer="C001", circuit="FZ-C001-VOICE-1").json()["id"]
    assert verdict(client, voice)["rule"] == "not_notified"
    internet = report(client, channel="10086-8", customer="C002", circuit="FZ-C002-INT-1").json()["id"]
    assert verdict(client, internet)["rule"] == "announced_non_interrupting"


def test_backup_route_cutover_outage_is_a_fault(small: Context, client: TestClient) -> None:
    # DATA-1 keeps its primary route: an outage of DATA-1 during a backup-route cutover was not announced
    register(client, resources={"ports": [{"ne": "AGG-GL-2", "port": "GE0/1/0"}]})
    advance_to(client, small, in_window(10, 5))
    ticket_id = report(client, channel="10086-8", customer="C001", circuit="FZ-C001-DATA-1").json()["id"]
    assert verdict(client, ticket_id)["rule"] == "announced_non_interrupting"


def test_never_registered(small: Context, client: TestClient) -> None:
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    [ticket] = tickets(client)
    assert verdict(client, ticket["id"]) == {
        "verdict": "network_fault",
        "rule": "not_registered",
        "rule_label": "未登记割接",
        "rule_label_en": "cutover never registered",
    }


def test_extending_the_window_keeps_the_fault_planned(small: Context, client: TestClient) -> None:
    got = register(client, resources={"nes": ["AGG-GL-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, **LOS)
    body = cutover_body(
        window_end=in_window(13).isoformat(), resources={"nes": ["AGG-GL-1"], "ports": [], "circuits": []}
    )
    assert client.put(f"/api/v1/cutovers/{got['id']}", json=body, headers=ADMIN).status_code == 200
    advance_to(client, small, in_window(12, 30))  # the old end passed: still planned
    assert tickets(client) == []
    advance_to(client, small, in_window(13))
    assert len(tickets(client)) == 1


def test_circuit_only_cutover_marks_alarms_on_its_own_ports_planned(
    small: Context, client: TestClient
) -> None:
    # FZ-C003-DATA-1 runs AGG-GL-2:GE0/2/5 → CORE-1; that port carries nothing else
    register(client, resources={"circuits": ["FZ-C003-DATA-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, ne="AGG-GL-2", object="GE0/2/5", type="LOS")
    assert planned_alarms(small) == [True]
    assert incidents(client)[0]["planned"] is True and tickets(client) == []
    advance_to(client, small, in_window(12))  # still down when the window closes: a fault
    assert incidents(client)[0]["planned"] is False


def test_circuit_only_cutover_leaves_shared_ports_and_whole_nes_as_faults(
    small: Context, client: TestClient
) -> None:
    # FZ-C001-VOICE-1: ACC-GL-1:GE0/1/1 is its own; AGG-GL-1:GE0/1/0 also carries DATA-1's primary
    register(client, resources={"circuits": ["FZ-C001-VOICE-1"]})
    advance_to(client, small, in_window(10, 5))
    post_alarm(client, small, ne="ACC-GL-1", object="GE0/1/1", type="LOS")
    post_alarm(client, small, ne="CORE-1", object="", type="NE_DOWN")  # the NE was not declared
    post_alarm(client, small, **LOS)  # the shared uplink: DATA-1 was not announced
    assert planned_alarms(small) == [True, False, False]
    assert len(tickets(client)) == 1  # the key customer's DATA-1 is hurt: dispatched at once
