"""Pure SLA arithmetic (tickets/sla.py) against the default policy: no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from linewatch.core.policy import ContactHours, load_policy
from linewatch.tickets import sla

POLICY = load_policy()
SLA = POLICY.sla
HOURS = POLICY.dispatch.customer_contact_hours
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


def local(hh: int, mm: int, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("grade", "track"),
    [
        ("diamond", "gold"),
        ("gold", "gold"),
        ("silver", "silver"),
        ("bronze", "normal"),
        ("standard", "normal"),
    ],
)
def test_track_from_service_grade(grade: str, track: str) -> None:
    assert sla.track_for([grade], SLA) == track


def test_track_of_several_customers_is_the_best_and_unknown_grades_fall_back_to_normal() -> None:
    assert sla.track_for(["standard", "silver", "bronze"], SLA) == "silver"
    assert sla.track_for(["bronze", "diamond"], SLA) == "gold"
    assert sla.track_for([], SLA) == "normal"
    assert sla.track_for(["platinum"], SLA) == "normal"


@pytest.mark.parametrize(("assurance", "minutes"), [("AAA", 120), ("AA", 240), ("A", 360), ("normal", 480)])
def test_recovery_limit_by_assurance_level(assurance: str, minutes: int) -> None:
    assert sla.recovery_limit([assurance], SLA) == minutes


def test_recovery_limit_of_several_circuits_is_the_earliest() -> None:
    assert sla.recovery_limit(["normal", "A", "AA"], SLA) == 240
    assert sla.recovery_limit(["normal", "AAA", "A"], SLA) == 120
    assert sla.recovery_limit([], SLA) == 480  # a ticket without circuits (a flagged report)
    assert sla.recovery_limit(["unknown", "A"], SLA) == 360


# DOMAIN 5: accept, contact, on site, locate (minutes), and the repair ladder
TRACKS = {
    "gold": ((10, 30, 60, 120), (150, 180, 240)),
    "silver": ((10, 30, 240, 300), (360, 420, 480)),
    "normal": ((10, 30, 480, 540), (600, 660, 720)),
}


@pytest.mark.parametrize("track", list(TRACKS))
def test_deadlines_and_ladder_of_each_track(track: str) -> None:
    (accept, contact, on_site, locate), ladder = TRACKS[track]
    due = sla.deadlines(T0, track, 240, timedelta(0), SLA)
    assert list(due) == list(sla.DEADLINES)
    assert due == {
        "accept": T0 + timedelta(minutes=accept),
        "contact": T0 + timedelta(minutes=contact),
        "on_site": T0 + timedelta(minutes=on_site),
        "locate": T0 + timedelta(minutes=locate),
        "recover": T0 + timedelta(minutes=240),  # from the assurance level, not the track
    }
    rungs = sla.escalation_times(T0, track, timedelta(0), SLA)
    assert list(rungs) == list(sla.LADDER) == ["fault_manager", "manager_l3", "leader"]
    assert [rungs[level] - T0 for level in sla.LADDER] == [timedelta(minutes=m) for m in ladder]


def test_pause_moves_every_deadline_and_rung_by_the_suspended_time() -> None:
    pause = timedelta(minutes=47, seconds=13)
    plain = sla.deadlines(T0, "silver", 360, timedelta(0), SLA)
    moved = sla.deadlines(T0, "silver", 360, pause, SLA)
    assert all(moved[name] - plain[name] == pause for name in plain)
    rungs = sla.escalation_times(T0, "silver", pause, SLA)
    assert rungs["leader"] == T0 + timedelta(minutes=480) + pause


def test_paused_counts_past_suspensions_and_the_one_running() -> None:
    assert sla.paused(0, None, T0) == timedelta(0)
    assert sla.paused(600, None, T0) == timedelta(minutes=10)
    # suspended 25 minutes ago, after 10 minutes of earlier suspensions
    assert sla.paused(600, T0 - timedelta(minutes=25), T0) == timedelta(minutes=35)
    # a suspension dated in the future (clock skew) pauses nothing yet
    assert sla.paused(600, T0 + timedelta(minutes=5), T0) == timedelta(minutes=10)


def test_contact_deferred_to_the_morning_moves_the_contact_deadline_only() -> None:
    created = local(23, 10)
    contact_after = local(7, 30, day=3)
    due = sla.deadlines(created, "gold", 120, timedelta(0), SLA, contact_after=contact_after)
    assert due["contact"] == contact_after + timedelta(minutes=30)
    assert due["accept"] == created + timedelta(minutes=10)
    assert due["recover"] == created + timedelta(minutes=120)
    # a deferral earlier than the ordinary deadline changes nothing
    early = sla.deadlines(created, "gold", 120, timedelta(0), SLA, contact_after=created)
    assert early["contact"] == created + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("at", "inside", "next_contact"),
    [
        (local(7, 29), False, local(7, 30)),
        (local(7, 30), True, local(7, 30)),
        (local(21, 59), True, local(21, 59)),
        (local(22, 0), False, local(7, 30, day=3)),
        (local(0, 0), False, local(7, 30)),
        (local(23, 59), False, local(7, 30, day=3)),
        (datetime(2026, 3, 2, 13, 59, tzinfo=UTC), True, datetime(2026, 3, 2, 13, 59, tzinfo=UTC)),  # 21:59
        (datetime(2026, 3, 2, 14, 0, tzinfo=UTC), False, local(7, 30, day=3)),  # 22:00 local
        (datetime(2026, 3, 1, 23, 29, tzinfo=UTC), False, local(7, 30)),  # 07:29 local
    ],
)
def test_contact_hours_edges_in_shanghai(at: datetime, inside: bool, next_contact: datetime) -> None:
    assert sla.within_contact_hours(at, HOURS, TZ) is inside
    assert sla.next_contact_time(at, HOURS, TZ) == next_contact


def test_contact_hours_cross_month_end_and_follow_the_policy() -> None:
    assert sla.next_contact_time(datetime(2026, 3, 31, 22, 30, tzinfo=TZ), HOURS, TZ) == datetime(
        2026, 4, 1, 7, 30, tzinfo=TZ
    )
    narrow = ContactHours(start=time(9, 0), end=time(18, 0))
    assert not sla.within_contact_hours(local(8, 59), narrow, TZ)
    assert sla.next_contact_time(local(18, 0), narrow, TZ) == local(9, 0, day=3)
