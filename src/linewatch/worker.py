"""Dispatch, timers and notifications in a process of their own (``serve --worker-process``).

In one process the pipeline shares the interpreter (and, on SQLite, its turn at the write
lock) with downstream dispatch and the notify worker; in a storm every new incident's ticket,
timers, warnings and dozens of notifications then slow ingest. With the worker process the
``serve`` process keeps HTTP, the listeners, the pipeline and the live view; the child
``linewatch worker`` runs downstream dispatch, the durable timers (all but the drills', whose
steps are injected into the pipeline), early-warning reviews and the notify worker, on the
other core.

The two talk through the child's standard streams, one JSON object per line:
  stdin   the pipeline's incident changes, in commit order, and whether ingest is busy (the
          worker gives way to ingest in a storm as the in-process stages do, core/pace.py)
  stdout  the worker's counters every second (metrics, readiness)
Nothing is lost if either side dies: dispatch and recovery are reconciled from the database
when a worker starts (as after any restart), timers are claimed in the database, and the child
stops when its stdin closes (the parent is gone). The parent restarts a child that died.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from linewatch.incidents.engine import IncidentChange

if TYPE_CHECKING:
    from linewatch.context import Context
    from linewatch.core.clock import Clock
    from linewatch.settings import Settings

log = logging.getLogger("linewatch.worker")
STATS_INTERVAL_SECONDS = 1.0
RESTART_DELAY_SECONDS = 1.0  # between a child's death and its successor
PULSE_SECONDS = 0.1  # while ingest is busy, the parent says so at least this often


def encode(item: list[IncidentChange] | datetime, busy: bool) -> bytes:
    """One line for the child: incident changes, or where a manual clock now stands."""
    if isinstance(item, datetime):
        message: dict[str, Any] = {"clock": item.isoformat()}
    else:
        rows = [[c.kind, c.incident_id, c.level, c.at.isoformat()] for c in item]
        message = {"changes": rows, "busy": busy}
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> tuple[list[IncidentChange], datetime | None, bool]:
    """(incident changes, the manual clock's new time or None, whether ingest is busy)."""
    message = json.loads(line)
    if "clock" in message:
        return [], datetime.fromisoformat(message["clock"]), False
    changes = [
        IncidentChange(kind, int(incident_id), level, datetime.fromisoformat(at))
        for kind, incident_id, level, at in message["changes"]
    ]
    return changes, None, bool(message.get("busy"))


def child_environment(settings: Settings, clock: Clock) -> dict[str, str]:
    """The parent's settings, as the ``LINEWATCH_*`` variables the child's settings read; a manual
    clock starts where the parent's stands now (a restarted child must not go back in time)."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"LINEWATCH_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    if clock.manual:
        env["LINEWATCH_CLOCK_START"] = clock.now().isoformat()
    return env


class WorkerProcess:
    """The parent's handle on the child: forwards incident changes, keeps its last counters."""

    name = "worker"

    def __init__(
        self, settings: Settings, clock: Clock, ingest_busy: Callable[[], bool] = lambda: False
    ) -> None:
        self.settings, self.clock, self.ingest_busy = settings, clock, ingest_busy
        self.changes: queue.Queue[list[IncidentChange] | datetime | None] = queue.Queue()
        self.process: subprocess.Popen[bytes] | None = None
        self.stats: dict[str, Any] = {}
        self.stats_at = 0.0  # time.monotonic() of the child's last report
        self.restarts = 0
        self._forwarder: threading.Thread | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._spawn()
        self._forwarder = threading.Thread(target=self._forward, name="worker-forwarder", daemon=True)
        self._forwarder.start()

    def stop(self, timeout: float = 60) -> None:
        """Forward what is queued, close the child's stdin, wait for it to exit: it finishes the
        transaction under way and leaves its backlog to the next start (decision 170); the
        timeout is a safety net."""
        self._stopping = True
        self.changes.put(None)
        if self._forwarder is not None:
            self._forwarder.join(timeout=timeout)
            self._forwarder = None
        process = self.process
        if process is not None:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.error("worker process %d did not stop in %.0f s; killed", process.pid, timeout)
                process.kill()
                process.wait()

    def publish(self, changes: list[IncidentChange]) -> None:
        self.changes.put(changes)

    def clock_moved(self, when: datetime) -> None:
        """A manual clock moved (tests, drills): the child's follows, then fires what fell due."""
        self.changes.put(when)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def diagnostics(self) -> dict[str, object]:
        return {
            "name": self.name,
            "pid": self.process.pid if self.process else None,
            "running": self.running,
            "forwarding": self.changes.qsize(),
            "restarts": self.restarts,
            "report_age_seconds": round(time.monotonic() - self.stats_at, 3) if self.stats_at else None,
        }

    # ------------------------------------------------------------------ internals
    def _spawn(self) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", "linewatch.cli", "worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_environment(self.settings, self.clock),
        )
        self.process = process
        threading.Thread(target=self._read, args=(process,), name="worker-reader", daemon=True).start()
        log.info("worker process %d started", process.pid)

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        """The child's counters until its stdout closes; then, unless we are stopping, a successor."""
        assert process.stdout is not None
        for line in process.stdout:
            try:
                self.stats = json.loads(line)
                self.stats_at = time.monotonic()
            except ValueError:
                log.warning("worker process wrote a line that is not JSON: %r", line[:200])
        code = process.wait()
        if self._stopping:
            return
        log.error("worker process %d exited (%s); restarting it", process.pid, code)
        time.sleep(RESTART_DELAY_SECONDS)  # no restart loop faster than this; not timing anything
        if not self._stopping:
            self.restarts += 1
            self._spawn()  # the new child reconciles from the database

    def _forward(self) -> None:
        while True:
            try:
                item = self.changes.get(timeout=PULSE_SECONDS)
            except queue.Empty:
                if not self.ingest_busy():
                    continue
                item = []  # a pulse: ingest is busy although no incident changed
            if item is None:
                break
            line = encode(item, self.ingest_busy())
            while not self._write(line):  # the child died: its successor (see _read) takes it
                if self._stopping:
                    return
                time.sleep(RESTART_DELAY_SECONDS)  # waiting for the restart, not timing anything
        process = self.process
        if process is not None and process.stdin is not None:
            process.stdin.close()

    def _write(self, line: bytes) -> bool:
        process = self.process
        if process is None or process.stdin is None or process.poll() is not None:
            return False
        try:
            process.stdin.write(line)
            process.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):  # ValueError: stdin already closed
            return False


def run(ctx: Context, source: IO[bytes], report: IO[bytes]) -> None:
    """The child's main loop: changes from ``source`` until it closes; counters to ``report``."""
    from linewatch.assurance import drills
    from linewatch.context import INGEST_PRIORITY_RATIO
    from linewatch.core.clock import ManualClock
    from linewatch.core.pace import Pacer
    from linewatch.downstream import Ticker
    from linewatch.reports import warnings as early_warnings

    busy_heard = [0.0]  # time.monotonic() the parent last said ingest was busy
    if not ctx.clock.manual:  # tests and manual-clock drills have no storm to protect
        pacer = Pacer(lambda: time.monotonic() - busy_heard[0] < 2 * PULSE_SECONDS, INGEST_PRIORITY_RATIO)
        ctx.downstream.sizer.pacer = ctx.notifier.sizer.pacer = pacer
    ctx.downstream.skip_owners = {drills.OWNER}  # drill steps go into the pipeline: the parent's
    ctx.db.start_checkpointer()
    ctx.downstream.start()
    ctx.downstream.fire_timers()
    ctx.notifier.start()

    def tick() -> None:
        with ctx.db.unit_of_work() as session:
            early_warnings.ensure_reviews(session, ctx.policy, ctx.clock.tz, ctx.clock.now())
        ctx.downstream.fire_timers()
        ctx.notifier.kick()

    ticker: Ticker | None = None
    if not ctx.clock.manual:  # a manual clock moves only when the parent says so
        ticker = Ticker(tick)
        ticker.start()
    done = threading.Event()

    def reporting() -> None:
        while not done.wait(STATS_INTERVAL_SECONDS):
            stats = {
                "downstream": ctx.downstream.diagnostics(),
                "notify": [[outcome, kind, n] for (outcome, kind), n in ctx.notifier.by_channel.items()],
            }
            try:
                report.write(json.dumps(stats).encode() + b"\n")
                report.flush()
            except (BrokenPipeError, OSError):
                return

    threading.Thread(target=reporting, name="worker-report", daemon=True).start()
    try:
        for line in source:
            try:
                changes, moved_to, busy = decode(line)
            except (ValueError, KeyError, TypeError):  # never expected: reconcile from the database
                log.error("worker: unreadable change line %r; reconciling instead", line[:200])
                ctx.downstream.reconcile()
                continue
            if busy:
                busy_heard[0] = time.monotonic()
            if changes:
                ctx.downstream.publish(changes)
            if moved_to is not None and isinstance(ctx.clock, ManualClock):
                # the changes (and the start's reconcile) before the move first, at the time they
                # belong to: moved first, a ticket dispatched late took the new time for its SLA
                # clock, and the timers the move should fire were not yet due
                ctx.downstream.join()
                ctx.clock.set(moved_to)
                tick()
    finally:  # the parent is stopping (or gone): as Context.stop, leave the backlog to the next start
        ctx.downstream.stopping.set()
        ctx.notifier.stopping.set()
        if ticker is not None:
            ticker.stop()
        ctx.downstream.stop()
        ctx.notifier.stop()
        ctx.db.stop_checkpointer()
        done.set()
        log.info("worker process stopped")
