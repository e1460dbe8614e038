"""Ingest first: background stages give way to the alarm pipeline while it is busy.

Downstream dispatch and the notify worker share the interpreter (and its lock) with the
pipeline. In a storm they had most of a core between them and the pipeline ran at a third of
its speed. After each unit of work done while ingest was busy, a paced stage sleeps ``ratio``
times as long as the unit took — it falls behind by seconds in a storm and catches up after.

They share SQLite's write lock with it too: ``Sizer`` keeps their transactions short.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    def __init__(self, ingest_busy: Callable[[], bool] = lambda: False, ratio: float = 0.0) -> None:
        self.ingest_busy, self.ratio = ingest_busy, ratio
        self.yielded_seconds = 0.0

    def after(self, started: float) -> None:
        """Call with the ``time.monotonic()`` taken when the unit of work began."""
        if self.ratio <= 0 or not self.ingest_busy():
            return
        pause = min((time.monotonic() - started) * self.ratio, 1.0)
        self.yielded_seconds += pause
        time.sleep(pause)  # yield the interpreter to ingest; not a timing device


TRANSACTION_SECONDS = 0.1  # a background transaction's hold on the write lock: the pipeline waits
BUSY_TRANSACTION_SECONDS = 0.02  # … while ingest is busy


class Sizer:
    """How many items a background stage's next transaction takes, so that it holds the write lock
    about ``TRANSACTION_SECONDS`` (``BUSY_TRANSACTION_SECONDS`` while ingest is busy): from one,
    doubled after a quick transaction up to ``largest``, halved after a long one. Items differ by
    orders of magnitude at scale (a fibre cut's incident, or its warning notices to thousands of
    account managers), so no fixed count suits."""

    def __init__(self, largest: int, pacer: Pacer) -> None:
        self.largest, self.pacer = largest, pacer
        self.size = 1

    def took(self, began: float) -> None:
        """After a transaction that began at ``began`` (``time.monotonic()``): size the next one,
        then give way to ingest (``Pacer.after``)."""
        took = time.monotonic() - began
        target = BUSY_TRANSACTION_SECONDS if self.pacer.ingest_busy() else TRANSACTION_SECONDS
        if took > target and self.size > 1:
            self.size = max(1, self.size // 2)
        elif took < target / 4 and self.size < self.largest:
            self.size = min(self.largest, self.size * 2)
        self.pacer.after(began)
