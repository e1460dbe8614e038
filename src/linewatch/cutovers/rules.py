"""Pure cutover rules: working days, notice, affected circuits, conflicts and the verdict (DOMAIN 6).

Plain functions over dataclasses and the impact index; no I/O, no clock of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import chinese_calendar

from linewatch.cutovers.choices import CircuitEffect, ImpactType, Verdict, VerdictRule
from linewatch.inventory.index import ImpactIndex, port_key


# ---------------------------------------------------------------------- working days
def is_working_day(day: date) -> bool:
    """The State Council calendar: holidays are off, make-up Saturdays/Sundays (调休) are on.

    Outside the years the package knows it raises; we fall back to Monday–Friday then."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def working_days_between(published: date, start: date) -> int:
    """Whole working days strictly after the publishing day and strictly before the window's day:
    published on Monday for a Tuesday cutover gives the customer no full working day to prepare."""
    days = 0
    day = published + timedelta(days=1)
    while day < start:
        days += is_working_day(day)
        day += timedelta(days=1)
    return days


def short_notice(
    published_at: datetime | None, window_start: datetime, required: int, tz: tzinfo | None = None
) -> bool:
    """Never published counts as short; both times are compared as calendar days in ``tz`` (the
    operators' zone; default the window's own), so a UTC timestamp lands on the right day."""
    if published_at is None:
        return True
    zone = tz or window_start.tzinfo
    start = window_start.astimezone(zone).date()
    return working_days_between(published_at.astimezone(zone).date(), start) < required


# ---------------------------------------------------------------------- affected circuits
@dataclass(frozen=True, slots=True)
class Resources:
    """The declared resources: whole NEs, (NE, port) pairs and circuits, by id."""

    nes: frozenset[int]
    ports: frozenset[tuple[int, str]]  # (ne_id, port_key)
    circuits: frozenset[int]


def routes_hit(resources: Resources, index: ImpactIndex) -> dict[int, set[str]]:
    """circuit id → the routes ("primary"/"backup") the work touches; named circuits lose all routes."""
    hit: dict[int, set[str]] = {}
    for ne_id in resources.nes:
        for route_hit in index.hits(ne_id):
            hit.setdefault(route_hit.circuit_id, set()).add(route_hit.route)
    for ne_id, port in resources.ports:
        for route_hit in index.hits(ne_id, port):
            hit.setdefault(route_hit.circuit_id, set()).add(route_hit.route)
    for circuit_id in resources.circuits:
        hit[circuit_id] = {"primary", "backup"}
    return hit


def effects(resources: Resources, index: ImpactIndex) -> dict[int, CircuitEffect]:
    """Affected circuits: a dual-routed circuit with a route left standing is only degraded."""
    out: dict[int, CircuitEffect] = {}
    for circuit_id, routes in routes_hit(resources, index).items():
        info = index.circuits.get(circuit_id)
        if info is None:
            continue
        both = "primary" in routes and "backup" in routes
        out[circuit_id] = CircuitEffect.DOWN if both or not info.dual_routed else CircuitEffect.DEGRADED
    return out


def dedicated_ports(
    circuits: frozenset[int], hops: Iterable[tuple[int, str]], index: ImpactIndex
) -> frozenset[tuple[int, str]]:
    """The (NE, port) hops of the declared circuits' routes that carry no other circuit: an alarm
    there hurts only the declared work, so it is planned. A shared port (an uplink carrying other
    customers too) stays outside: an impact beyond the declared circuits is a fault from the start."""
    return frozenset(
        (ne_id, port_key(port))
        for ne_id, port in hops
        if {hit.circuit_id for hit in index.hits(ne_id, port)} <= circuits
    )


def covers(resources: Resources, ne_id: int | None, obj: str, ne_level: bool) -> bool:
    """Is an alarm on this NE/object inside the declared resources? An NE-level alarm is inside only
    when the whole NE was declared (a port's work does not explain its NE going dark)."""
    if ne_id is None:
        return False
    if ne_id in resources.nes:
        return True
    return not ne_level and bool(obj) and (ne_id, port_key(obj)) in resources.ports


# ---------------------------------------------------------------------- conflicts
@dataclass(frozen=True, slots=True)
class Window:
    id: int
    task_no: str
    start: datetime
    end: datetime
    routes: dict[int, frozenset[str]]  # circuit id → routes touched


def conflicts(mine: Window, others: Iterable[Window]) -> list[tuple[str, int]]:
    """(other task number, circuit id) for every overlapping cutover that, with this one, takes
    down both routes of one circuit (each alone would only have degraded it)."""
    found = []
    for other in others:
        if other.id == mine.id or not (other.start < mine.end and mine.start < other.end):
            continue
        for circuit_id, routes in mine.routes.items():
            theirs = other.routes.get(circuit_id)
            if theirs and {"primary", "backup"} <= (routes | theirs) and routes != theirs:
                found.append((other.task_no, circuit_id))
    return found


# ---------------------------------------------------------------------- the six answering rules
@dataclass(frozen=True, slots=True)
class CutoverFacts:
    impact: ImpactType
    window_start: datetime
    window_end: datetime
    published_at: datetime | None
    short_notice: bool


def verdict(
    cutover: CutoverFacts | None, recovered_at: datetime | None, now: datetime, grace: timedelta
) -> tuple[Verdict, VerdictRule]:
    """Network fault unless every condition of a planned cutover holds (DOMAIN 6), tried in order.
    ``recovered_at`` None = still down: it overran once the window (plus grace) has passed."""
    fault = Verdict.NETWORK_FAULT
    if cutover is None:
        return fault, VerdictRule.NOT_REGISTERED
    if cutover.impact is ImpactType.NONE:
        return fault, VerdictRule.NON_INTERRUPTING
    deadline = cutover.window_end + grace
    # still down when the window (plus grace) closes is exactly when the timer releases it as a fault
    if (recovered_at > deadline) if recovered_at is not None else (now >= deadline):
        return fault, VerdictRule.OVERRAN
    if cutover.published_at is None or cutover.published_at >= cutover.window_start:
        return fault, VerdictRule.NOT_NOTIFIED
    if cutover.short_notice:
        return fault, VerdictRule.SHORT_NOTICE
    return Verdict.PLANNED_CUTOVER, VerdictRule.AS_ANNOUNCED
