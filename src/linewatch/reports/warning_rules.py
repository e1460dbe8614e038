"""Early-warning rules (DOMAIN 8): pure functions, no I/O."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from linewatch.core.choices import Choice
from linewatch.core.policy import WarningPolicy


class WarningLevel(Choice):
    ORANGE = ("orange", "橙色预警", "orange")
    RED = ("red", "红色预警", "red")


RANK = {"orange": 1, "red": 2}


def periodic_level(faults: int, over_limit: int, policy: WarningPolicy) -> str | None:
    """≥ red_faults faults, or ≥ red_over_limit_faults over their recovery limit → red;
    ≥ orange_faults → orange; else none (in the lookback window)."""
    if faults >= policy.red_faults or over_limit >= policy.red_over_limit_faults:
        return "red"
    if faults >= policy.orange_faults:
        return "orange"
    return None


def is_working_day(day: date) -> bool:
    """State Council calendar (调休 included); Monday–Friday outside the years the package knows."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def visit_due(raised: datetime, working_days: int, tz: ZoneInfo) -> datetime:
    """The end of the ``working_days``-th working day after the day the warning was raised
    (raised on Friday with 2 days: due at the end of Tuesday, or later across a holiday)."""
    day = raised.astimezone(tz).date()
    left = working_days
    while left:
        day += timedelta(days=1)
        left -= is_working_day(day)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def next_review(now: datetime, kind: str, tz: ZoneInfo) -> datetime:
    """The next periodic review strictly after ``now``: Mondays 08:00 (weekly) or the 1st 08:00
    (monthly), local time."""
    local = now.astimezone(tz)
    if kind == "weekly":
        day = local.date() + timedelta(days=(7 - local.weekday()) % 7)
        at = datetime.combine(day, time(8), tzinfo=tz)
        return at if at > local else at + timedelta(days=7)
    first = local.date().replace(day=1)
    at = datetime.combine(first, time(8), tzinfo=tz)
    if at > local:
        return at
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return datetime.combine(nxt, time(8), tzinfo=tz)


__all__ = ["RANK", "WarningLevel", "is_working_day", "next_review", "periodic_level", "visit_due"]
