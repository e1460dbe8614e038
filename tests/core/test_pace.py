"""Background stages give way to ingest only while it is busy, in proportion to their own work."""

from __future__ import annotations

import time

from linewatch.core.pace import Pacer


def test_no_pause_while_ingest_is_quiet() -> None:
    pacer = Pacer(lambda: False, ratio=2.0)
    pacer.after(time.monotonic() - 5.0)
    assert pacer.yielded_seconds == 0


def test_pause_in_proportion_to_the_work_while_ingest_is_busy_and_bounded() -> None:
    pacer = Pacer(lambda: True, ratio=2.0)
    pacer.after(time.monotonic() - 0.01)  # a unit of ~10 ms → a pause of ~20 ms
    assert 0.019 <= pacer.yielded_seconds < 0.5
    pacer.after(time.monotonic() - 60)  # a long unit: the pause is capped at a second
    assert pacer.yielded_seconds <= 1.5


def test_ratio_zero_never_pauses() -> None:
    pacer = Pacer(lambda: True, ratio=0.0)
    pacer.after(time.monotonic() - 1.0)
    assert pacer.yielded_seconds == 0
