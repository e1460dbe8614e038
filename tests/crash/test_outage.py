"""The database goes away under load and comes back: ingestion answers 503 with Retry-After (never
a 500, never a 2xx for what was not kept), readiness says why, and once the database is back the
server recovers by itself and the retried alarms are stored exactly once.

PostgreSQL goes away behind a TCP proxy this test owns (the shared server is never touched); SQLite
goes away under another process's exclusive write lock. The outage lasts
``LINEWATCH_TEST_OUTAGE_SECONDS`` (default 3; 30 was run by hand, see docs/reliability.md).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from linewatch.alarms.models import AlarmEventRecord
from linewatch.db.engine import Database
from linewatch.ingest.snmp import LINK_DOWN
from tests.crash import checks
from tests.crash.harness import Server, TcpProxy, storm, wait_until
from tests.ingest.test_snmp import link, send
from tests.notify.peers import free_port

TRAPS = [link(LINK_DOWN, name=f"GE0/9/{i}") for i in range(20)]
OUTAGE_SECONDS = float(os.environ.get("LINEWATCH_TEST_OUTAGE_SECONDS", "3"))
BATCHES, SIZE = 40, 25


class Sender:
    """A well-behaved sender: posts each batch until it is acknowledged, waiting as Retry-After says
    (capped, so a short test outage is retried within it)."""

    def __init__(self, server: Server, bodies: list[list[dict]]) -> None:
        self.server, self.bodies = server, bodies
        self.acked = 0
        self.statuses: list[int] = []
        self.retry_after: set[str] = set()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        deadline = time.monotonic() + OUTAGE_SECONDS + 120
        with self.server.client() as client:
            for body in self.bodies:
                while time.monotonic() < deadline:
                    response = client.post("/api/v1/alarms", json=body)
                    self.statuses.append(response.status_code)
                    if response.status_code == 202:
                        self.acked += 1
                        break
                    assert response.status_code == 503, response.text
                    self.retry_after.add(response.headers.get("Retry-After", ""))
                    time.sleep(min(0.2, float(response.headers["Retry-After"])))  # a sender's back-off


def _outage(server: Server, bodies: list[list[dict]], cut: object, restore: object) -> Sender:
    sender = Sender(server, bodies)
    sender.thread.start()
    wait_until(lambda: sender.acked >= 5, 60, "the first batches acknowledged")
    cut()  # type: ignore[operator]
    down_until = time.monotonic() + OUTAGE_SECONDS
    wait_until(lambda: 503 in sender.statuses, OUTAGE_SECONDS + 30, "a 503 during the outage")
    send(int(server.env["LINEWATCH_SNMP_PORT"]), *TRAPS)  # UDP: no sender retries these
    with server.client() as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
    acked_in_outage = sender.acked
    while time.monotonic() < down_until:
        time.sleep(0.05)  # the outage's length is the parameter under test
    assert sender.acked == acked_in_outage, "acknowledged while the database was away"
    restore()  # type: ignore[operator]
    sender.thread.join()
    assert sender.acked == len(bodies), f"only {sender.acked} batches stored after the outage"
    assert sender.retry_after == {"5"}, sender.retry_after
    with server.client() as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, 30, "readiness after the outage")
        stored = f'linewatch_ingest_events_total{{channel="snmp"}} {len(TRAPS)}'
        wait_until(lambda: stored in client.get("/metrics").text, 30, "the traps held through the outage")
    return sender


def _check(url: str, bodies: list[list[dict]], sender: Sender) -> None:
    db = Database(url)
    try:
        events = checks.alarms_exactly_once(db, bodies)
        checks.incidents_and_tickets_consistent(db)
        with db.reading() as session:
            traps = session.scalar(
                select(func.count()).select_from(AlarmEventRecord).where(AlarmEventRecord.channel == "snmp")
            )
        assert traps == len(TRAPS), f"{len(TRAPS) - (traps or 0)} SNMP traps received in the outage were lost"
    finally:
        db.dispose()
    refused = sender.statuses.count(503)
    print(f"\n{OUTAGE_SECONDS:g} s outage: {refused} answers 503 + Retry-After, {events} events stored once")


@pytest.mark.pg
def test_postgresql_going_away_answers_503_then_recovers(tmp_path: Path, pg_fresh_url: str) -> None:
    target = make_url(pg_fresh_url)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    through_proxy = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = {"LINEWATCH_DB_TIMEOUT": "2", "LINEWATCH_SNMP_PORT": str(free_port())}
    server = Server(through_proxy, tmp_path, env=env)
    server.start()
    bodies = storm(BATCHES, SIZE)
    try:
        sender = _outage(server, bodies, proxy.cut, proxy.restore)
        server.terminate()
    finally:
        if server.proc and server.proc.poll() is None:
            server.kill()
        proxy.close()
    _check(pg_fresh_url, bodies, sender)


def test_sqlite_locked_away_answers_503_then_recovers(tmp_path: Path) -> None:
    from tests.crash.harness import prepare

    path = tmp_path / "linewatch.db"
    url = f"sqlite:///{path}"
    prepare(url)
    server = Server(url, tmp_path, env={"LINEWATCH_DB_TIMEOUT": "1", "LINEWATCH_SNMP_PORT": str(free_port())})
    server.start()
    bodies = storm(BATCHES, SIZE)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def lock() -> None:  # another process's write transaction that does not end
        holder.execute("BEGIN EXCLUSIVE")

    def unlock() -> None:
        holder.execute("ROLLBACK")

    try:
        sender = _outage(server, bodies, lock, unlock)
        server.terminate()
    finally:
        holder.close()
        if server.proc and server.proc.poll() is None:
            server.kill()
    _check(url, bodies, sender)
