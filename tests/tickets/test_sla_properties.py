"""Property-based tests (hypothesis) of the SLA clock: monotone deadlines, suspend/resume arithmetic,
the contact-hours edges (07:30 / 22:00, midnight, any time zone offset of the input)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from linewatch.core.policy import load_policy
from linewatch.tickets import sla

POLICY = load_policy()
SLA = POLICY.sla
HOURS = POLICY.dispatch.customer_contact_hours
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)

moments = st.integers(0, 60 * 24 * 400).map(lambda m: T0 + timedelta(minutes=m))
precise = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC))
tracks = st.sampled_from(sorted(SLA.tracks))
pauses = st.integers(0, 10 * 86400).map(lambda s: timedelta(seconds=s))
recoveries = st.sampled_from(sorted(SLA.recovery_minutes.values()))


@settings(max_examples=200)
@given(created=moments, track=tracks, recover=recoveries, a=pauses, b=pauses)
def test_deadlines_move_later_by_exactly_the_pause(created, track, recover, a, b) -> None:  # type: ignore[no-untyped-def]
    small, large = sorted((a, b))
    first = sla.deadlines(created, track, recover, small, SLA)
    second = sla.deadlines(created, track, recover, large, SLA)
    assert set(first) == set(sla.DEADLINES)
    for name in first:
        assert first[name] > created or (first[name] == created and small == timedelta(0))
        assert second[name] - first[name] == large - small


@settings(max_examples=200)
@given(a=moments, b=moments, track=tracks, recover=recoveries, pause=pauses)
def test_a_later_dispatch_never_has_earlier_deadlines(a, b, track, recover, pause) -> None:  # type: ignore[no-untyped-def]
    early, late = sorted((a, b))
    first = sla.deadlines(early, track, recover, pause, SLA)
    second = sla.deadlines(late, track, recover, pause, SLA)
    assert all(first[n] <= second[n] for n in first)
    esc_first = sla.escalation_times(early, track, pause, SLA)
    esc_second = sla.escalation_times(late, track, pause, SLA)
    assert all(esc_first[n] <= esc_second[n] for n in esc_first)
    assert [esc_first[n] for n in sla.LADDER] == sorted(esc_first[n] for n in sla.LADDER)


@settings(max_examples=200)
@given(created=moments, track=tracks, recover=recoveries, pause=pauses, after=moments)
def test_deferring_the_contact_never_brings_it_forward(created, track, recover, pause, after) -> None:  # type: ignore[no-untyped-def]
    plain = sla.deadlines(created, track, recover, pause, SLA)
    deferred = sla.deadlines(created, track, recover, pause, SLA, contact_after=after)
    assert deferred["contact"] >= plain["contact"]
    assert {n: v for n, v in deferred.items() if n != "contact"} == {
        n: v for n, v in plain.items() if n != "contact"
    }


@settings(max_examples=300)
@given(
    start=moments,
    spans=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 3000)), max_size=6),
    tail=st.integers(0, 3000),
)
def test_suspend_resume_sums_the_suspended_spans(start, spans, tail: int) -> None:  # type: ignore[no-untyped-def]
    """Walk suspend/resume cycles as the ticket service does: paused() = the sum of suspended spans,
    the running span counted until resume, and never negative when the clock is read early."""
    now, stored, expected = start, 0, timedelta(0)
    for running_for, resumed_for in spans:
        suspended_at = now
        now += timedelta(seconds=running_for)
        assert sla.paused(stored, suspended_at, now) == expected + timedelta(seconds=running_for)
        stored += running_for  # resume: the span is folded into the stored seconds
        expected += timedelta(seconds=running_for)
        now += timedelta(seconds=resumed_for)
        assert sla.paused(stored, None, now) == expected
    assert sla.paused(stored, now, now - timedelta(seconds=tail)) == expected  # a clock read before


@settings(max_examples=300)
@given(at=precise)
def test_next_contact_time_is_inside_the_hours_and_never_before_now(at: datetime) -> None:
    found = sla.next_contact_time(at, HOURS, TZ)
    assert found >= at
    assert sla.within_contact_hours(found, HOURS, TZ)
    assert found - at < timedelta(hours=24)
    if sla.within_contact_hours(at, HOURS, TZ):
        assert found == at
    else:  # the first moment of the next window: one microsecond earlier is outside
        assert found.astimezone(TZ).time() == HOURS.start
        assert not sla.within_contact_hours(found - timedelta(microseconds=1), HOURS, TZ)


@given(day=st.integers(0, 365), edge=st.sampled_from([HOURS.start, HOURS.end, time(0, 0)]))
def test_contact_hours_edges(day: int, edge: time) -> None:
    """Start inclusive, end exclusive, midnight outside; the same instant in UTC agrees."""
    local = datetime.combine(T0.date() + timedelta(days=day), edge, tzinfo=TZ)
    inside = sla.within_contact_hours(local, HOURS, TZ)
    assert inside is (edge == HOURS.start)
    assert sla.within_contact_hours(local.astimezone(UTC), HOURS, TZ) is inside
