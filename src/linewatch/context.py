"""The running application's parts, built once and handed to every edge (no module singletons)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from linewatch.alarms import knowledge
from linewatch.alarms.service import reject
from linewatch.assurance import drills
from linewatch.assurance import service as assurance
from linewatch.assurance.service import AssuranceScopes
from linewatch.core.bus import INVENTORY_CHANGED, EventBus
from linewatch.core.clock import Clock, make_clock
from linewatch.core.pace import Pacer
from linewatch.core.policy import Policy, load_policy
from linewatch.cutovers import service as cutovers
from linewatch.cutovers.windows import PlannedWindows
from linewatch.db import timers
from linewatch.db.engine import Database
from linewatch.db.migrate import upgrade
from linewatch.db.store import StoreProcess
from linewatch.downstream import Downstream, Ticker
from linewatch.incidents.engine import IncidentChange
from linewatch.ingest.base import PipelineSink
from linewatch.ingest.listeners import Listener, build_listeners
from linewatch.inventory.index import ImpactIndex
from linewatch.notify.worker import NotifyWorker, load_channels
from linewatch.pipeline import INCIDENTS_CHANGED, Pipeline
from linewatch.reports import warnings as early_warnings
from linewatch.settings import Settings
from linewatch.tickets.service import Env
from linewatch.worker import WorkerProcess

log = logging.getLogger("linewatch")
# In a storm, downstream dispatch and the notify worker sleep twice as long as each unit of work
# took (core/pace.py), leaving the interpreter to the pipeline; they catch up when it is quiet.
INGEST_PRIORITY_RATIO = 2.0


@dataclass
class Context:
    settings: Settings
    db: Database
    clock: Clock
    policy: Policy
    bus: EventBus
    index: ImpactIndex = field(default_factory=ImpactIndex)
    pipeline: Pipeline = field(init=False)
    suggestions: knowledge.Suggestions = field(default_factory=knowledge.Suggestions)
    sink: PipelineSink = field(init=False)
    downstream: Downstream = field(init=False)
    notifier: NotifyWorker = field(init=False)
    ticker: Ticker | None = None
    listeners: list[Listener] = field(default_factory=list)
    workers: list[Listener] = field(default_factory=list)  # extra workers (the demo's fault simulator)
    _index_lock: threading.Lock = field(default_factory=threading.Lock)
    windows: PlannedWindows = field(init=False)  # cutover windows the alarm book consults
    scopes: AssuranceScopes = field(default_factory=AssuranceScopes)  # … and the incident book
    drill_steps: drills.StepRunner = field(init=False)  # timed drill steps, on the timers
    worker: WorkerProcess | None = None  # `serve --worker-process`: downstream and notify run there

    def __post_init__(self) -> None:
        store = None
        # not beside the worker process: three processes on two cores were slower (decision 180)
        if self.settings.store_process and not self.settings.worker_process and not self.db.in_memory:
            store = StoreProcess(self.db.url, self.settings.db_timeout)
        self.pipeline = Pipeline(self.db, self.clock, self.policy, self.bus, lambda: self.index, store)
        self.sink = PipelineSink(self.pipeline.submit, self.dead_letter)
        self.downstream = Downstream(self.db, Env(self.clock, self.policy))
        channels, link_base = load_channels(self.settings.notify, self.clock)
        self.notifier = NotifyWorker(self.db, self.clock, self.policy, channels, link_base)
        # early warnings (DOMAIN 8): periodic reviews on the timers, real-time red on urgent incidents
        self.downstream.handlers[early_warnings.OWNER] = early_warnings.on_timer(self.policy, self.clock.tz)
        self.downstream.hooks.append(early_warnings.on_incident_changes(self.policy, self.clock.tz))
        self.downstream.reconcilers.append(
            (early_warnings.unwarned_urgent, early_warnings.reconcile_realtime(self.policy, self.clock))
        )
        grace = timedelta(minutes=self.policy.cutovers.window_grace_minutes)
        self.windows = PlannedWindows(self.policy.alarms.ne_level_types, grace)
        self.pipeline.alarms.planned_check = self.windows.is_planned
        self.pipeline.incidents.assurance_check = self.scopes.covering
        self.pipeline.incidents.still_planned = self.windows.still_covers
        self.downstream.hooks.append(assurance.notify_team(self.clock))
        self.downstream.reconcilers.append(
            (assurance.untold_incidents, assurance.reconcile_notices(self.clock))
        )
        if not self.clock.manual:  # tests and manual-clock drills have no storm to protect
            pacer = Pacer(self.pipeline.busy, INGEST_PRIORITY_RATIO)
            self.downstream.sizer.pacer = self.notifier.sizer.pacer = pacer
        self.drill_steps = drills.StepRunner(self.clock.tz, self.policy.alarms.type_aliases)
        self.downstream.handlers[drills.OWNER] = self.drill_steps.on_timer

    def dead_letter(self, channel: str, remote: str, reason: str, payload: bytes | str) -> None:
        with self.db.unit_of_work() as session:
            reject(session, self.clock, channel, remote, reason, payload)

    def rebuild_index(self, _payload: object = None) -> None:
        with self.db.reading() as session:
            fresh = ImpactIndex.build(session)
        with self._index_lock:
            self.index = fresh

    def refresh_plans(self) -> None:
        """Cutovers or assurance periods changed (or the inventory under them): new lookups."""
        with self.db.reading() as session:
            cutovers.refresh_windows(session, self.windows, self.index)
            assurance.refresh_scopes(session, self.scopes, self.index, self.clock.now())

    def on_inventory_changed(self, payload: object = None) -> None:
        self.rebuild_index()
        self.refresh_plans()
        if self.pipeline.thread is not None:
            self.pipeline.rematch()

    def publish_incident_changes(self, changes: list[IncidentChange]) -> None:
        """The pipeline committed incident changes: to dispatch, here or in the worker process."""
        (self.worker or self.downstream).publish(changes)

    def notify_counts(self) -> dict[tuple[str, str], int]:
        """Notification outcomes by channel since start (the worker process's, when there is one)."""
        if self.worker is None:
            return dict(self.notifier.by_channel)
        return {(o, c): n for o, c, n in self.worker.stats.get("notify", [])}

    def downstream_depths(self) -> tuple[int, int]:
        """Incident changes waiting for dispatch, and those waiting to be retried."""
        if self.worker is None:
            return self.downstream.changes.qsize(), len(self.downstream.failed)
        child = self.worker.stats.get("downstream", {})
        return self.worker.changes.qsize() + child.get("queued", 0), child.get("retrying", 0)

    def on_tick(self) -> None:
        """Time moved (the ticker, or a manual clock move): time rules, then due timers, in order."""
        if self.pipeline.thread is None:
            return
        self.pipeline.tick()
        if self.worker is not None:  # the worker process fires the other timers and sends
            if self.clock.manual:
                self.worker.clock_moved(self.clock.now())
            timers.fire_due(
                self.db.unit_of_work,
                {drills.OWNER: self.drill_steps.on_timer},
                self.clock.now(),
                owners={drills.OWNER},
            )
            self.run_drill_steps()
            return
        self.downstream.join()
        with self.db.unit_of_work() as session:
            early_warnings.ensure_reviews(session, self.policy, self.clock.tz, self.clock.now())
        self.downstream.fire_timers()
        self.run_drill_steps()
        self.notifier.kick()  # deferred and retried messages may have fallen due

    def run_drill_steps(self) -> None:
        """Timed drill steps whose timers fired: injected now, outside the timers' transaction."""
        if self.drill_steps.run(self.db, self.clock, self.pipeline.submit):
            self.downstream.join()

    def settle(self) -> None:
        """Wait until the work started by earlier calls is done downstream (tests, drills)."""
        self.downstream.join()
        self.notifier.kick()
        self.notifier.join()

    def reload_suggestions(self) -> None:
        with self.db.reading() as session:
            self.suggestions.load(session)

    def start(self) -> None:
        """Start the workers (the pipeline writer); the clock's moves drive its timers."""
        if self.pipeline.thread is None:
            self.db.start_checkpointer()
            self.pipeline.start()
            if self.settings.worker_process:
                self.worker = WorkerProcess(self.settings, self.clock, self.pipeline.busy)
                self.worker.start()  # it reconciles dispatch and fires what fell due while down
            else:
                self.downstream.start()
                self.downstream.fire_timers()  # whatever fell due while the server was down
            with self.db.reading() as session:
                self.drill_steps.recover(session, self.clock.now())
            self.run_drill_steps()
            if self.worker is None:
                self.notifier.start()
            if not self.clock.manual:
                self.ticker = Ticker(self.on_tick)
                self.ticker.start()
        try:
            self.listeners = build_listeners(self.sink, self.settings, self.policy, self.clock.now, self.db)
            for listener in [*self.listeners, *self.workers]:
                listener.start()
        except Exception:  # a port taken: stop the workers started above, or they outlive the failure
            try:
                self.stop()
            except Exception:
                log.exception("stopping after a failed start")
            raise

    def stop(self) -> None:
        """Listeners first (no new work), then drain the pipeline; downstream and the notify
        worker finish the transaction (or send) under way and leave the rest, durable, to the
        next start (decisions 170–171)."""
        for listener in [*self.workers, *self.listeners]:
            listener.stop()
        self.listeners = []
        # told first: a tick waiting for downstream (on_tick) is released, the ticker stops at once
        self.downstream.stopping.set()
        self.notifier.stopping.set()
        if self.ticker is not None:
            self.ticker.stop()
            self.ticker = None
        queued = self.pipeline.queue_depth
        self.pipeline.stop()
        if self.worker is not None:  # after the pipeline: its last changes are forwarded
            self.worker.stop()
            self.worker = None
        self.downstream.stop()
        skipped = self.downstream.stats["skipped"]
        self.notifier.stop()
        self.db.stop_checkpointer()
        log.info(
            "linewatch stopped: drained %d queued pipeline jobs; %d incident changes left to the next start",
            queued,
            skipped,
        )


def build_context(settings: Settings, *, migrate: bool = True, books: bool = True) -> Context:
    """``books=False`` (the worker process): no impact index, planned windows or suggestions —
    dispatch and notifications read the database, and the index is most of a large city's memory."""
    policy = load_policy(settings.policy)
    clock = make_clock(settings.clock, policy.timezone, settings.clock_start)
    db = Database(settings.db, settings.db_timeout)
    if migrate:
        upgrade(db)
    ctx = Context(settings=settings, db=db, clock=clock, policy=policy, bus=EventBus())
    ctx.bus.subscribe(INVENTORY_CHANGED, ctx.on_inventory_changed)
    ctx.bus.subscribe(INCIDENTS_CHANGED, ctx.publish_incident_changes)
    ctx.clock.on_change(lambda _old, _new: ctx.on_tick())
    if not books:
        return ctx
    ctx.rebuild_index()
    ctx.refresh_plans()
    with db.unit_of_work() as session:
        knowledge.seed(session, clock)
    ctx.reload_suggestions()
    return ctx
