"""The one clock: manual moves, listeners, time parsing — pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linewatch.core.clock import Clock, ManualClock, make_clock, parse_time

TZ = ZoneInfo("Asia/Shanghai")


def test_manual_clock_stands_still_until_moved() -> None:
    clock = ManualClock("Asia/Shanghai", start=datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    assert clock.now() == clock.now() == datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    clock.advance(90)
    assert clock.now() == datetime(2026, 3, 2, 9, 1, 30, tzinfo=TZ)


def test_manual_clock_moves_backwards_and_tells_listeners_in_order() -> None:
    clock = ManualClock("Asia/Shanghai", start=datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    seen: list[tuple[datetime, datetime]] = []
    clock.on_change(lambda old, new: seen.append((old, new)))
    clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    clock.advance(60)
    assert seen[0] == (datetime(2026, 3, 2, 9, 0, tzinfo=TZ), datetime(2025, 1, 1, tzinfo=UTC))
    assert seen[1][1] - seen[1][0] == timedelta(seconds=60)


def test_times_are_always_aware_in_the_operator_zone() -> None:
    clock = ManualClock("Asia/Shanghai")
    clock.set(datetime(2026, 3, 2, 9, 0))  # naive: read as operator-local
    assert clock.now().utcoffset() == timedelta(hours=8)
    assert Clock("Asia/Shanghai").now().tzinfo is not None


def test_parse_time_rfc3339() -> None:
    assert parse_time("2026-03-02T01:00:00Z", TZ) == datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    assert parse_time("2026-03-02T09:00:00", TZ) == datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    with pytest.raises(ValueError):
        parse_time("yesterday", TZ)


def test_make_clock_refuses_unknown_kinds() -> None:
    assert isinstance(make_clock("manual", "Asia/Shanghai"), ManualClock)
    resumed = make_clock("manual", "Asia/Shanghai", "2026-03-02T09:00:00+08:00")
    assert resumed.now().isoformat() == "2026-03-02T09:00:00+08:00"
    assert not make_clock("", "Asia/Shanghai").manual
    with pytest.raises(ValueError, match="LINEWATCH_CLOCK"):
        make_clock("fast", "Asia/Shanghai")
