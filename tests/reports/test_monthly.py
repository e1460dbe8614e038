"""The monthly report on a fixture month (March 2026) built through the real pipeline and tickets.

Hand-computed figures: see the scenario comment on ``build_month``.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from linewatch.alarms.normalise import AlarmEvent
from linewatch.context import Context
from linewatch.incidents.models import IncidentRecord
from tests.conftest import ADMIN, TZ
from tests.tickets.helpers import event, incidents, post_alarm, ticket, tickets


def local(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TZ)


def set_clock(client: TestClient, ctx: Context, when: datetime) -> None:
    response = client.post("/api/v1/admin/clock", json={"set": when.isoformat()}, headers=ADMIN)
    assert response.status_code == 200, response.text
    ctx.settle()


def open_incident_ids(client: TestClient) -> set[int]:
    return {i["id"] for i in incidents(client)}


def raise_and_get(client: TestClient, ctx: Context, **alarm: Any) -> int:
    before = open_incident_ids(client)
    post_alarm(client, ctx, **alarm)
    [new] = open_incident_ids(client) - before
    return new


def ticket_of(client: TestClient, incident_id: int) -> dict[str, Any]:
    [t] = tickets(client, incident=incident_id)
    return t


def build_month(ctx: Context, client: TestClient) -> dict[str, int]:
    ids: dict[str, int] = {}
    # F0 (February, spans into March): OLT-TJ-1 0/1/1 takes FZ-C002-INT-1 down 02-28 23:00 → 03-01 01:00.
    set_clock(client, ctx, local(2, 28, 23))
    ids["F0"] = raise_and_get(client, ctx, ne="OLT-TJ-1", object="0/1/1", type="LOS")
    set_clock(client, ctx, local(3, 1, 1))
    post_alarm(client, ctx, ne="OLT-TJ-1", object="0/1/1", type="LOS", severity="cleared")

    # F1: AGG-GL-1 GE0/1/0 03-02 09:00 → 10:00 (VOICE-1 down, DATA-1 on its backup route).
    set_clock(client, ctx, local(3, 2, 9))
    ids["F1"] = raise_and_get(client, ctx, ne="AGG-GL-1", object="GE0/1/0", type="LOS")
    t1 = ticket_of(client, ids["F1"])
    ids["T1"] = t1["id"]
    assert event(client, t1["id"], type="accept").status_code == 200
    set_clock(client, ctx, local(3, 2, 9, 10))
    diag = {"category": "network", "team": "TRANS"}
    response = client.post(f"/api/v1/incidents/{ids['F1']}/diagnosis", json=diag, headers=ADMIN)
    assert response.status_code == 200, response.text
    set_clock(client, ctx, local(3, 2, 9, 40))  # contact (30 min) passes unmet: a breach
    assert event(client, t1["id"], type="contact").status_code == 200
    set_clock(client, ctx, local(3, 2, 9, 55))
    post_alarm(client, ctx, ne="AGG-GL-1", object="GE0/1/0", type="LOS", severity="cleared")
    set_clock(client, ctx, local(3, 2, 11))
    closed = event(client, t1["id"], type="close", cause="fibre_cut", resolution="熔接")
    assert closed.status_code == 200, closed.text

    # F2: OLT-TJ-1 again 03-10 14:00 → 16:00; never diagnosed; its ticket suspended 20 min.
    set_clock(client, ctx, local(3, 10, 14))
    ids["F2"] = raise_and_get(client, ctx, ne="OLT-TJ-1", object="0/1/1", type="LOS")
    response = client.post(f"/api/v1/incidents/{ids['F2']}/dispatch", json={}, headers=ADMIN)
    assert response.status_code == 201, response.text
    t2 = ticket_of(client, ids["F2"])
    ids["T2"] = t2["id"]
    set_clock(client, ctx, local(3, 10, 14, 5))
    assert event(client, t2["id"], type="accept").status_code == 200
    set_clock(client, ctx, local(3, 10, 14, 10))
    assert event(client, t2["id"], type="suspend", note="客户不在 customer away").status_code == 200
    set_clock(client, ctx, local(3, 10, 14, 40))
    assert event(client, t2["id"], type="resume").status_code == 200
    set_clock(client, ctx, local(3, 10, 14, 50))  # 50 min after dispatch, within 30 + 30 paused
    assert event(client, t2["id"], type="contact").status_code == 200
    set_clock(client, ctx, local(3, 10, 17))
    post_alarm(client, ctx, ne="OLT-TJ-1", object="0/1/1", type="LOS", severity="cleared")
    set_clock(client, ctx, local(3, 10, 18))
    closed = event(client, t2["id"], type="close", cause="equipment", resolution="更换板卡")
    assert closed.status_code == 200, closed.text

    # F3 planned (a cutover): OLT-TJ-1 03-12 10:00 → 11:00, marked planned in the database.
    set_clock(client, ctx, local(3, 12, 10))
    ids["F3"] = raise_and_get(client, ctx, ne="OLT-TJ-1", object="0/1/1", type="LOS")
    with ctx.db.unit_of_work() as session:
        session.execute(update(IncidentRecord).where(IncidentRecord.id == ids["F3"]).values(planned=True))
    set_clock(client, ctx, local(3, 12, 11))
    post_alarm(client, ctx, ne="OLT-TJ-1", object="0/1/1", type="LOS", severity="cleared")

    # F4 drill: AGG-GL-2 GE0/2/5 03-15 10:00 → 11:00 through the pipeline with drill=True.
    set_clock(client, ctx, local(3, 15, 10))
    drill = {"source": "ems", "type": "LOS", "ne": "AGG-GL-2", "object": "GE0/2/5", "drill": True}
    ctx.pipeline.submit("drill", [AlarmEvent(severity="critical", event_time=ctx.clock.now(), **drill)])
    ctx.settle()
    set_clock(client, ctx, local(3, 15, 11))
    ctx.pipeline.submit("drill", [AlarmEvent(severity="cleared", event_time=ctx.clock.now(), **drill)])
    ctx.settle()

    # F5 (March, spans into April): AGG-GL-2 GE0/2/5 takes FZ-C003-DATA-1 down 03-31 23:00 → 04-01 02:00;
    # diagnosed late (23:20 > 23:15).
    set_clock(client, ctx, local(3, 31, 23))
    ids["F5"] = raise_and_get(client, ctx, ne="AGG-GL-2", object="GE0/2/5", type="LOS")
    set_clock(client, ctx, local(3, 31, 23, 20))
    response = client.post(f"/api/v1/incidents/{ids['F5']}/diagnosis", json=diag, headers=ADMIN)
    assert response.status_code == 200, response.text
    set_clock(client, ctx, local(4, 1, 2))
    post_alarm(client, ctx, ne="AGG-GL-2", object="GE0/2/5", type="LOS", severity="cleared")
    set_clock(client, ctx, local(4, 1, 3))
    return ids


MONTH_MINUTES = 31 * 24 * 60  # 44640


def report(client: TestClient, **params: Any) -> Any:
    response = client.get("/api/v1/reports/monthly", params={"month": "2026-03", **params}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response


def rows(client: TestClient, view: str, key: str | None = None) -> list[dict[str, Any]]:
    params = {"month": "2026-03", "view": view, **({"key": key} if key else {})}
    response = client.get("/api/v1/reports/monthly/rows", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_monthly_figures_by_hand(small: Context, client: TestClient) -> None:
    ids = build_month(small, client)
    got = report(client).json()
    # Faults opened in March, planned F3 and drill F4 excluded, F0 (February) not counted: F1, F2, F5.
    assert got["month"] == "2026-03"
    assert got["faults"] == {
        "total": 3,
        "by_region": {"GL": 2, "TJ": 1},  # root NEs AGG-GL-1, OLT-TJ-1, AGG-GL-2
        "by_cause": {"equipment": 1, "fibre_cut": 1, "unknown": 1},  # F5's ticket not closed
        "by_service_type": {"data": 2, "internet": 1, "voice": 1},  # F1 hit DATA-1 (degraded) and VOICE-1
        "by_contractor": {"CT-A": 2, "CT-B": 1},
    }
    assert got["mttr_minutes"] == round((55 + 180 + 180) / 3, 2)  # 09:55-09:00, 17:00-14:00, 02:00-23:00
    # Down minutes in March: VOICE-1 55 (F1); INT-1 60 (F0's March part 00:00-01:00) + 180 (F2), F3
    # planned excluded; C003-DATA-1 60 (F5 until midnight), the drill F4 excluded; DATA-1 only degraded.
    assert got["availability"] == {
        "overall": round(1 - (55 + 240 + 60) / (4 * MONTH_MINUTES), 6),
        "by_circuit": {
            "FZ-C001-VOICE-1": round(1 - 55 / MONTH_MINUTES, 6),
            "FZ-C002-INT-1": round(1 - 240 / MONTH_MINUTES, 6),
            "FZ-C003-DATA-1": round(1 - 60 / MONTH_MINUTES, 6),
        },
    }
    # Tickets: T1 (F1, accepted at once, contact late), T1b (F1's second ticket after diagnosis routed
    # it to TRANS, never worked), T2 (F2, suspended 30 min so its contact at 50 min is on time),
    # T5 (F5, created at diagnosis 23:20, never worked, recovered within A's 6 h).
    # on_site/locate: moot for T1, T1b, T2 (recovered first); T5 breached both.
    assert got["sla_compliance"] == {
        "accept": 0.5,
        "contact": 0.25,
        "on_site": 0.0,
        "locate": 0.0,
        "recover": 1.0,
    }
    assert got["diagnosis_on_time_rate"] == round(1 / 3, 6)  # F1 at 09:10; F2 never; F5 at 23:20 > 23:15
    # Faulty circuits: DATA-1, VOICE-1, INT-1, C003-DATA-1; INT-1 had F0 (02-28) and F2 (03-10) in 30 days.
    assert got["repeat_fault_rate"] == 0.25

    suspended = ticket(client, ids["T2"])
    assert suspended["breaches"] == [] and suspended["suspended_seconds"] == 1800


def test_rows_behind_each_number(small: Context, client: TestClient) -> None:
    ids = build_month(small, client)
    assert [r["incident"] for r in rows(client, "faults")] == [ids["F1"], ids["F2"], ids["F5"]]
    assert [r["incident"] for r in rows(client, "by_region", "GL")] == [ids["F1"], ids["F5"]]
    assert rows(client, "by_region", "XX") == []  # a zero, not an error
    assert [r["incident"] for r in rows(client, "by_cause", "unknown")] == [ids["F5"]]
    spans = rows(client, "availability", "FZ-C002-INT-1")
    assert [(r["incident"], r["minutes"]) for r in spans] == [(ids["F0"], 60.0), (ids["F2"], 180.0)]
    assert datetime.fromisoformat(spans[0]["counted_from"]) == local(3, 1, 0)  # clipped to the month
    contact = rows(client, "sla_contact")
    assert [r["met"] for r in contact] == [False, False, True, False]
    repeat = {r["circuit"]: r for r in rows(client, "repeat_faults")}
    assert repeat["FZ-C002-INT-1"]["repeat"] and repeat["FZ-C002-INT-1"]["faults_in_window"] == 2
    bad = client.get(
        "/api/v1/reports/monthly/rows", params={"month": "2026-03", "view": "nope"}, headers=ADMIN
    )
    assert bad.status_code == 404
    assert (
        client.get("/api/v1/reports/monthly", params={"month": "2026-13"}, headers=ADMIN).status_code == 400
    )


def test_xlsx_has_a_sheet_per_view_and_the_fault_list(small: Context, client: TestClient) -> None:
    ids = build_month(small, client)
    response = report(client, format="xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    assert {
        "summary 汇总",
        "by_region",
        "by_cause",
        "availability",
        "sla_contact",
        "fault list 故障清单",
    } <= set(workbook.sheetnames)
    faults = list(workbook["fault list 故障清单"].iter_rows(values_only=True))
    assert faults[0][0] == "incident" and [r[0] for r in faults[1:]] == [ids["F1"], ids["F2"], ids["F5"]]
    summary = {(r[0], r[1]): r[2] for r in workbook["summary 汇总"].iter_rows(values_only=True)}
    assert summary[("faults 故障数", "total")] == 3
