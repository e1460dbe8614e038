"""Ingest first: background stages give way to the alarm pipeline while it is busy.

Downstream dispatch and the notify worker share the interpreter (and its lock) with the
pipeline. In a storm they had most of a core between them and the pipeline ran at a third of
its speed. After each unit of work done while ingest was busy, a paced stage sleeps ``ratio``
times as long as the unit took — it falls behind by seconds in a storm and catches up after.
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
