"""`serve --worker-process`: the line protocol, the timers split, the write turn across processes,
and a real server whose worker child is killed and comes back."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from linewatch.core.clock import ManualClock
from linewatch.db import timers
from linewatch.db.engine import Database, WriteTurn
from linewatch.incidents.engine import IncidentChange
from linewatch.settings import Settings
from linewatch.tickets.models import Ticket
from linewatch.worker import child_environment, decode, encode
from tests.conftest import START
from tests.crash.harness import FAULTS, Server, prepare, wait_until


def test_incident_changes_and_clock_moves_cross_the_pipe_intact() -> None:
    changes = [
        IncidentChange("opened", 7, "urgent", START),
        IncidentChange("recovered", 9, "general", START + timedelta(seconds=1)),
    ]
    assert decode(encode(changes, busy=True)) == (changes, None, True)
    assert decode(encode([], busy=False)) == ([], None, False)  # a pulse
    moved = START + timedelta(hours=3)
    assert decode(encode(moved, busy=True)) == ([], moved, False)


def test_the_child_inherits_the_settings_and_where_a_manual_clock_stands(tmp_path: Path) -> None:
    settings = Settings(db=f"sqlite:///{tmp_path / 'x.db'}", worker_process=True, clock="manual", snmp_port=0)
    clock = ManualClock(start=START)
    clock.advance(3600)
    env = child_environment(settings, clock)
    assert env["LINEWATCH_DB"] == settings.db
    assert env["LINEWATCH_WORKER_PROCESS"] == "true" and env["LINEWATCH_SNMP_PORT"] == "0"
    assert env["LINEWATCH_CLOCK_START"] == (START + timedelta(hours=1)).isoformat()


def test_timers_split_by_owner_between_processes(small) -> None:  # type: ignore[no-untyped-def]
    fired: list[str] = []

    def handler(_session, timer, _now) -> None:  # type: ignore[no-untyped-def]
        fired.append(timer.owner)

    with small.db.unit_of_work() as session:
        for owner in ("drill", "ticket", "warning"):
            timers.schedule(session, owner, 1, "step", START)
    handlers = {"drill": handler, "ticket": handler, "warning": handler}
    later = START + timedelta(minutes=1)
    assert timers.fire_due(small.db.unit_of_work, handlers, later, skip_owners={"drill"}) == 2
    assert sorted(fired) == ["ticket", "warning"]
    assert timers.fire_due(small.db.unit_of_work, handlers, later, owners={"drill"}) == 1
    assert fired[-1] == "drill"
    assert timers.fire_due(small.db.unit_of_work, handlers, later) == 0


def _file_lock_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_write_turn_holds_the_file_lock_for_the_outermost_transaction_only(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    turn = WriteTurn(path, timeout_seconds=5)
    lock_file = path + "-writeturn"
    with turn:
        assert not _file_lock_free(lock_file)
        with turn:  # nested: the same thread goes on
            assert not _file_lock_free(lock_file)
        assert not _file_lock_free(lock_file)
    assert _file_lock_free(lock_file)
    turn.close()


def test_a_process_that_keeps_the_turn_past_the_timeout_is_passed_by(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the file lock and never lets go: after the busy timeout the writer
    goes on without it (SQLite's own lock decides), with a warning."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    holder = Database(url)
    other = Database(url, busy_timeout_seconds=0.2)
    try:
        # the holder's file lock is another open file: to the other, another process's lock
        with (
            holder.write_turn,  # type: ignore[union-attr]
            caplog.at_level(logging.WARNING, "linewatch.db"),
            other.unit_of_work() as session,
        ):
            session.execute(text("CREATE TABLE written (x INTEGER)"))
        assert other.write_turn is not None and other.write_turn.waited_seconds >= 0.2
        assert "another process held the database" in caplog.text
    finally:
        holder.dispose()
        other.dispose()


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'linewatch.db'}"
    prepare(url)
    server = Server(url, tmp_path, env={"LINEWATCH_WORKER_PROCESS": "1"})
    server.start()
    yield server, Database(url)
    server.terminate()


def _tickets(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def _recovered(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).where(Ticket.recovered_at.is_not(None))) or 0


def _fault(n: int) -> list[dict[str, object]]:
    return [
        {
            "source": "ems",
            **FAULTS[n],
            "severity": "critical",
            "event_time": (START + timedelta(minutes=n)).isoformat(),
        }
    ]


def test_a_killed_worker_process_is_restarted_and_dispatch_goes_on(served) -> None:  # type: ignore[no-untyped-def]
    server, db = served
    with server.client() as client:
        assert client.get("/readyz").json()["checks"]["worker"] == "ok"
        assert client.post("/api/v1/alarms", json=_fault(0)).status_code == 202
        wait_until(lambda: _tickets(db) >= 1, 60, "the worker process to dispatch the first fault")
        os.kill(_child(server, "linewatch.cli worker"), signal.SIGKILL)
        wait_until(
            lambda: "restarting it" in server.log.read_text(), 60, "the parent to notice the dead worker"
        )
        cleared = [
            {**_fault(0)[0], "severity": "cleared", "event_time": (START + timedelta(minutes=5)).isoformat()}
        ]
        assert client.post("/api/v1/alarms", json=cleared).status_code == 202
        wait_until(
            lambda: _recovered(db) == 1, 60, "the restarted worker process to mark the ticket recovered"
        )
        wait_until(lambda: client.get("/readyz").status_code == 200, 60, "readiness with the new worker")
        metrics = client.get("/metrics").text
    assert 'linewatch_queue_depth{queue="downstream"}' in metrics
    assert 'linewatch_worker{counter="restarts"} 1' in metrics
    db.dispose()


def test_the_worker_process_stops_with_its_parent_even_after_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'linewatch.db'}"
    prepare(url)
    server = Server(url, tmp_path, env={"LINEWATCH_WORKER_PROCESS": "1"})
    server.start()
    worker = _child(server, "linewatch.cli worker")
    server.kill()
    wait_until(lambda: _gone(worker), 60, "the orphaned worker to stop")
    assert "worker process stopped" in server.log.read_text()


def _child(server: Server, command: str) -> int:
    """The server's child process running ``command``."""
    found = subprocess.check_output(["pgrep", "-P", str(server.proc.pid), "-f", command]).split()
    assert len(found) == 1, found
    return int(found[0])


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _zombie(pid: int) -> bool:
    """Gone, or exited and not yet reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_downstream_and_the_notify_worker_size_their_transactions_by_time(small) -> None:  # type: ignore[no-untyped-def]
    """Decision 98: both background stages hold the write lock briefly, whatever an item costs."""
    from linewatch.downstream import CHUNK

    assert small.downstream.sizer.size == 1 and small.downstream.sizer.largest == CHUNK
    assert small.notifier.sizer.size == 1
    assert small.notifier.sizer.largest == small.policy.notify.batch


def test_the_pipelines_commit_goes_ahead_of_other_writers_waiting_for_their_turn(tmp_path: Path) -> None:
    """Three processes' turns (three open files): one writing, the pipeline's committer (urgent)
    waiting, then another writer arriving — the committer goes next, then the other."""
    import threading

    path = str(tmp_path / "x.db")
    busy, committer, other = (WriteTurn(path, timeout_seconds=30) for _ in range(3))
    order: list[str] = []

    def enter(turn: WriteTurn, name: str, urgent: bool) -> None:
        turn.acquire(urgent)
        order.append(name)
        turn.release()

    busy.acquire()
    first = threading.Thread(target=enter, args=(committer, "committer", True))
    first.start()
    wait_until(lambda: not _file_lock_free(path + "-writeturn-urgent"), 10, "the committer to queue")
    second = threading.Thread(target=enter, args=(other, "other", False))
    second.start()
    busy.release()
    first.join()
    second.join()
    assert order == ["committer", "other"]
    for turn in (busy, committer, other):
        turn.close()
