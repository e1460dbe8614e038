"""Background stages give way to ingest only while it is busy, in proportion to their own work."""

from __future__ import annotations

import time

from linewatch.core.pace import BUSY_TRANSACTION_SECONDS, TRANSACTION_SECONDS, Pacer, Sizer


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


def test_transactions_shrink_when_slow_and_grow_back_when_quick() -> None:
    """Decision 98: about 0.1 s of write lock per background transaction, 1 to ``largest`` items."""
    sizer = Sizer(10, Pacer())
    assert sizer.size == 1
    for expected in (2, 4, 8, 10, 10):
        sizer.took(time.monotonic())  # a quick transaction
        assert sizer.size == expected
    sizer.took(time.monotonic() - 3 * TRANSACTION_SECONDS)  # one that held the lock too long
    assert sizer.size == 5
    for _ in range(5):
        sizer.took(time.monotonic() - 3 * TRANSACTION_SECONDS)
    assert sizer.size == 1


def test_transactions_are_shorter_while_ingest_is_busy() -> None:
    """A transaction quick enough when quiet is too long while ingest is busy: its commits wait."""
    busy = [False]
    sizer = Sizer(10, Pacer(lambda: busy[0]))
    sizer.size = 10
    between = (BUSY_TRANSACTION_SECONDS + TRANSACTION_SECONDS) / 2
    sizer.took(time.monotonic() - between)
    assert sizer.size == 10  # quiet: within the target
    busy[0] = True
    sizer.took(time.monotonic() - between)
    assert sizer.size == 5
