"""The notify worker: its own thread, woken by clock moves and new requests (and every few seconds
on the real clock). It never runs on the alarm pipeline's thread and the pipeline never waits for
it: a slow or dead peer delays only notifications, which wait durably in the outbox."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from linewatch.core.clock import Clock
from linewatch.core.pace import Pacer, Sizer
from linewatch.core.policy import Policy
from linewatch.db.engine import Database
from linewatch.notify import service
from linewatch.notify.channels import Channel, build
from linewatch.notify.storm import RateLimiter, Storm

log = logging.getLogger("linewatch.notify")
STOP_WAIT_SECONDS = 30  # a safety net: a stop waits one transaction or one send (its timeout)


def load_channels(path: str | None, clock: Clock) -> tuple[list[Channel], str]:
    """Channels from a YAML file ``{link_base: ..., channels: [{kind: sms, ...}, ...]}``; none = ([], "")."""
    if not path:
        return [], ""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return build(doc.get("channels") or [], clock), str(doc.get("link_base") or "")


class NotifyWorker:
    name = "notify"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: Policy,
        channels: list[Channel] | None = None,
        link_base: str = "",
        interval_seconds: float = 2.0,
    ) -> None:
        self.db = db
        self.env = service.Env(clock, policy, list(channels or []), link_base)
        self.interval = interval_seconds
        self.kicks: queue.Queue[bool | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.storm: Storm | None = None
        # requests expanded per transaction (a fibre cut's warnings reach thousands of account
        # managers); its pacer gives way to ingest in a storm (wired by the context)
        self.sizer = Sizer(policy.notify.batch, Pacer())
        self.stopping = threading.Event()
        self.limiter = RateLimiter(dict(policy.notify.rate_per_minute))
        self.stats: dict[str, int] = {
            "requests": 0,
            "rows": 0,
            "suppressed": 0,
            "digested": 0,
            "deferred": 0,
            "sent": 0,
            "retried": 0,
            "failed": 0,
            "receipts": 0,
            "failures": 0,
        }
        # (outcome, channel) → count since start: queued, deferred, suppressed, digested, sent,
        # retried, failed (for /metrics; the outbox itself holds the durable truth)
        self.by_channel: Counter[tuple[str, str]] = Counter()

    def start(self) -> None:
        self.stopping.clear()
        with self.db.reading() as session:
            self.storm = service.load_storm(session, self.env)
        self.thread = threading.Thread(target=self._run, name="notify", daemon=True)
        self.thread.start()
        self.kick()  # whatever was left pending or fell due while we were down

    def stop(self) -> None:
        """After the transaction under way: what is still pending stays in the outbox, durable,
        and the next start takes it up (a fibre cut's backlog took minutes to drain). The wait is
        one transaction, or one send (at most the channel's timeout); kicks still queued are
        skipped (decision 171)."""
        self.stopping.set()
        if self.thread is not None:
            self.kicks.put(None)
            self.thread.join(timeout=STOP_WAIT_SECONDS)
            if self.thread.is_alive():
                log.error("the notify worker did not stop in %.0f s", STOP_WAIT_SECONDS)
            self.thread = None
        for channel in self.env.channels:
            channel.close()

    def kick(self) -> None:
        if self.thread is not None:
            self.kicks.put(True)

    def join(self) -> None:
        """Wait until every kick so far has been handled (tests, drills: ``Context.settle``)."""
        if self.thread is not None:
            self.kicks.join()

    def diagnostics(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.stats,
            "channels": [c.diagnostics() for c in self.env.channels],
        }

    def _run(self) -> None:
        while True:
            try:
                token = self.kicks.get(timeout=None if self.env.clock.manual else self.interval)
            except queue.Empty:
                token = False  # the real clock's periodic round
            try:
                if token is None:
                    return
                if not self.stopping.is_set():  # stopping: the outbox keeps it for the next start
                    self.round()
            except Exception:  # a failed round is retried by the next one; rows stay in the outbox
                self.stats["failures"] += 1
                log.exception("notify round failed")
                with self.db.reading() as session:  # the storm may have remembered what rolled back
                    self.storm = service.load_storm(session, self.env)
            finally:
                if token is not False:  # False: a periodic round, no queue item to mark done
                    self.kicks.task_done()

    def round(self) -> None:
        """Expand every pending request, then deliver whatever is due, then take receipts."""
        assert self.storm is not None
        while True:
            started, size = time.monotonic(), self.sizer.size
            with self.db.unit_of_work() as session:
                done = service.expand(session, self.env, self.storm, size)
            self.sizer.took(started)
            for key in ("requests", "rows", "suppressed", "digested", "deferred"):
                self.stats[key] += getattr(done, key)
            self.by_channel.update(done.by_channel)
            if done.requests < size or self.stopping.is_set():
                break
        self.deliver()
        if not self.stopping.is_set():
            self.take_receipts()

    def deliver(self) -> None:
        batch = self.env.policy.notify.batch
        seen: set[int] = set()
        while True:
            with self.db.reading() as session:
                ids = [i for i in service.due(session, self.env.clock.now(), batch) if i not in seen]
            if not ids:
                return
            for row_id in ids:
                if self.stopping.is_set():
                    return
                seen.add(row_id)
                started = time.monotonic()
                status, channel = service.deliver_one(self.db.unit_of_work, self.env, self.limiter, row_id)
                self.sizer.pacer.after(started)
                outcome = {"sent": "sent", "failed": "failed", "queued": "retried"}.get(status)
                if outcome:
                    self.stats[outcome] += 1
                    self.by_channel[(outcome, channel)] += 1

    def take_receipts(self) -> None:
        for channel in self.env.channels:
            poll = getattr(channel, "poll_receipts", None)
            if poll is None:
                continue
            receipts = poll()
            if receipts:
                with self.db.unit_of_work() as session:
                    counted = service.record_receipts(session, self.env, receipts)
                for outcome, n in counted.items():
                    self.stats[outcome] += n
                    if outcome != "receipts":
                        self.by_channel[(outcome, channel.kind)] += n
