"""The pipeline writer: ingest → normalise → dedup/clear → correlate → incident, in one place.

Listeners hand normalised events to :meth:`Pipeline.submit`, which blocks until they are
durably stored. One writer thread owns the alarm and incident books; it drains whatever is
queued into one round (raw events + alarm state + incidents together) and hands its rows to a
committer thread, which writes them in one transaction, publishes the incident changes
downstream and then answers every waiting sender. Draining makes group commit natural: 16
clients posting one alarm each share commits; a batch of 1,000 is one. While one round is
written, the next is applied to the books, so Python work and database work overlap.

The queue is the bus between ingest and processing; partitioning it by NE would let several
writers run on a distributed log (each owning the books of its NEs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from linewatch.alarms.engine import AlarmBook, AlarmChange, Outcome
from linewatch.alarms.normalise import AlarmEvent
from linewatch.core.bus import EventBus
from linewatch.core.clock import Clock
from linewatch.core.errors import LinewatchError
from linewatch.core.policy import Policy
from linewatch.db.batch import Batch, Plan, run_plan
from linewatch.db.engine import Database, is_busy
from linewatch.db.store import StoreFailed, StoreProcess
from linewatch.incidents.engine import IncidentBook, IncidentChange
from linewatch.inventory.index import ImpactIndex

log = logging.getLogger("linewatch.pipeline")
MAX_EVENTS_PER_TRANSACTION = 20_000
INCIDENTS_CHANGED = "incidents.changed"
BUSY_ATTEMPTS = 3  # each waits the database's busy timeout
ALARMS_STORED = "alarms.stored"


@dataclass(frozen=True, slots=True)
class StoredAlarms:
    """What ``ALARMS_STORED`` carries: the alarms a round stored and the open incidents their
    changes touched — an alarm joining or leaving an incident without changing its impact makes
    no incident change, yet the live views show the incident's alarms (decision 100)."""

    alarm_ids: list[int]
    incident_ids: list[int]


class Unavailable(LinewatchError):
    """Storage failed: nothing of this submission was kept; the sender should retry."""

    status = 503
    code = "unavailable"


@dataclass
class _Round:
    """Jobs applied to the books, waiting to be written and answered by the committer."""

    jobs: list[_Job]
    results: list[Any]
    batch: Batch
    incident_changes: list[IncidentChange]
    started: float
    epoch: int  # which load of the books it was built on
    touched: list[int]  # incidents the round's alarm changes belong to, for the live views


@dataclass
class _Job:
    kind: str  # events | clear | tick | rematch
    future: Future[Any] = field(default_factory=Future)
    # or, for a coroutine (enqueue_async): its future, resolved on its loop with the round's others
    waiter: asyncio.Future[Any] | None = None
    channel: str = ""
    events: list[AlarmEvent] = field(default_factory=list)
    received_at: datetime | None = None
    args: dict[str, Any] = field(default_factory=dict)
    queued_at: float = field(default_factory=time.monotonic)  # for the processing lag


class RateMeter:
    """Events per second per channel over the last ``window`` seconds (for /metrics)."""

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self.samples: deque[tuple[float, str, int]] = deque()
        self.lock = threading.Lock()

    def add(self, channel: str, count: int, at: float | None = None) -> None:
        with self.lock:
            self.samples.append((time.monotonic() if at is None else at, channel, count))

    def rates(self, at: float | None = None) -> dict[str, float]:
        now = time.monotonic() if at is None else at
        with self.lock:
            while self.samples and self.samples[0][0] < now - self.window:
                self.samples.popleft()
            totals: dict[str, int] = {}
            for _, channel, count in self.samples:
                totals[channel] = totals.get(channel, 0) + count
        return {channel: total / self.window for channel, total in totals.items()}


class Pipeline:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: Policy,
        bus: EventBus,
        index: Callable[[], ImpactIndex],
        store: StoreProcess | None = None,
    ) -> None:
        self.db, self.clock, self.policy, self.bus, self.index = db, clock, policy, bus, index
        self.store = store  # rounds written by a process of their own (db/store.py), or here
        self.alarms = AlarmBook(policy.alarms)
        self.incidents = IncidentBook(policy, self.alarms)
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.stats = {"events": 0, "transactions": 0, "failures": 0}
        self.by_channel: dict[str, int] = {}
        self.last_commit_seconds = 0.0
        self.lag_seconds = 0.0  # last commit: from the oldest job's queueing to its answer
        self.rates = RateMeter()
        self.stale = False  # the books may not match the database: reload before the next job
        # one round is written while the next is applied; the writer cuts a round only once the
        # committer has taken the one before, so what queued meanwhile goes in together (group commit:
        # a commit costs about the same for 5 alarms as for 50, and 16 one-alarm clients fill it)
        self.rounds: queue.Queue[_Round | None] = queue.Queue(maxsize=1)
        self.taken = threading.Semaphore(0)  # released by the committer as it takes each round
        self.epoch = 0  # bumped at every reload of the books
        self.last_round = 0.0  # time.monotonic() of the latest round: background stages pace on it
        self.failed_epoch = -1
        self.storage_ok = True  # the last transaction committed (readiness); false from a failure on

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._load()
        if self.store is not None:
            self.store.start()
        self.thread = threading.Thread(target=self._run, name="pipeline-writer", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Drain what is queued, then stop (SIGTERM path)."""
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join(timeout=30)
            self.thread = None
        if self.store is not None:
            self.store.stop()

    def _load(self) -> None:
        with self.db.reading() as session:
            index = self.index()
            self.alarms.load(session, index)
            self.incidents.load(session, index, self.clock.now())

    # ------------------------------------------------------------------ submitting
    def submit(self, channel: str, events: list[AlarmEvent], timeout: float = 60) -> list[Outcome]:
        """Store and process events; returns once they are durable. Raises :class:`Unavailable`."""
        return self.enqueue(channel, events).result(timeout=timeout)

    def enqueue(self, channel: str, events: list[AlarmEvent]) -> Future[list[Outcome]]:
        """:meth:`submit` without waiting: the future resolves once the events are durable (or
        fails with :class:`Unavailable`). The HTTP edge awaits it on its event loop."""
        if not events:
            done: Future[list[Outcome]] = Future()
            done.set_result([])
            return done
        if self.thread is None:
            raise Unavailable("the pipeline is not running")
        job = _Job("events", channel=channel, events=events, received_at=self.clock.now())
        self.jobs.put(job)
        return job.future

    def enqueue_async(self, channel: str, events: list[AlarmEvent]) -> asyncio.Future[list[Outcome]]:
        """:meth:`enqueue` for a coroutine: the future belongs to the running event loop, and every
        such answer of a round reaches that loop in one wake-up (one per request cost the committer
        about a quarter of its time with one alarm per request)."""
        waiter: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        if not events:
            waiter.set_result([])
            return waiter
        if self.thread is None:
            raise Unavailable("the pipeline is not running")
        self.jobs.put(
            _Job("events", channel=channel, events=events, received_at=self.clock.now(), waiter=waiter)
        )
        return waiter

    def manual_clear(self, alarm_id: int, reason: str, by: str) -> bool:
        return bool(self._wait(_Job("clear", args={"alarm_id": alarm_id, "reason": reason, "by": by}), 60))

    @property
    def queue_depth(self) -> int:
        return self.jobs.qsize()

    def busy(self) -> bool:
        """Ingest under way: jobs queued, or a round within the last fifth of a second."""
        return self.jobs.qsize() > 0 or time.monotonic() - self.last_round < 0.2

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def tick(self) -> None:
        """Re-evaluate time-driven rules (the 4 h overdue level) at the clock's time."""
        self._wait(_Job("tick"), 60)

    def rematch(self) -> None:
        """Inventory changed: re-match active alarms and recompute impacts."""
        self._wait(_Job("rematch"), 300)

    def _wait(self, job: _Job, timeout: float) -> Any:
        if self.thread is None:
            raise Unavailable("the pipeline is not running")
        self.jobs.put(job)
        return job.future.result(timeout=timeout)

    # ------------------------------------------------------------------ the writer
    def _run(self) -> None:
        committer = threading.Thread(target=self._commit_loop, name="pipeline-committer", daemon=True)
        committer.start()
        try:
            while True:
                first = self.jobs.get()
                if first is None:
                    return
                jobs = [first]
                size = len(first.events)
                stop = False
                while size < MAX_EVENTS_PER_TRANSACTION:
                    try:
                        job = self.jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stop = True
                        break
                    jobs.append(job)
                    size += len(job.events)
                self._process(jobs)
                if stop:
                    return
        finally:
            self.rounds.put(None)
            committer.join()

    def _process(self, jobs: list[_Job]) -> None:
        """Apply jobs to the books and queue their rows for the committer (which answers them)."""
        started = time.perf_counter()
        self.last_round = time.monotonic()
        if self.stale:
            self.rounds.join()  # rounds in flight end first (they fail: built on the lost state)
            try:
                self._load()
                self.stale = False
                self.epoch += 1
            except Exception as exc:  # the database is still away: refuse, keep nothing half-done
                self.storage_ok = False
                _answer(jobs, [Unavailable(f"storage unavailable; retry ({type(exc).__name__})")] * len(jobs))
                return
        index = self.index()
        batch = Batch()
        results: list[Any] = []
        incident_changes: list[IncidentChange] = []
        touched: dict[int, None] = {}  # ordered set
        try:
            for job in jobs:
                now = self.clock.now()
                changes: list[AlarmChange] = []
                result: Any = None
                if job.kind == "events":
                    result, changes = self.alarms.apply(
                        ((job.channel, e) for e in job.events), job.received_at or now, index, batch
                    )
                elif job.kind == "clear":
                    change = self.alarms.manual_clear(
                        job.args["alarm_id"], now, job.args["reason"], job.args["by"], batch
                    )
                    changes = [change] if change else []
                    result = change is not None
                elif job.kind == "rematch":
                    changes = self.alarms.rematch(index, batch)
                if changes:
                    incident_changes += self.incidents.apply(changes, index, now, batch)
                    touched.update((c.alarm.incident_id, None) for c in changes if c.alarm.incident_id)
                if job.kind == "tick":
                    self.incidents.release_planned(now, index, batch, incident_changes)
                    self.incidents.relevel(now, index, batch, incident_changes)
                results.append(result)
        except Exception as exc:  # a bug or bad state: the books are suspect, rebuild them
            self._fail(jobs, exc)  # rounds already queued were built before: they still commit
            return
        # Overlap: while the committer writes this round (the driver releases the GIL), the next
        # round is applied to the books here — cut once the committer has taken this one.
        self.rounds.put(_Round(jobs, results, batch, incident_changes, started, self.epoch, list(touched)))
        self.taken.acquire()

    def _commit_loop(self) -> None:
        while True:
            done = self.rounds.get()
            self.taken.release()
            try:
                if done is None:
                    return
                self._commit(done)
            finally:
                self.rounds.task_done()

    def _commit(self, done: _Round) -> None:
        if done.epoch <= self.failed_epoch:  # built on books a failed round had already changed
            self._fail(done.jobs, RuntimeError("an earlier round failed"))
            return
        try:
            plan = done.batch.plan(self.db.write_engine.dialect)
            for attempt in range(1, BUSY_ATTEMPTS + 1):
                try:
                    self._write(plan)
                    break
                except (OperationalError, StoreFailed) as exc:
                    # another writer held the lock past the busy timeout (a long dispatch round on a
                    # loaded machine): the round is intact and the books agree with it, so wait again
                    busy = exc.busy if isinstance(exc, StoreFailed) else is_busy(exc)
                    if attempt == BUSY_ATTEMPTS or not busy:
                        raise
                    log.warning("database busy; round of %d jobs retried (%d)", len(done.jobs), attempt)
        except Exception as exc:  # any storage failure: answer 503, rebuild state, go on
            self.failed_epoch = done.epoch  # the rounds queued behind it fail too
            self._fail(done.jobs, exc)
            return
        jobs = done.jobs
        self.stats["transactions"] += 1
        self.storage_ok = True
        self.stats["events"] += sum(len(j.events) for j in jobs)
        for job in jobs:
            if job.events:
                self.by_channel[job.channel] = self.by_channel.get(job.channel, 0) + len(job.events)
                self.rates.add(job.channel, len(job.events))
        self.last_commit_seconds = time.perf_counter() - done.started
        self.lag_seconds = time.monotonic() - min(job.queued_at for job in jobs)
        # publish before answering: a sender that waits for downstream work then finds it queued
        results = [o for r in done.results if isinstance(r, list) for o in r]
        stored = [o.alarm_id for o in results if o.alarm_id is not None]
        self.bus.publish(ALARMS_STORED, StoredAlarms(stored, done.touched))
        if done.incident_changes:
            self.bus.publish(INCIDENTS_CHANGED, done.incident_changes)
        _answer(jobs, done.results)

    def _write(self, plan: Plan) -> None:
        """One transaction: in the store process, or on the committer's kept connection."""
        if self.store is not None:
            self.store.write(plan)
            return
        with self.db.hot_transaction() as connection:
            run_plan(connection, plan)

    def _fail(self, jobs: list[_Job], exc: Exception) -> None:
        self.stats["failures"] += 1
        self.storage_ok = False
        log.error("pipeline round failed; state will be reloaded from the database", exc_info=exc)
        _answer(
            jobs, [Unavailable(f"storage failed, nothing kept; retry ({type(exc).__name__})")] * len(jobs)
        )
        self.stale = True


def _answer(jobs: list[_Job], results: list[Any]) -> None:
    """Resolve each job with its result (an exception fails it): a thread's future at once, the
    coroutines' futures in one call on each event loop. A waiter that gave up is skipped — what it
    sent was stored all the same."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for job, result in zip(jobs, results, strict=True):
        if job.waiter is not None:
            by_loop.setdefault(job.waiter.get_loop(), []).append((job.waiter, result))
        elif not job.future.done():
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)
    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for waiter, result in answers:
        if waiter.done():
            continue
        if isinstance(result, BaseException):
            waiter.set_exception(result)
        else:
            waiter.set_result(result)
