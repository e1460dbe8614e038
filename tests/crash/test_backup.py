"""Backup while serving, restore into a new database, and every table holds the same rows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from linewatch.db.engine import Database
from linewatch.schema import metadata
from tests.crash.harness import FAULTS, Sent, Server, pg_database, send_all, storm


def linewatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linewatch.cli", *args], capture_output=True, text=True, check=False
    )


def tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    db = Database(url)
    try:
        with db.reading() as session:
            return {
                table.name: [
                    tuple(row) for row in session.execute(select(table).order_by(*table.primary_key))
                ]
                for table in metadata.sorted_tables
            }
    finally:
        db.dispose()


@pytest.fixture
def empty_target(fresh_url: str, tmp_path: Path) -> Iterator[str]:
    if fresh_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        yield from pg_database(f"linewatch_restore_{os.getpid()}")


def test_backup_while_serving_then_restore_gives_the_same_data(
    fresh_url: str, empty_target: str, tmp_path: Path
) -> None:
    # One process: the storm's dispatch is done moments after its answers, before the backup. (With
    # the worker process it may still be going on, and the state after the stop would hold more
    # than the backup: a difference of timing, not of the backup.)
    server = Server(fresh_url, tmp_path, env={"LINEWATCH_WORKER_PROCESS": "0"})
    server.start()
    try:
        bodies = storm(10, 30)
        bodies[0].append({"source": "ems", "severity": "critical", "source_id": "f-x", **FAULTS[0]})
        sent = Sent()
        send_all(server, bodies, sent)
        assert len(sent.acked) == len(bodies), sent
        backup = tmp_path / "linewatch.backup"
        made = linewatch("backup", str(backup), "--db", fresh_url)  # the server is still running
        assert made.returncode == 0, made.stderr
    finally:
        server.terminate()
    before = tables(fresh_url)

    refused = linewatch("restore", str(backup), "--db", fresh_url)  # never over a live database
    assert refused.returncode == 1, refused.stdout
    assert "restore into a new" in refused.stderr or "not empty" in refused.stderr, refused.stderr
    done = linewatch("restore", str(backup), "--db", empty_target)
    assert done.returncode == 0, done.stderr
    after = tables(empty_target)
    assert after == before, [name for name in before if before[name] != after.get(name)]
    assert len(after["alarm_event"]) == sum(len(b) for b in bodies) and after["ticket"], (
        "too little to compare"
    )

    restarted = Server(empty_target, tmp_path)  # the restored database serves
    restarted.start()
    restarted.terminate()
