"""The notify worker on the real clock: periodic rounds (no kick) must not break the kick queue.

Before the fix a periodic round marked a queue item done that it never took: the worker thread
died on the first idle interval (ValueError from ``task_done``), and notifications stopped.
"""

from __future__ import annotations

import threading

from linewatch.core.clock import make_clock
from linewatch.core.policy import load_policy
from linewatch.db.engine import Database
from linewatch.notify.worker import NotifyWorker


def test_periodic_rounds_keep_the_worker_alive_and_kicks_joinable(db_url: str) -> None:
    policy = load_policy(None)
    database = Database(db_url)
    rounds = threading.Semaphore(0)
    worker = NotifyWorker(database, make_clock("", policy.timezone), policy, interval_seconds=0.001)
    original = worker.round

    def counted_round() -> None:
        original()
        rounds.release()

    worker.round = counted_round  # type: ignore[method-assign]
    worker.start()
    try:
        for _ in range(5):  # the start kick, then periodic rounds with nothing queued
            assert rounds.acquire(timeout=30)
        assert worker.thread is not None and worker.thread.is_alive()
        worker.kick()
        worker.join()  # returns once the kick is handled: the queue's count was not corrupted
        assert worker.thread.is_alive() and worker.stats["failures"] == 0
    finally:
        worker.stop()
        database.dispose()


def test_a_stopping_worker_ends_its_round_after_the_transaction_under_way(db_url: str) -> None:
    """SIGTERM after a fibre cut: the backlog of requests is not drained first (it took minutes);
    what is left stays pending in the outbox for the next start."""
    from sqlalchemy import func, select

    from linewatch.db import outbox
    from linewatch.notify import service

    policy = load_policy(None)
    database = Database(db_url)
    clock = make_clock("manual", policy.timezone)
    worker = NotifyWorker(database, clock, policy)
    with database.unit_of_work() as session:
        for n in range(3):
            outbox.request(session, clock.now(), "incident.general", {"roles": ["support"]}, {"incident": n})
    with database.reading() as session:
        worker.storm = service.load_storm(session, worker.env)
    worker.stopping.set()  # as stop() does, while a round is under way
    worker.round()
    assert worker.stats["requests"] == 1  # the transaction under way (one request: the sizer's start)
    with database.reading() as session:
        pending = select(func.count()).where(outbox.NotificationRequest.status == "pending")
        assert session.scalar(pending) == 2
    worker.stopping.clear()  # the next start takes up the rest
    worker.round()
    assert worker.stats["requests"] == 3
    database.dispose()
