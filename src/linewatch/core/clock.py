"""The one clock every time-dependent piece of Linewatch reads.

Code never calls ``datetime.now()``: it is handed a :class:`Clock`. With ``LINEWATCH_CLOCK=manual``
the server runs on a :class:`ManualClock` that tests and drills move by hand; listeners
registered with :meth:`Clock.on_change` (timer workers) then fire whatever fell due, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ClockListener = Callable[[datetime, datetime], None]


class Clock:
    """Wall clock, timezone-aware; ``tz`` is the operator time zone used for display and calendars."""

    manual = False

    def __init__(self, tz: str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz)
        self._listeners: list[ClockListener] = []

    def now(self) -> datetime:
        return datetime.now(UTC).astimezone(self.tz)

    def on_change(self, listener: ClockListener) -> None:
        """Register ``listener(old, new)``, called after a manual move of the clock."""
        self._listeners.append(listener)

    def _notify(self, old: datetime, new: datetime) -> None:
        for listener in list(self._listeners):
            listener(old, new)


class ManualClock(Clock):
    """A clock that stands still until set or advanced. Starts at the real time."""

    manual = True

    def __init__(self, tz: str = "Asia/Shanghai", start: datetime | None = None) -> None:
        super().__init__(tz)
        self._lock = threading.Lock()
        self._now = ensure_aware(start, self.tz) if start else super().now()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> datetime:
        with self._lock:
            old, self._now = self._now, ensure_aware(when, self.tz).astimezone(self.tz)
        self._notify(old, self._now)
        return self._now

    def advance(self, seconds: float) -> datetime:
        return self.set(self._now + timedelta(seconds=seconds))


def ensure_aware(when: datetime, tz: ZoneInfo) -> datetime:
    """Naive datetimes are read in the operator time zone (what an operator typing a time means)."""
    return when.replace(tzinfo=tz) if when.tzinfo is None else when


def parse_time(text: str, tz: ZoneInfo) -> datetime:
    """Parse RFC 3339 (a trailing ``Z`` included); a time without offset is operator-local."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return ensure_aware(datetime.fromisoformat(value), tz)


def make_clock(kind: str, tz: str, start: str = "") -> Clock:
    """``start`` (RFC 3339, manual clock only): where it stands at start, e.g. where it stood
    before a restart (crash tests, drills resumed); default the real time."""
    if kind == "manual":
        return ManualClock(tz, parse_time(start, ZoneInfo(tz)) if start else None)
    if kind in ("", "system", "real"):
        return Clock(tz)
    raise ValueError(f"LINEWATCH_CLOCK must be 'manual' or unset, not {kind!r}")
