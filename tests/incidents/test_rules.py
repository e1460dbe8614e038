"""The pure incident rules: route-aware impact and the dispatch level (DOMAIN 3.6 and 4). No database."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linewatch.alarms.hits import Hit
from linewatch.core.policy import load_policy
from linewatch.incidents.choices import ImpactKind, Level
from linewatch.incidents.rules import ImpactFact, circuit_impact, dispatch_level, raise_level, window_impacts
from linewatch.inventory.index import CircuitInfo

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
POLICY = load_policy().dispatch
DOWN, DEGRADED = ImpactKind.DOWN, ImpactKind.DEGRADED


def circuit(
    n: int,
    *,
    key: bool = True,
    role: str = "branch",
    service: str = "data",
    access: str = "PTN",
    dual: bool = False,
) -> CircuitInfo:
    return CircuitInfo(n, f"CIR-{n}", n, f"C{n}", key, role, service, access, "A", None, dual)


def fact(c: CircuitInfo, kind: ImpactKind = DOWN, minutes: float = 0) -> ImpactFact:
    return ImpactFact(c, kind, T0 + timedelta(minutes=minutes))


def level(own: list[ImpactFact], others: list[ImpactFact] = (), now: datetime = T0) -> Level:  # type: ignore[assignment]
    return dispatch_level(own, window_impacts(own, list(others), timedelta(minutes=10)), now, POLICY)[0]


@pytest.mark.parametrize(
    ("hit", "dual", "expected"),
    [
        (Hit(primary=True), False, DOWN),
        (Hit(primary=True), True, DEGRADED),
        (Hit(backup=True), True, DEGRADED),
        (Hit(primary=True, backup=True), True, DOWN),
        (Hit(platform=True), True, DOWN),
        (Hit(), False, None),
    ],
)
def test_route_aware_impact(hit: Hit, dual: bool, expected: ImpactKind | None) -> None:
    assert circuit_impact(hit, dual) is expected


def test_key_center_service_down_is_urgent_but_not_for_mpls_unless_dual() -> None:
    assert level([fact(circuit(1, role="center", service="voice"))]) is Level.URGENT
    assert level([fact(circuit(1, role="center", service="mpls_vpn"))]) is Level.NORMAL
    assert (
        level([fact(circuit(1, role="center", service="mpls_vpn", dual=True))]) is Level.URGENT
    )  # both routes
    assert level([fact(circuit(1, key=False, role="center", service="voice"))]) is Level.NORMAL


def test_key_center_degraded_is_general() -> None:
    assert level([fact(circuit(1, role="center", dual=True), DEGRADED)]) is Level.GENERAL
    assert level([fact(circuit(1, role="branch", dual=True), DEGRADED)]) is Level.NORMAL


@pytest.mark.parametrize(
    ("customers", "expected"), [(2, Level.NORMAL), (3, Level.GENERAL), (9, Level.GENERAL), (10, Level.URGENT)]
)
def test_key_customers_down_thresholds(customers: int, expected: Level) -> None:
    assert level([fact(circuit(n)) for n in range(customers)]) is expected


def test_pon_lines_do_not_count_towards_general_but_do_towards_urgent() -> None:
    pon = [fact(circuit(n, access="PON")) for n in range(5)]
    assert level(pon) is Level.NORMAL
    assert level([fact(circuit(n, access="PON")) for n in range(10)]) is Level.URGENT


def test_same_window_counts_other_incidents_within_ten_minutes() -> None:
    own = [fact(circuit(1))]
    near = [fact(circuit(n), minutes=9) for n in range(2, 4)]
    far = [fact(circuit(n), minutes=11) for n in range(4, 20)]
    assert level(own, near) is Level.GENERAL
    assert level(own, far) is Level.NORMAL
    assert level(own, [fact(circuit(n), minutes=-10) for n in range(2, 11)]) is Level.URGENT


def test_one_customer_with_many_lines_counts_once() -> None:
    lines = [
        fact(CircuitInfo(n, f"CIR-{n}", 7, "C7", True, "branch", "data", "PTN", "A", None, False))
        for n in range(12)
    ]
    assert level(lines) is Level.NORMAL


def test_overdue_after_four_hours_for_key_branch_only() -> None:
    branch = [fact(circuit(1))]
    assert level(branch, now=T0 + timedelta(minutes=239)) is Level.NORMAL
    assert level(branch, now=T0 + timedelta(minutes=240)) is Level.OVERDUE
    assert level([fact(circuit(1, key=False))], now=T0 + timedelta(hours=9)) is Level.NORMAL


def test_assurance_raises_one_level() -> None:
    assert raise_level(Level.NORMAL, 1) is Level.GENERAL
    assert raise_level(Level.OVERDUE, 1) is Level.URGENT
    assert raise_level(Level.URGENT, 1) is Level.URGENT
    assert raise_level(Level.GENERAL, 0) is Level.GENERAL
