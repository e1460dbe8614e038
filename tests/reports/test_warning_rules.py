"""Early-warning rules: thresholds, visit due in working days (chinesecalendar), review times."""

from __future__ import annotations

from datetime import datetime

import pytest

from linewatch.core.policy import load_policy
from linewatch.reports.warning_rules import next_review, periodic_level, visit_due
from tests.conftest import TZ

WP = load_policy(None).warnings  # the default policy: orange ≥3, red ≥5 or ≥2 over the limit


@pytest.mark.parametrize(
    ("faults", "over", "level"),
    [(0, 0, None), (2, 1, None), (3, 0, "orange"), (4, 1, "orange"), (5, 0, "red"), (2, 2, "red")],
)
def test_periodic_thresholds(faults: int, over: int, level: str | None) -> None:
    assert periodic_level(faults, over, WP) == level


def test_visit_due_counts_working_days() -> None:
    # Friday → Monday, Tuesday: due at the end of Tuesday
    assert visit_due(datetime(2026, 3, 6, 15, tzinfo=TZ), 2, TZ) == datetime(2026, 3, 11, tzinfo=TZ)
    # Thursday 04-30 before the May Day holiday (05-01..05-05 off): Wed 05-06, Thu 05-07
    assert visit_due(datetime(2026, 4, 30, 9, tzinfo=TZ), 2, TZ) == datetime(2026, 5, 8, tzinfo=TZ)
    # Friday 05-08: Saturday 05-09 is a make-up working day (调休), then Monday 05-11
    assert visit_due(datetime(2026, 5, 8, 9, tzinfo=TZ), 2, TZ) == datetime(2026, 5, 12, tzinfo=TZ)


def test_next_review_weekly_and_monthly() -> None:
    monday_9 = datetime(2026, 3, 2, 9, tzinfo=TZ)
    assert next_review(monday_9, "weekly", TZ) == datetime(2026, 3, 9, 8, tzinfo=TZ)
    assert next_review(datetime(2026, 3, 2, 7, tzinfo=TZ), "weekly", TZ) == datetime(2026, 3, 2, 8, tzinfo=TZ)
    assert next_review(monday_9, "monthly", TZ) == datetime(2026, 4, 1, 8, tzinfo=TZ)
    assert next_review(datetime(2026, 12, 5, tzinfo=TZ), "monthly", TZ) == datetime(2027, 1, 1, 8, tzinfo=TZ)
