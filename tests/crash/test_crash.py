"""SIGKILL mid-storm, restart, redeliver: every acknowledged alarm is stored exactly once, incidents
and tickets agree with their alarms, no timer is lost or fired twice, no notification sent twice.

The storm: 4 senders post batches of alarms (each with a source id, the sender's idempotency key)
while a fifth moves the manual clock 10 minutes at a time, so SLA timers fire and the notify
worker sends to a real webhook peer during the storm. The process is killed once half the batches
are acknowledged, restarted, and the sender delivers everything again — what it saw acknowledged
too, as a sender that lost the answer would — then the clock runs a day on so every timer falls due.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from linewatch.db.engine import Database
from tests.conftest import START
from tests.crash import checks
from tests.crash.conftest import notify_config, unlimited_policy
from tests.crash.harness import Sent, Server, send_all, storm, wait_until
from tests.notify.peers import HttpReceiver

BATCHES, SIZE = 60, 40


@pytest.mark.parametrize("worker_process", [False, True], ids=["one-process", "worker-process"])
def test_sigkill_mid_storm_loses_and_repeats_nothing(
    fresh_url: str, tmp_path: Path, peer: HttpReceiver, worker_process: bool
) -> None:
    """With ``--worker-process`` the parent's SIGKILL leaves its worker draining while the
    restarted server's new worker starts: the two overlap, and still nothing repeats."""
    env = {
        "LINEWATCH_NOTIFY": notify_config(tmp_path, peer),
        "LINEWATCH_POLICY": unlimited_policy(tmp_path),
        "LINEWATCH_WORKER_PROCESS": "1" if worker_process else "0",
    }
    server = Server(fresh_url, tmp_path, env=env)
    server.start()  # the manual clock starts at START
    assert ("worker process" in server.log.read_text()) == worker_process
    bodies = storm(BATCHES, SIZE)
    sent = Sent()
    clock = [START]
    killed = threading.Event()

    def move_clock() -> None:  # timers and notifications happen during the storm
        with server.client() as client:
            while not killed.is_set():
                try:
                    server.set_clock(client, clock[0] + timedelta(minutes=10))
                    clock[0] += timedelta(minutes=10)
                except (httpx.TransportError, AssertionError):
                    return

    def kill_midway() -> None:
        wait_until(lambda: len(sent.acked) >= BATCHES // 2, 120, "half the storm acknowledged")
        server.kill()
        killed.set()

    mover, killer = threading.Thread(target=move_clock), threading.Thread(target=kill_midway)
    mover.start()
    killer.start()
    send_all(server, bodies, sent)
    killer.join()
    mover.join()
    assert killed.is_set() and sent.lost, "the kill must land mid-storm"
    assert not sent.refused, f"refused during the storm: {sent.refused}"
    acked_before = set(sent.acked)

    server.clock = clock[0]  # the clock resumes where it stood
    server.start()
    redelivered = Sent()
    with server.client() as client:
        send_all(server, bodies, redelivered)
        assert redelivered.acked == set(range(BATCHES)), redelivered
        end = clock[0] + timedelta(days=1)
        server.set_clock(client, end)  # every SLA timer falls due

    db = Database(fresh_url)
    try:
        wait_until(lambda: _outbox_settled(db, end), 60, "the notify worker to drain the outbox")
        server.terminate()
        events = checks.alarms_exactly_once(db, bodies)
        found = checks.incidents_and_tickets_consistent(db)
        fired = checks.timers_fired_once(db, end)
        notified = checks.notifications_sent_once(db, peer.received, kills=1)
    finally:
        db.dispose()
    assert found["tickets"] > 0 and fired > 0 and notified > 0, (found, fired, notified)
    print(
        f"\n{db.dialect}: {len(acked_before)}/{BATCHES} batches acknowledged before SIGKILL, "
        f"{len(sent.lost)} unanswered; {events} events stored, {found}, {fired} timers fired, "
        f"{notified} notifications sent, {len(peer.received)} deliveries at the peer"
    )


def _outbox_settled(db: Database, now: datetime) -> bool:
    from sqlalchemy import func, select

    from linewatch.db.outbox import NotificationRequest
    from linewatch.notify.models import Notification
    from linewatch.notify.service import PENDING

    with db.reading() as s:
        waiting = s.scalar(
            select(func.count())
            .select_from(NotificationRequest)
            .where(NotificationRequest.status == "pending")
        )
        queued = s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.status.in_(PENDING), Notification.send_after <= now)
        )
    return waiting == 0 and queued == 0
