"""Pure cutover rules: the working-day calendar, notice, conflicts and the six answering rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linewatch.cutovers import rules
from linewatch.cutovers.choices import ImpactType, Verdict, VerdictRule

TZ = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def test_national_day_is_off_and_make_up_days_are_on() -> None:
    assert not rules.is_working_day(date(2025, 10, 1))  # 国庆
    assert not rules.is_working_day(date(2025, 10, 8))
    assert rules.is_working_day(date(2025, 9, 28))  # 调休: a Sunday worked
    assert rules.is_working_day(date(2025, 10, 11))  # 调休: a Saturday worked
    assert not rules.is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_working_days_across_national_day() -> None:
    # published Tue 30 Sep for Mon 13 Oct: only 9, 10 and the make-up Saturday 11 Oct count
    assert rules.working_days_between(date(2025, 9, 30), date(2025, 10, 13)) == 3
    # published Fri 26 Sep: make-up Sunday 28, 29, 30, then 9, 10, 11 → exactly six
    assert rules.working_days_between(date(2025, 9, 26), date(2025, 10, 13)) == 6


def test_short_notice_needs_six_whole_working_days() -> None:
    start = at(2025, 10, 13, 0, 30)
    assert not rules.short_notice(at(2025, 9, 26, 17, 0), start, 6)
    assert rules.short_notice(at(2025, 9, 29, 9, 0), start, 6)  # five: short
    assert rules.short_notice(None, start, 6)  # never published
    # an ordinary week: Mon → next Tue has Tue..Fri + Mon = 5 whole working days between
    assert rules.short_notice(at(2026, 3, 2, 9, 0), at(2026, 3, 10, 1, 0), 6)
    assert not rules.short_notice(at(2026, 3, 2, 9, 0), at(2026, 3, 11, 1, 0), 6)


def test_days_are_counted_in_the_operators_zone() -> None:
    utc = ZoneInfo("UTC")
    # 16:30 UTC on Wednesday 15 Oct is 00:30 Thursday 16 Oct in Fuzhou: 9, 10, 11, 13, 14, 15 → six
    start = datetime(2025, 10, 15, 16, 30, tzinfo=utc)
    published = datetime(2025, 9, 30, 2, 0, tzinfo=utc)
    assert not rules.short_notice(published, start, 6, TZ)
    assert rules.short_notice(published, start, 6, utc)  # by UTC days the 15th itself would not count


def test_years_outside_the_calendar_fall_back_to_weekdays() -> None:
    assert rules.is_working_day(date(2099, 6, 1))  # a Monday
    assert not rules.is_working_day(date(2099, 6, 6))  # a Saturday


def window(wid: int, start: datetime, hours: int, routes: dict[int, frozenset[str]]) -> rules.Window:
    return rules.Window(wid, f"T{wid}", start, start + timedelta(hours=hours), routes)


def test_conflict_when_two_overlapping_cutovers_take_both_routes() -> None:
    primary, backup = frozenset({"primary"}), frozenset({"backup"})
    mine = window(1, at(2026, 3, 3, 0), 4, {7: primary})
    assert rules.conflicts(mine, [window(2, at(2026, 3, 3, 2), 4, {7: backup})]) == [("T2", 7)]
    assert rules.conflicts(mine, [window(2, at(2026, 3, 3, 4), 4, {7: backup})]) == []  # back to back
    assert rules.conflicts(mine, [window(2, at(2026, 3, 3, 2), 4, {7: primary})]) == []  # same route
    assert rules.conflicts(mine, [window(2, at(2026, 3, 3, 2), 4, {8: backup})]) == []


START, END = at(2026, 3, 10, 0, 0), at(2026, 3, 10, 4, 0)
IN_TIME = at(2026, 3, 1, 9, 0)
NO_GRACE = timedelta(0)


def facts(**changes: object) -> rules.CutoverFacts:
    base: dict[str, object] = {
        "impact": ImpactType.INTERRUPT,
        "window_start": START,
        "window_end": END,
        "published_at": IN_TIME,
        "short_notice": False,
    }
    return rules.CutoverFacts(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cutover", "recovered", "rule"),
    [
        (None, at(2026, 3, 10, 1), VerdictRule.NOT_REGISTERED),
        (facts(impact=ImpactType.NONE), at(2026, 3, 10, 1), VerdictRule.NON_INTERRUPTING),
        (facts(), at(2026, 3, 10, 4, 30), VerdictRule.OVERRAN),
        (facts(published_at=None), at(2026, 3, 10, 1), VerdictRule.NOT_NOTIFIED),
        (facts(published_at=at(2026, 3, 10, 0, 10)), at(2026, 3, 10, 1), VerdictRule.NOT_NOTIFIED),
        (facts(short_notice=True), at(2026, 3, 10, 1), VerdictRule.SHORT_NOTICE),
    ],
)
def test_network_fault_rules(
    cutover: rules.CutoverFacts | None, recovered: datetime, rule: VerdictRule
) -> None:
    assert rules.verdict(cutover, recovered, at(2026, 3, 11), NO_GRACE) == (Verdict.NETWORK_FAULT, rule)


def test_planned_only_when_every_condition_holds() -> None:
    got = rules.verdict(facts(), at(2026, 3, 10, 3, 59), at(2026, 3, 11), NO_GRACE)
    assert got == (Verdict.PLANNED_CUTOVER, VerdictRule.AS_ANNOUNCED)
    flash = rules.verdict(facts(impact=ImpactType.FLASH), at(2026, 3, 10, 1), at(2026, 3, 11), NO_GRACE)
    assert flash[0] is Verdict.PLANNED_CUTOVER


def test_still_down_overruns_once_the_window_and_grace_pass() -> None:
    during = rules.verdict(facts(), None, at(2026, 3, 10, 3), NO_GRACE)
    assert during[0] is Verdict.PLANNED_CUTOVER
    after = rules.verdict(facts(), None, at(2026, 3, 10, 4, 20), timedelta(minutes=30))
    assert after[0] is Verdict.PLANNED_CUTOVER  # inside the grace
    late = rules.verdict(facts(), None, at(2026, 3, 10, 4, 31), timedelta(minutes=30))
    assert late == (Verdict.NETWORK_FAULT, VerdictRule.OVERRAN)
