"""Pure report arithmetic: month bounds, merged outage minutes, formula-injection guard."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from linewatch.reports.figures import DownRow, FaultRow, Month, merged_minutes, monthly
from linewatch.reports.xlsx import safe
from tests.conftest import TZ


def test_month_bounds_in_the_operator_time_zone() -> None:
    march = Month.parse("2026-03", TZ)
    assert march.start == datetime(2026, 3, 1, tzinfo=TZ) and march.end == datetime(2026, 4, 1, tzinfo=TZ)
    assert march.minutes == 31 * 1440
    assert Month.parse("2026-12", TZ).end == datetime(2027, 1, 1, tzinfo=TZ)
    for bad in ("2026-13", "2026-3", "March", "2026-03-01"):
        with pytest.raises(ValueError):
            Month.parse(bad, TZ)


def test_overlapping_outages_count_once() -> None:
    t = datetime(2026, 3, 5, 10, tzinfo=TZ)
    m = timedelta(minutes=1)
    assert merged_minutes([(t, t + 30 * m), (t + 10 * m, t + 40 * m), (t + 60 * m, t + 70 * m)]) == 50


def test_ongoing_outage_counts_to_now_and_an_empty_month_has_no_rates() -> None:
    march = Month.parse("2026-03", TZ)
    now = datetime(2026, 3, 10, 12, tzinfo=TZ)
    opened = datetime(2026, 3, 10, 11, tzinfo=TZ)
    fault = FaultRow(
        1, opened, None, opened + timedelta(minutes=15), None, "GL", "unknown", ("C1",), ("data",), ()
    )
    report = monthly(march, now, [fault], [DownRow(1, "C1", opened, None)], [], 2, 30, 2)
    assert report.figures["availability"] == {
        "overall": round(1 - 60 / (2 * march.minutes), 6),
        "by_circuit": {"C1": round(1 - 60 / march.minutes, 6)},
    }
    assert report.figures["mttr_minutes"] is None
    assert report.figures["faults"]["by_contractor"] == {"unknown": 1}  # type: ignore[index]
    empty = monthly(march, now, [], [], [], 2, 30, 2)
    assert empty.figures["repeat_fault_rate"] is None and empty.figures["diagnosis_on_time_rate"] is None


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x"])
def test_formula_like_text_is_neutralised(text: str) -> None:
    assert safe(text) == "'" + text


def test_ordinary_values_are_untouched() -> None:
    assert safe("福州 GL") == "福州 GL" and safe(-3) == -3 and safe(None) is None
