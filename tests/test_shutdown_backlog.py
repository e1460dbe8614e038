"""A stop with a downstream backlog (issue 9): downstream finishes the transaction under way and
leaves the rest; the next start redoes it — tickets, real-time red warnings, the assurance team's
notice — exactly once, and never re-raises a warning an operator closed (decisions 170–173)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from linewatch.context import Context, build_context
from linewatch.settings import Settings
from linewatch.tickets.models import Ticket
from tests.assurance.test_assurance import C003_LOS, period
from tests.conftest import ADMIN, ADMIN_TOKEN
from tests.cutovers.helpers import in_window
from tests.reports.test_warnings import requests, warnings
from tests.tickets.helpers import advance, advance_to, incidents, outbox, post_alarm

C001_LOS = {"ne": "AGG-GL-1", "object": "GE0/1/0", "type": "LOS"}  # urgent: C001's two lines
C002_LOS = {"ne": "OLT-TJ-1", "object": "0/1/1", "type": "LOS"}


def _ticketed(ctx: Context) -> int:
    """Incidents with a ticket."""
    with ctx.db.reading() as session:
        return session.scalar(select(func.count(func.distinct(Ticket.incident_id)))) or 0


def _post(client: TestClient, **alarm: Any) -> None:
    """An alarm, durable once answered; downstream's work on it is not waited for."""
    response = client.post(
        "/api/v1/alarms", json={"source": "ems", "severity": "critical", **alarm}, headers=ADMIN
    )
    assert response.status_code == 202, response.text


def test_a_stop_leaves_the_backlog_and_the_next_start_does_it_exactly_once(
    small: Context, client: TestClient, db_url: str
) -> None:
    advance_to(client, small, in_window(9))
    period(client, scope={"circuits": ["FZ-C003-DATA-1"]})
    advance_to(client, small, in_window(9, 30))
    downstream = small.downstream
    downstream.lock.acquire()  # downstream stuck in its first transaction: a backlog builds behind it
    try:
        for alarm in (C001_LOS, C002_LOS, C003_LOS):
            _post(client, **alarm)
        ticking = threading.Thread(target=downstream.join)  # a tick waiting for downstream (on_tick)
        ticking.start()
        stopper = threading.Thread(target=small.stop)  # SIGTERM
        stopper.start()
        assert downstream.stopping.wait(30)
    finally:
        downstream.lock.release()
    stopper.join(30)
    ticking.join(30)
    assert not stopper.is_alive() and not ticking.is_alive()
    assert downstream.stats["skipped"] >= 1  # changes left to the next start
    opened = incidents(client)
    assert len(opened) == 3
    dispatchable = [i for i in opened if i["level"] in ("urgent", "general")]  # the auto-dispatch rule
    assert len(dispatchable) == 2
    # the transaction under way (one incident: the sizer starts at one), then nothing more
    assert downstream.stats["dispatched"] <= 1 and _ticketed(small) <= 1
    assert warnings(client) == [] and outbox(small, "incident.assurance") == []

    settings = Settings(db=db_url, clock="manual", admin_token=ADMIN_TOKEN, snmp_port=0, syslog_port=0)
    again = build_context(settings, migrate=False)
    again.clock.set(small.clock.now())  # type: ignore[attr-defined]
    try:
        again.start()  # reconciles
        again.settle()
        for _ in range(2):  # idempotent: nothing more the second and third time
            assert _ticketed(again) == len(dispatchable)
            [red] = warnings(client)
            assert (red["customer"], red["level"], red["source"]) == ("C001", "red", "realtime")
            assert len(requests(again)) == 1
            [notice] = outbox(again, "incident.assurance")
            c003 = next(i for i in opened if i["assurance"])
            assert (
                notice.incident_id == c003["id"]
                and notice.data["entered"] == c003["assurance_history"][0]["since"]
            )
            again.downstream.reconcile()
    finally:
        again.stop()
        again.db.dispose()


def test_reconcile_raises_lost_reds_but_never_one_an_operator_closed(
    small: Context, client: TestClient
) -> None:
    small.downstream.hooks.clear()  # every incident change's hooks lost, as at a stop
    post_alarm(client, small, **C001_LOS)
    assert warnings(client) == []
    small.downstream.reconcile()
    [red] = warnings(client)
    assert (red["customer"], red["level"], red["state"]) == ("C001", "red", "active")
    small.downstream.reconcile()
    assert len(warnings(client)) == 1 and len(requests(small)) == 1
    closed = client.post(f"/api/v1/warnings/{red['id']}/close", json={"note": "客户已知悉"}, headers=ADMIN)
    assert closed.status_code == 200, closed.text
    small.downstream.reconcile()  # the incident is still open and urgent: closed stays closed
    assert warnings(client) == [] and [w["state"] for w in warnings(client, all="true")] == ["closed"]
    assert len(requests(small)) == 1
    # a new urgent fault after the close: its red is raised
    post_alarm(client, small, **C001_LOS, severity="cleared")
    advance(client, small, 3600)
    post_alarm(client, small, **C001_LOS)
    small.downstream.reconcile()
    active = warnings(client)
    assert len(active) == 1 and active[0]["id"] != red["id"] and len(requests(small)) == 2


def test_the_assurance_notice_is_written_once_per_entry(small: Context, client: TestClient) -> None:
    advance_to(client, small, in_window(9))
    period(client, scope={"circuits": ["FZ-C003-DATA-1"]})
    advance_to(client, small, in_window(9, 30))
    post_alarm(client, small, **C003_LOS)  # the live hook writes it
    small.downstream.reconcile()
    small.downstream.reconcile()
    assert len(outbox(small, "incident.assurance")) == 1
