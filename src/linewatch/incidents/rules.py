"""Pure incident rules: route-aware impact (DOMAIN 3.6) and the dispatch level (DOMAIN 4).

Plain functions over small dataclasses; the policy and the time are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from linewatch.alarms.hits import Hit
from linewatch.core.policy import DispatchPolicy
from linewatch.incidents.choices import ImpactKind, Level
from linewatch.inventory.index import CircuitInfo


def circuit_impact(hit: Hit, dual_routed: bool) -> ImpactKind | None:
    """Only route hit → down; one of two routes → degraded; both, or the platform → down."""
    if hit.platform:
        return ImpactKind.DOWN
    if not dual_routed:
        return ImpactKind.DOWN if hit.primary or hit.backup else None
    if hit.primary and hit.backup:
        return ImpactKind.DOWN
    if hit.primary or hit.backup:
        return ImpactKind.DEGRADED
    return None


@dataclass(frozen=True, slots=True)
class ImpactFact:
    circuit: CircuitInfo
    impact: ImpactKind
    since: datetime


def key_customers_down(impacts: Iterable[ImpactFact], *, exclude_access: Iterable[str] = ()) -> set[int]:
    excluded = {a.upper() for a in exclude_access}
    return {
        f.circuit.customer_id
        for f in impacts
        if f.impact is ImpactKind.DOWN and f.circuit.key_customer and f.circuit.access.upper() not in excluded
    }


def window_impacts(
    own: list[ImpactFact], others: Iterable[ImpactFact], window: timedelta
) -> list[ImpactFact]:
    """The incident's impacts plus other incidents' impacts that began within ``window`` of one of them
    ("same window", DOMAIN 4): a storm of separate faults counts together."""
    starts = [f.since for f in own if f.impact is ImpactKind.DOWN]
    if not starts:
        return list(own)
    lo, hi = min(starts) - window, max(starts) + window
    return own + [f for f in others if f.impact is ImpactKind.DOWN and lo <= f.since <= hi]


def impact_class(c: CircuitInfo, kind: ImpactKind, policy: DispatchPolicy) -> tuple[str, str] | None:
    """What one impact contributes to its incident's own level: ("urgent"|"general"|"branch", reason)."""
    if not c.key_customer:
        return None
    if c.site_role == "center" and kind is ImpactKind.DOWN:
        if c.dual_routed:
            return "urgent", f"both routes of key customer {c.customer_code}'s center circuit {c.code} down"
        if c.service_type in policy.urgent_center_service_types:
            return "urgent", f"key customer {c.customer_code}'s center {c.service_type} circuit {c.code} down"
        return None
    if c.site_role == "center" and kind is ImpactKind.DEGRADED:
        return "general", f"key customer {c.customer_code}'s center circuit {c.code} lost one route"
    if c.site_role == "branch" and kind is ImpactKind.DOWN:
        return "branch", f"key customer {c.customer_code}'s branch circuit {c.code}"
    return None


def level_from_classes(
    urgent: str | None,
    general: str | None,
    oldest_branch: tuple[datetime, str] | None,
    now: datetime,
    policy: DispatchPolicy,
) -> tuple[Level, str]:
    """Own level from the first urgent and general reasons and the longest-down key branch circuit."""
    if urgent:
        return Level.URGENT, urgent
    if general:
        return Level.GENERAL, general
    overdue_after = timedelta(minutes=policy.overdue_branch_minutes)
    if oldest_branch and now - oldest_branch[0] >= overdue_after:
        return Level.OVERDUE, f"{oldest_branch[1]} down over {overdue_after}"
    return Level.NORMAL, "no dispatch criterion met"


def own_level(own: list[ImpactFact], now: datetime, policy: DispatchPolicy) -> tuple[Level, str]:
    """The level an incident's own impacts give (center points, one route lost, 4 h overdue)."""
    urgent = general = None
    oldest: tuple[datetime, str] | None = None
    for f in own:
        found = impact_class(f.circuit, f.impact, policy)
        if found is None:
            continue
        kind, reason = found
        if kind == "urgent" and urgent is None:
            urgent = reason
        elif kind == "general" and general is None:
            general = reason
        elif kind == "branch" and (oldest is None or f.since < oldest[0]):
            oldest = (f.since, reason)
    return level_from_classes(urgent, general, oldest, now, policy)


def window_level(all_down: int, counted_down: int, policy: DispatchPolicy) -> tuple[Level, str]:
    """The level from key customers down in one window: ≥10 urgent; 3–9 general (PON lines not counted)."""
    # the reason names the rule, not the running count: it stays put while a storm grows
    if all_down >= policy.urgent_key_customers_down:
        return (
            Level.URGENT,
            f"{policy.urgent_key_customers_down} or more key customers down in the same window",
        )
    if counted_down >= policy.general_key_customers_down:
        return Level.GENERAL, (
            f"{policy.general_key_customers_down} or more key customers down in the same "
            "window (PON lines not counted)"
        )
    return Level.NORMAL, "no dispatch criterion met"


def more_urgent(a: tuple[Level, str], b: tuple[Level, str]) -> tuple[Level, str]:
    return b if b[0].rank < a[0].rank else a


def dispatch_level(
    own: list[ImpactFact], in_window: list[ImpactFact], now: datetime, policy: DispatchPolicy
) -> tuple[Level, str]:
    """The level and the rule that gave it (shown to dispatchers). ``in_window`` includes ``own``."""
    all_down = len(key_customers_down(in_window))
    counted = len(key_customers_down(in_window, exclude_access=policy.general_excludes_access))
    return more_urgent(own_level(own, now, policy), window_level(all_down, counted, policy))


RAISE_LADDER = (Level.NORMAL, Level.GENERAL, Level.URGENT)


def raise_level(level: Level, steps: int) -> Level:
    """Assurance periods raise a level (DOMAIN 7): normal → general → urgent; overdue counts as general."""
    start = RAISE_LADDER.index(Level.GENERAL if level is Level.OVERDUE else level)
    return RAISE_LADDER[min(len(RAISE_LADDER) - 1, start + steps)]
