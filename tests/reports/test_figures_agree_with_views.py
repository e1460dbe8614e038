"""Every figure is counted without the records behind it, which are worked out only when a view is
read (``LazyGroups``): on random months the counts, the repeat-fault rate and each circuit's
availability must be what the view's rows say, and the repeat count must not depend on the
short cut that skips circuits with too few faults."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from linewatch.reports.figures import DownRow, FaultRow, Period, Rules, merged_minutes, statistics
from tests.conftest import TZ

MONTH = Period.month("2026-03", TZ)
DAY = 86400.0
CIRCUITS = [f"C{n}" for n in range(6)]  # few circuits: repeats and overlapping outages are common
NOW = datetime(2026, 5, 1, tzinfo=TZ).timestamp()


@st.composite
def months(draw: st.DrawFn) -> tuple[list[FaultRow], list[DownRow]]:
    faults: list[FaultRow] = []
    downs: list[DownRow] = []
    for i in range(1, draw(st.integers(0, 25)) + 1):
        # From 40 days before the month (some beyond the 30-day window) to a few days after it.
        opened = MONTH.start_s + draw(st.integers(-40 * 24, 34 * 24)) * 3600.0
        if draw(st.booleans()):
            opened = faults[-1].opened if faults else opened  # ties at the same second
        circuits = tuple(draw(st.sets(st.sampled_from(CIRCUITS), min_size=1, max_size=3)))
        contractors = tuple(draw(st.sets(st.sampled_from(["CT-A", "CT-B"]), max_size=2)))
        recovered = opened + draw(st.integers(1, 3 * 24)) * 1800.0 if draw(st.booleans()) else None
        faults.append(
            FaultRow(
                i,
                opened,
                recovered,
                opened + 900,
                None,
                draw(st.sampled_from(["GL", "TJ"])),
                draw(st.sampled_from(["fibre_cut", "unknown"])),
                draw(st.sampled_from(["NE-1", "NE-2", "NE-3"])),
                circuits,
                ("data",),
                contractors,
                tuple({c[-1] for c in circuits}),
            )
        )
        for c in circuits:
            if draw(st.booleans()):
                downs.append(DownRow(i, c, opened, recovered))
    return faults, downs


@settings(max_examples=200, deadline=None)
@given(months(), st.integers(1, 4))
def test_figures_are_what_their_views_say(
    month: tuple[list[FaultRow], list[DownRow]], repeat_min: int
) -> None:
    faults, downs = month
    rules = Rules(30, repeat_min)
    report = statistics(MONTH, NOW, faults, downs, [], len(CIRCUITS), rules)
    figures = report.figures
    counted = figures["faults"]
    assert isinstance(counted, dict)
    for name in ("by_region", "by_cause", "by_service_type", "by_contractor"):
        assert counted[name] == {key: len(rows) for key, rows in report.view(name).items()}, name
    assert figures["trend"] == {
        label: len(report.view("trend").get(label, [])) for label, _ in MONTH.buckets(rules.trend_days_max)
    }
    for name, view in (("top_nes", "by_ne"), ("top_customers", "by_customer")):
        ranked = sorted(report.view(view).items(), key=lambda kv: (-len(kv[1]), kv[0]))[: rules.top_n]
        assert figures[name] == [{"key": k, "faults": len(v)} for k, v in ranked], name

    rows = report.view("repeat_faults")["all"] if counted["total"] else []
    assert [r["circuit"] for r in rows] == sorted(
        {c for f in faults if f.opened >= MONTH.start_s and f.opened < MONTH.end_s for c in f.circuits}
    )
    repeats = sum(r["repeat"] for r in rows)
    assert figures["repeat_fault_rate"] == (round(repeats / len(rows), 6) if rows else None)

    availability = figures["availability"]
    assert isinstance(availability, dict)
    by_view = {
        circuit: round(
            1
            - merged_minutes([(s, e) for s, e, _ in report.groups["availability"][circuit]]) / MONTH.minutes,
            6,
        )
        for circuit in report.view("availability")
    }
    assert availability["by_circuit"] == by_view
