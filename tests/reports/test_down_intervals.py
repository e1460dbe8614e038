"""Which down intervals a month's availability counts: those read by their start, and the long or
still-open ones that began well before the month (found by length or by an open end, migration
0011). Written straight into the tables, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select

from linewatch.context import Context
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.models import Circuit
from linewatch.reports.figures import Period
from linewatch.reports.service import build_report
from tests.conftest import TZ

DAY = 1440  # minutes


def at(month: int, day: int, hh: int = 0) -> datetime:
    return datetime(2026, month, day, hh, tzinfo=TZ)


def incident(
    i: int, opened: datetime, recovered: datetime | None, planned: bool = False
) -> dict[str, object]:
    return dict(
        id=i,
        state="recovered" if recovered else "open",
        level="general",
        level_reason="",
        opened_at=opened,
        recovered_at=recovered,
        root_alarm_id=i,
        root_ne_id=None,
        key_customers_down=0,
        diagnosis_due=opened + timedelta(minutes=15),
        diagnosis_note="",
        planned=planned,
        drill=False,
        updated_at=opened,
    )


def test_long_and_open_intervals_from_before_the_month_count_and_nothing_else(small: Context) -> None:
    with small.db.reading() as session:
        circuit = {
            code: (i, customer)
            for i, code, customer in session.execute(select(Circuit.id, Circuit.code, Circuit.customer_id))
        }
    spans = [  # incident, circuit, kind, since, until, planned
        (1, "FZ-C001-DATA-1", "down", at(1, 1), at(2, 27), False),  # ended before March
        (2, "FZ-C001-DATA-1", "down", at(2, 1), at(3, 10), False),  # 37 days: 9 of them in March
        (3, "FZ-C001-VOICE-1", "down", at(2, 20), None, False),  # still down: all of March
        (4, "FZ-C002-INT-1", "down", at(2, 28, 23), at(3, 1, 2), False),  # just before: 2 h in March
        (5, "FZ-C002-INT-1", "degraded", at(2, 1), at(3, 20), False),  # degraded: not an outage
        (6, "FZ-C002-INT-1", "down", at(3, 20), at(4, 10), False),  # into April: 12 days in March
        (7, "FZ-C003-DATA-1", "down", at(2, 25), at(4, 5), False),  # over the whole month
        (8, "FZ-C003-DATA-1", "down", at(2, 1), at(3, 5), True),  # a planned cutover: never
    ]
    with small.db.unit_of_work() as session:
        session.execute(
            insert(IncidentRecord),
            [incident(i, since, until, planned) for i, _, _, since, until, planned in spans],
        )
        session.execute(
            insert(ImpactRecord),
            [
                dict(
                    id=i,
                    incident_id=i,
                    circuit_id=circuit[code][0],
                    customer_id=circuit[code][1],
                    impact=kind,
                    since=since,
                    until=until,
                )
                for i, code, kind, since, until, _ in spans
            ],
        )
    with small.db.reading() as session:
        report = build_report(session, small.policy, Period.month("2026-03", TZ), at(4, 15))
    counted = {c: [r["incident"] for r in rows] for c, rows in report.view("availability").items()}
    assert counted == {
        "FZ-C001-DATA-1": [2],
        "FZ-C001-VOICE-1": [3],
        "FZ-C002-INT-1": [4, 6],
        "FZ-C003-DATA-1": [7],
    }
    month = 31 * DAY
    by_circuit = report.figures["availability"]["by_circuit"]  # type: ignore[index]
    assert by_circuit == {
        "FZ-C001-DATA-1": round(1 - 9 * DAY / month, 6),
        "FZ-C001-VOICE-1": 0.0,
        "FZ-C002-INT-1": round(1 - (120 + 12 * DAY) / month, 6),
        "FZ-C003-DATA-1": 0.0,
    }


def test_the_months_own_faults_count_the_intervals_that_overlap_it(small: Context) -> None:
    """Intervals of faults opened in the month come with their impacts (decision 140): the
    interval decides, as for older faults — not one that starts after the month, not a degraded
    one, not a planned cutover's, and one dated before its incident opened still counts."""
    with small.db.reading() as session:
        circuit = {
            code: (i, customer)
            for i, code, customer in session.execute(select(Circuit.id, Circuit.code, Circuit.customer_id))
        }
    opened = {11: (at(3, 5), False), 12: (at(3, 31, 22), False), 13: (at(4, 2), False), 14: (at(3, 10), True)}
    spans = [  # impact id, incident, circuit, kind, since, until
        (21, 11, "FZ-C001-DATA-1", "down", at(3, 5), at(3, 5, 2)),  # 2 h
        (22, 11, "FZ-C001-VOICE-1", "degraded", at(3, 5), at(3, 6)),  # not an outage
        (23, 11, "FZ-C002-INT-1", "down", datetime(2026, 4, 1, 0, 0, 1, tzinfo=TZ), at(4, 3)),  # after it
        (24, 12, "FZ-C003-DATA-1", "down", at(3, 31, 22), at(4, 1, 3)),  # 2 h of it in March
        (25, 13, "FZ-C001-VOICE-1", "down", at(3, 30), at(3, 30, 1)),  # before its incident: 1 h
        (26, 14, "FZ-C002-INT-1", "down", at(3, 10), at(3, 11)),  # a planned cutover: never
    ]
    with small.db.unit_of_work() as session:
        session.execute(
            insert(IncidentRecord),
            [incident(i, when, when + timedelta(days=1), planned) for i, (when, planned) in opened.items()],
        )
        session.execute(
            insert(ImpactRecord),
            [
                dict(
                    id=n,
                    incident_id=i,
                    circuit_id=circuit[code][0],
                    customer_id=circuit[code][1],
                    impact=kind,
                    since=since,
                    until=until,
                )
                for n, i, code, kind, since, until in spans
            ],
        )
    with small.db.reading() as session:
        report = build_report(session, small.policy, Period.month("2026-03", TZ), at(4, 15))
    counted = {c: [r["incident"] for r in rows] for c, rows in report.view("availability").items()}
    assert counted == {"FZ-C001-DATA-1": [11], "FZ-C001-VOICE-1": [13], "FZ-C003-DATA-1": [12]}
    month = 31 * DAY
    assert report.figures["availability"]["by_circuit"] == {  # type: ignore[index]
        "FZ-C001-DATA-1": round(1 - 120 / month, 6),
        "FZ-C001-VOICE-1": round(1 - 60 / month, 6),
        "FZ-C003-DATA-1": round(1 - 120 / month, 6),
    }
