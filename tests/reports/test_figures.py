"""Pure report arithmetic: periods and trend buckets, merged outage minutes, the league, formula guard."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from linewatch.reports.figures import DownRow, FaultRow, Period, Rules, TicketRow, merged_minutes, statistics
from linewatch.reports.xlsx import safe
from tests.conftest import TZ


def test_month_bounds_in_the_operator_time_zone() -> None:
    march = Period.month("2026-03", TZ)
    assert march.start == datetime(2026, 3, 1, tzinfo=TZ) and march.end == datetime(2026, 4, 1, tzinfo=TZ)
    assert march.minutes == 31 * 1440
    assert Period.month("2026-12", TZ).end == datetime(2027, 1, 1, tzinfo=TZ)
    for bad in ("2026-13", "2026-3", "March", "2026-03-01"):
        with pytest.raises(ValueError):
            Period.month(bad, TZ)


def test_overlapping_outages_count_once() -> None:
    t = datetime(2026, 3, 5, 10, tzinfo=TZ)
    m = timedelta(minutes=1)
    spans = [(t, t + 30 * m), (t + 10 * m, t + 40 * m), (t + 60 * m, t + 70 * m)]
    assert merged_minutes([(s.timestamp(), e.timestamp()) for s, e in spans]) == 50


def test_periods_of_whole_days_and_their_trend_buckets() -> None:
    days = Period.between("2026-03-30", "2026-04-02", TZ)
    assert (days.start, days.end) == (datetime(2026, 3, 30, tzinfo=TZ), datetime(2026, 4, 3, tzinfo=TZ))
    assert [label for label, _ in days.buckets(62)] == [
        "2026-03-30",
        "2026-03-31",
        "2026-04-01",
        "2026-04-02",
    ]
    year = Period.between("2025-03", "2026-02", TZ)
    assert year.end == datetime(2026, 3, 1, tzinfo=TZ) and len(year.buckets(62)) == 12
    assert year.buckets(62)[0] == ("2025-03", datetime(2025, 3, 1, tzinfo=TZ).timestamp())
    for first, last in (("2026-03-05", "2026-03-04"), ("2026-3-1", "2026-03-02"), ("x", "2026-03-02")):
        with pytest.raises(ValueError):
            Period.between(first, last, TZ)


def test_ongoing_outage_counts_to_now_and_an_empty_month_has_no_rates() -> None:
    march = Period.month("2026-03", TZ)
    now = datetime(2026, 3, 10, 12, tzinfo=TZ)
    opened = datetime(2026, 3, 10, 11, tzinfo=TZ)
    o = opened.timestamp()
    fault = FaultRow(1, o, None, o + 900, None, "GL", "unknown", "NE-1", ("C1",), ("data",), (), ("CUS",))
    rules = Rules(30, 2)
    report = statistics(march, now.timestamp(), [fault], [DownRow(1, "C1", o, None)], [], 2, rules)
    assert report.figures["availability"] == {
        "overall": round(1 - 60 / (2 * march.minutes), 6),
        "by_circuit": {"C1": round(1 - 60 / march.minutes, 6)},
    }
    assert report.figures["mttr_minutes"] is None
    assert report.figures["faults"]["by_contractor"] == {"unknown": 1}  # type: ignore[index]
    empty = statistics(march, now.timestamp(), [], [], [], 2, rules)
    assert empty.figures["repeat_fault_rate"] is None and empty.figures["diagnosis_on_time_rate"] is None


def test_league_ranks_by_compliance_then_breaches() -> None:
    march = Period.month("2026-03", TZ)
    t0 = datetime(2026, 3, 2, 9, tzinfo=TZ).timestamp()
    met_all = (t0 + 60, t0 + 600, None, None, t0 + 3600)  # accept, contact, recovered; others moot

    def ticket(n: int, team: str, breached: frozenset[str] = frozenset()) -> TicketRow:
        return TicketRow(n, None, t0, met_all, breached, team, "fibre_cut")

    tickets = [ticket(1, "CT-A", frozenset({"contact"})), ticket(2, "CT-B"), ticket(3, "CT-A")]
    report = statistics(march, t0 + 7200, [], [], tickets, 1, Rules(30, 2))
    league = report.figures["contractor_league"]
    # CT-B: 3 of 3 deadlines met; CT-A: 5 of 6 (ticket 1 contacted, but after its breach).
    assert [(r["team"], r["rank"], r["sla_compliance"], r["breaches"]) for r in league] == [  # type: ignore[union-attr]
        ("CT-B", 1, 1.0, 0),
        ("CT-A", 2, round(5 / 6, 6), 1),
    ]
    assert league[0]["mean_minutes_to_recover"] == 60.0  # type: ignore[index]
    assert report.figures["timeout_reasons"]["contact"] == {"fibre_cut": 1}  # type: ignore[index]
    assert [r["ticket"] for r in report.view("league")["CT-A"]] == [1, 3]


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x"])
def test_formula_like_text_is_neutralised(text: str) -> None:
    assert safe(text) == "'" + text


def test_ordinary_values_are_untouched() -> None:
    assert safe("福州 GL") == "福州 GL" and safe(-3) == -3 and safe(None) is None
