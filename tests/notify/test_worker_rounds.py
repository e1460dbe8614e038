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
