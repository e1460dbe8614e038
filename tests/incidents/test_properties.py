"""Property-based tests (hypothesis) of the pure incident rules: impact, same-window and dispatch level."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from linewatch.alarms.hits import hit
from linewatch.core.policy import load_policy
from linewatch.incidents.choices import ImpactKind, Level
from linewatch.incidents.rules import (
    ImpactFact,
    circuit_impact,
    dispatch_level,
    raise_level,
    window_impacts,
)
from linewatch.inventory.index import CircuitInfo

POLICY = load_policy().dispatch
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
SEVERITY = {None: 0, ImpactKind.DEGRADED: 1, ImpactKind.DOWN: 2}

hits = st.builds(hit, st.booleans(), st.booleans(), st.booleans())
circuits = st.builds(
    CircuitInfo,
    id=st.integers(1, 50),
    code=st.just("C"),
    customer_id=st.integers(1, 15),
    customer_code=st.just("K"),
    key_customer=st.booleans(),
    site_role=st.sampled_from(["center", "branch"]),
    service_type=st.sampled_from(["internet", "mpls_vpn", "sdh", "voice"]),
    access=st.sampled_from(["fiber", "PON", "microwave"]),
    assurance=st.sampled_from(["AAA", "AA", "A", "normal"]),
    maintainer_id=st.none(),
    dual_routed=st.booleans(),
)
facts = st.builds(
    ImpactFact,
    circuit=circuits,
    impact=st.sampled_from(list(ImpactKind)),
    since=st.integers(0, 600).map(lambda m: T0 + timedelta(minutes=m)),
)
now = st.integers(0, 900).map(lambda m: T0 + timedelta(minutes=m))


@given(a=hits, b=hits, dual=st.booleans())
def test_more_routes_hit_never_means_less_impact(a, b, dual: bool) -> None:  # type: ignore[no-untyped-def]
    assert SEVERITY[circuit_impact(a | b, dual)] >= SEVERITY[circuit_impact(a, dual)]
    if a.platform:
        assert circuit_impact(a, dual) is ImpactKind.DOWN


@settings(max_examples=200, deadline=None)
@given(own=st.lists(facts, max_size=8), others=st.lists(facts, max_size=12), at=now, data=st.data())
def test_dispatch_level_does_not_depend_on_the_order_of_impacts(own, others, at, data) -> None:  # type: ignore[no-untyped-def]
    in_window = own + others
    level, _ = dispatch_level(own, in_window, at, POLICY)
    shuffled_own = data.draw(st.permutations(own))
    shuffled_window = data.draw(st.permutations(in_window))
    assert dispatch_level(list(shuffled_own), list(shuffled_window), at, POLICY)[0] is level


@settings(max_examples=200, deadline=None)
@given(own=st.lists(facts, max_size=8), extra=facts, at=now, later=st.integers(0, 600))
def test_more_impact_or_more_time_never_lowers_the_level(own, extra, at, later: int) -> None:  # type: ignore[no-untyped-def]
    level, reason = dispatch_level(own, own, at, POLICY)
    assert reason
    grown, _ = dispatch_level([*own, extra], [*own, extra], at, POLICY)
    assert grown.rank <= level.rank
    waited, _ = dispatch_level(own, own, at + timedelta(minutes=later), POLICY)
    assert waited.rank <= level.rank


@settings(max_examples=200, deadline=None)
@given(own=st.lists(facts, max_size=6), others=st.lists(facts, max_size=12), minutes=st.integers(0, 120))
def test_same_window_adds_only_down_impacts_near_our_own(own, others, minutes: int) -> None:  # type: ignore[no-untyped-def]
    window = timedelta(minutes=minutes)
    result = window_impacts(own, others, window)
    assert result[: len(own)] == own
    starts = [f.since for f in own if f.impact is ImpactKind.DOWN]
    for added in result[len(own) :]:
        assert added.impact is ImpactKind.DOWN
        assert min(starts) - window <= added.since <= max(starts) + window


@given(level=st.sampled_from(list(Level)), a=st.integers(0, 4), b=st.integers(0, 4))
def test_raising_a_level_is_monotone(level: Level, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert raise_level(level, high).rank <= raise_level(level, low).rank
    assert raise_level(level, 0).rank <= max(level.rank, Level.GENERAL.rank)
