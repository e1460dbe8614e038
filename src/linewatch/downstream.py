"""After the pipeline: dispatch (tickets) on incident changes, and the durable timers.

The pipeline publishes incident changes after its commit; this worker takes them on its own
thread (so a storm's ticket work never slows ingest) and, in its own transactions, opens tickets
by the auto-dispatch rules and marks tickets recovered when their circuits are, then runs the
later stages' hooks (real-time warnings, assurance notices). All are idempotent and reconciled
from the database at start, so a crash between the two commits loses nothing — and so a stop
need not drain the queue: it finishes the transaction under way and leaves the rest to the
next start (a storm's backlog took minutes, decision 170).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from sqlalchemy.orm import Session

from linewatch.core.pace import Pacer, Sizer
from linewatch.db import timers
from linewatch.db.engine import Database
from linewatch.incidents.engine import IncidentChange
from linewatch.tickets import service as tickets

log = logging.getLogger("linewatch.downstream")
# A later stage's reaction to incident changes, in downstream's transaction; it may leave steps of
# its work, each for a further transaction of its own.
Step = Callable[[Session], None]
Hook = Callable[[Session, list[IncidentChange]], list[Step] | None]
CHUNK = 10  # incidents dispatched or recovered per transaction, at most
STOP_WAIT_SECONDS = 30  # a safety net: a stop waits one transaction (well under a second)
RECONCILE = "reconcile"  # a queue item: redo from the database what earlier runs left undone
T = TypeVar("T")
# a hook's reconcile at start, (pending, redo): the incidents whose hook work was never done (in a
# read transaction), and the redo for a part of them (a write transaction; idempotent)
Reconciler = tuple[Callable[[Session], list[int]], Callable[[Session, list[int]], None]]


class Downstream:
    name = "downstream"

    def __init__(self, db: Database, env: tickets.Env) -> None:
        self.db, self.env = db, env
        self.changes: queue.Queue[list[IncidentChange] | str | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.handlers: dict[str, timers.Handler] = {tickets.OWNER: tickets.on_timer(env)}
        # later stages' reactions to incident changes (real-time warnings, assurance notices)
        self.hooks: list[Hook] = []
        self.reconcilers: list[Reconciler] = []  # … and their reconciles at start
        self.stopping = threading.Event()  # set: finish the transaction under way, skip the rest
        self.lock = threading.Lock()  # timer firing and change handling never interleave
        self.sizer = Sizer(CHUNK, Pacer())  # incidents per transaction; its pacer gives way to ingest
        self.stats = {"dispatched": 0, "recovered": 0, "timers_fired": 0, "failures": 0, "skipped": 0}
        self.failed: list[IncidentChange] = []  # changes whose round failed (database away): retried
        self.reconcile_failed = False  # … and whether the reconcile at start did: retried too
        self._failed_lock = threading.Lock()
        self.skip_owners: set[str] = set()  # timers another process fires (worker.py)

    def start(self) -> None:
        """The reconcile first, on the worker's thread (paced, stoppable): after a stop mid-storm
        it has hundreds of incidents to do, and the server must answer meanwhile."""
        self.stopping.clear()
        self.changes.put(RECONCILE)
        self.thread = threading.Thread(target=self._run, name="downstream", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """After the transaction under way: the changes still queued are skipped (the next start's
        reconcile redoes them). ``stopping`` may be set earlier, so that a tick waiting in
        :meth:`join` is released while the other stages stop."""
        self.stopping.set()
        if self.thread is not None:
            self.changes.put(None)
            self.thread.join(timeout=STOP_WAIT_SECONDS)
            if self.thread.is_alive():
                log.error("downstream did not stop in %.0f s", STOP_WAIT_SECONDS)
            self.thread = None

    def publish(self, changes: list[IncidentChange]) -> None:
        self.changes.put(changes)

    def join(self) -> None:
        """Wait until every published change has been handled (tests, clock moves)."""
        if self.thread is not None:
            self.changes.join()

    def diagnostics(self) -> dict[str, object]:
        return {"name": self.name, "queued": self.changes.qsize(), "retrying": len(self.failed), **self.stats}

    def reconcile(self) -> None:
        """At start: dispatch what should have been, recover what has been, then the hooks' work
        (all idempotent), in the same paced chunks as live changes (a restart after a stop or a
        crash mid-storm finds hundreds undone)."""
        with self.db.reading() as session:
            dispatch = tickets.undispatched_incidents(session)
            recover = tickets.unrecovered_incidents(session)
        self._work(dispatch, sorted(recover))
        for pending, redo in self.reconcilers:
            with self.db.reading() as session:
                undone = [] if self.stopping.is_set() else pending(session)
            for part in self._sized(undone):
                with self.lock, self.db.unit_of_work() as session:
                    redo(session, part)

    def retry_failed(self) -> None:
        """Hand the changes of failed rounds to the worker again (each tick: the database may be back)."""
        with self._failed_lock:
            changes, self.failed = self.failed, []
            reconcile, self.reconcile_failed = self.reconcile_failed, False
        if reconcile:
            self.changes.put(RECONCILE)
        if changes:
            self.publish(changes)

    def fire_timers(self) -> int:
        self.retry_failed()
        with self.lock:
            fired = timers.fire_due(
                self.db.unit_of_work,
                self.handlers,
                self.env.clock.now(),
                skip_owners=self.skip_owners,
                stopping=self.stopping.is_set,
            )
        self.stats["timers_fired"] += fired
        return fired

    def _run(self) -> None:
        while True:
            changes = self.changes.get()
            try:
                if changes is None:
                    return
                if self.stopping.is_set():  # skipped: the next start's reconcile redoes it
                    self.stats["skipped"] += len(changes) if isinstance(changes, list) else 0
                elif isinstance(changes, list):
                    self._handle(changes)
                else:
                    self.reconcile()
            except Exception:  # retried at the next tick (handling is idempotent), or at start (reconcile)
                self.stats["failures"] += 1
                log.exception("downstream handling failed; retried at the next tick")
                with self._failed_lock:
                    if isinstance(changes, list):
                        self.failed.extend(changes)
                    else:
                        self.reconcile_failed = True
            finally:
                self.changes.task_done()

    def _handle(self, changes: list[IncidentChange]) -> None:
        dispatch = sorted(
            {
                c.incident_id
                for c in changes
                if c.kind in ("opened", "level_changed", "impacts_changed", "unplanned")
            }
        )
        recover = sorted({c.incident_id for c in changes if c.kind in ("recovered", "impacts_changed")})
        self._work(dispatch, recover)
        # the hooks too, a few incidents at a time (a storm round brings hundreds of urgent ones)
        by_incident: dict[int, list[IncidentChange]] = {}
        for change in changes:
            by_incident.setdefault(change.incident_id, []).append(change)
        for groups in self._sized(list(by_incident.values()) if self.hooks else []):
            part = [change for group in groups for change in group]
            later: list[Step] = []
            with self.lock, self.db.unit_of_work() as session:
                for hook in self.hooks:
                    later += hook(session, part) or []
            # what a hook left for further transactions (a huge incident's thousands of customers),
            # a transaction each; on a stop the rest is left to the next start's reconcile
            for step in later:
                if self.stopping.is_set():
                    break
                with self.lock, self.db.unit_of_work() as session:
                    step(session)

    def _work(self, dispatch: list[int], recover: list[int]) -> None:
        # In chunks, each its own transaction, paced: a storm's round of hundreds of incidents must
        # not hold the write lock (and the interpreter) for seconds while the pipeline waits.
        for part in self._sized(dispatch):
            with self.lock, self.db.unit_of_work() as session:
                self.stats["dispatched"] += len(tickets.auto_dispatch(session, self.env, part))
        for part in self._sized(recover):
            with self.lock, self.db.unit_of_work() as session:
                self.stats["recovered"] += tickets.recover_from_incidents(session, self.env, part)

    def _sized(self, items: list[T]) -> Iterator[list[T]]:
        """``items`` in parts of the sizer's size, each handled (one transaction) before the next
        part is cut, so that the part's time sizes the next one."""
        start = 0
        while start < len(items) and not self.stopping.is_set():
            size, began = self.sizer.size, time.monotonic()
            yield items[start : start + size]
            self.sizer.took(began)
            start += size


class Ticker:
    """On the real clock: re-evaluate time rules and fire due timers every few seconds."""

    name = "ticker"

    def __init__(self, tick: Callable[[], None], interval_seconds: float = 5.0) -> None:
        self.tick, self.interval = tick, interval_seconds
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.stopping.clear()
        self.thread = threading.Thread(target=self._run, name="ticker", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
            self.thread = None

    def diagnostics(self) -> dict[str, object]:
        return {"name": self.name}

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.tick()
            except Exception:  # the next tick tries again
                log.exception("tick failed")
