"""The pipeline's rounds written by the store process (db/store.py, decision 180): the same answers
as in-thread, a refused or busy write answered 503 and recovered, a dead child replaced with nothing
acknowledged lost, and a child that stops with its parent. SQLite and PostgreSQL; a real child."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from linewatch.app import create_app
from linewatch.context import Context, build_context
from linewatch.core.actor import SYSTEM
from linewatch.db.store import StoreFailed, StoreProcess
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from linewatch.settings import Settings
from tests.alarms import test_pipeline_store
from tests.alarms.test_scenarios import alarm, incidents, post
from tests.conftest import ADMIN, ADMIN_TOKEN, SMALL, START
from tests.crash.harness import Server, prepare, wait_until
from tests.test_worker import _gone


def _context(db_url: str, **settings: object) -> Context:
    context = build_context(
        Settings(
            db=db_url,
            clock="manual",
            admin_token=ADMIN_TOKEN,
            snmp_port=0,
            syslog_port=0,
            store_process=True,
            **settings,  # type: ignore[arg-type]
        ),
        migrate=False,
    )
    context.clock.set(START)  # type: ignore[attr-defined]
    with context.db.unit_of_work() as session:
        assert import_inventory(session, context.clock, read_path(SMALL), SYSTEM, dry_run=False).ok
    context.rebuild_index()
    return context


@pytest.fixture
def stored(db_url: str) -> Iterator[Context]:
    context = _context(db_url)
    yield context
    context.db.dispose()


@pytest.fixture
def client(stored: Context) -> Iterator[TestClient]:
    with TestClient(create_app(stored)) as test_client:
        yield test_client


def _listed(client: TestClient) -> list[tuple[str, str, int]]:
    items = client.get("/api/v1/alarms", headers=ADMIN).json()["items"]
    return sorted((a["ne"], a["object"], a["count"]) for a in items)


def test_rounds_are_written_by_the_store_process(stored: Context, client: TestClient) -> None:
    store = stored.pipeline.store
    assert store is not None and store.pid is not None and store.pid != os.getpid()
    post(
        client,
        alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"),
        alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"),
    )
    post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"))  # a duplicate: an update of the row
    assert _listed(client) == [("ACC-GL-1", "GE0/2/1", 2), ("AGG-GL-2", "GE0/2/5", 1)]
    circuits = {i["circuit"] for incident in incidents(client) for i in incident["impacts"]}
    assert {"FZ-C001-DATA-1", "FZ-C003-DATA-1"} <= circuits
    assert stored.db._hot is None  # this process never opened the committer's connection
    assert store.started == 1


def test_a_refused_write_answers_503_and_recovers_with_the_store_process(
    stored: Context, client: TestClient
) -> None:
    # the same assertions as in-thread: the child's error reaches the sender as a 503, nothing kept
    refused_write = (
        test_pipeline_store.test_a_refused_write_answers_503_keeps_nothing_and_the_pipeline_recovers
    )
    refused_write(stored, client)
    assert stored.pipeline.store is not None and stored.pipeline.store.started == 1  # the child lived on


def test_a_dead_store_process_is_replaced_and_nothing_acknowledged_is_lost(
    stored: Context, client: TestClient
) -> None:
    [first] = post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"))["ids"]
    store = stored.pipeline.store
    assert store is not None and store.process is not None
    os.kill(store.process.pid, signal.SIGKILL)
    store.process.wait()
    [second] = post(client, alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"))["ids"]
    assert store.started == 2 and second != first
    assert _listed(client) == [("ACC-GL-1", "GE0/2/1", 1), ("AGG-GL-2", "GE0/2/5", 1)]


def test_a_busy_database_is_retried_then_answered_503(tmp_path: Path, sqlite_template: Path) -> None:
    """SQLite's write lock (PostgreSQL writers of different rows do not wait for each other)."""
    shutil.copy(sqlite_template, tmp_path / "busy.db")
    context = _context(f"sqlite:///{tmp_path / 'busy.db'}", db_timeout=0.2)
    try:
        with TestClient(create_app(context)) as client:
            # another program holds the write lock (it takes no write turn): SQLite's busy timeout
            holder = sqlite3.connect(make_url(context.db.url).database, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            refused = client.post("/api/v1/alarms", json=[alarm("ACC-GL-1", "LOS", "GE0/2/1")], headers=ADMIN)
            holder.execute("ROLLBACK")
            holder.close()
            assert refused.status_code == 503 and "retry" in refused.json()["error"]
            assert context.pipeline.stats["failures"] == 1
            post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1"))  # the lock is free: stored
            assert _listed(client) == [("ACC-GL-1", "GE0/2/1", 1)]
    finally:
        context.db.dispose()


def test_the_store_process_stops_when_its_parent_is_gone(db_url: str) -> None:
    store = StoreProcess(db_url, 5.0)
    store.start()
    assert store.process is not None and store.requests is not None and store.replies is not None
    # what the OS does for a parent killed by SIGKILL: its ends of the pipes close
    store.requests.close()
    store.replies.close()
    assert store.process.wait(timeout=30) == 0


def test_a_store_process_whose_database_is_away_says_so_and_lives_on() -> None:
    store = StoreProcess("postgresql://127.0.0.1:1/nowhere", 1.0)  # nothing listens on port 1
    store.start()
    try:
        with pytest.raises(StoreFailed, match="OperationalError") as failed:
            store.write([("many", "SELECT 1", [()], ())])
        assert not failed.value.busy  # not worth a retry: the edges answer 503 and senders retry
        assert store.pid is not None and store.started == 1
    finally:
        store.stop()
    assert store.process is None


def test_serve_has_a_store_process_that_stops_when_serve_is_killed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'linewatch.db'}"
    prepare(url)
    server = Server(url, tmp_path, env={"LINEWATCH_WORKER_PROCESS": "0"})
    server.start()
    with server.client() as client:
        assert client.post("/api/v1/alarms", json=[alarm("ACC-GL-1", "LOS", "GE0/2/1")]).status_code == 202
    found = subprocess.check_output(["pgrep", "-P", str(server.proc.pid), "-f", "linewatch.db.store"]).split()
    assert len(found) == 1, found
    store = int(found[0])
    server.kill()
    wait_until(lambda: _gone(store), 60, "the orphaned store process to stop")
    assert "Broken" not in server.log.read_text()  # it stopped at the end of its input, not on an error
