"""A report's independent reads run beside its own work (``reports.service._Ahead``): on PostgreSQL
in a thread on a second connection, on a SQLite file in two threads that leave each read
finished in SQLite's sorter. The report must be the one the reads made one after another on the
session's own connection (as for a session bound to a connection), on both databases; an error
in a lane comes out where its rows are asked for, and the lanes' connections go back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, literal_column, select, text
from sqlalchemy.orm import Session

from linewatch.context import Context
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.inventory.models import Circuit
from linewatch.reports.figures import Period, Report
from linewatch.reports.service import Filters, _Ahead, build_report
from linewatch.tickets.models import Ticket
from tests.conftest import TZ
from tests.reports.test_down_intervals import at, incident

ONE = select(literal_column("1").label("one"))  # a read of one row, one column


def _month(small: Context) -> None:
    """Faults in March 2026 and the February before it (repeats), with down intervals reaching
    into March and closed tickets with causes."""
    with small.db.reading() as session:
        circuits = session.execute(select(Circuit.id, Circuit.customer_id).order_by(Circuit.id)).all()
    incidents, impacts, tickets = [], [], []
    for i in range(1, 41):
        opened = at(2, 10) + timedelta(hours=23 * i)
        recovered = opened + timedelta(minutes=30 + 7 * i) if i % 9 else None
        incidents.append(incident(i, opened, recovered))
        for n, (circuit_id, customer_id) in enumerate(circuits[i % len(circuits) :][: 1 + i % 3]):
            impacts.append(
                dict(
                    id=len(impacts) + 1,
                    incident_id=i,
                    circuit_id=circuit_id,
                    customer_id=customer_id,
                    impact="down" if (i + n) % 3 else "degraded",
                    since=opened,
                    until=recovered,
                )
            )
        closed = (recovered or opened) + timedelta(hours=1)
        tickets.append(
            dict(
                id=i,
                incident_id=i,
                channel="auto",
                customer_id=circuits[i % len(circuits)][1],
                customer_text="",
                flagged="",
                track="normal",
                state="closed",
                description="",
                created_at=opened + timedelta(minutes=1),
                accepted_at=opened + timedelta(minutes=5),
                recovered_at=recovered,
                closed_at=closed,
                recovery_minutes=480,
                suspended_seconds=0,
                cause=["fibre_cut", "power", "equipment"][i % 3],
                resolution="",
                drill=False,
            )
        )
    with small.db.unit_of_work() as session:
        session.execute(insert(IncidentRecord), incidents)
        session.execute(insert(ImpactRecord), impacts)
        session.execute(insert(Ticket), tickets)


def _everything(report: Report) -> tuple[object, ...]:
    return report.figures, {name: report.view(name) for name in report.groups}, report.faults


@pytest.mark.pg
@pytest.mark.parametrize("filters", [Filters(), Filters(cause="power"), Filters(region="GL")])
def test_reads_beside_the_work_give_the_report_read_one_after_another(
    small: Context, filters: Filters
) -> None:
    _month(small)
    march = Period.month("2026-03", TZ)
    with small.db.reading() as session:
        with _Ahead(session, {"one": ONE}) as ahead:
            assert ahead._threads  # an engine-bound session on a file or on PostgreSQL: lanes
            assert ahead.rows("one")[0][0] == 1
        beside = build_report(session, small.policy, march, at(4, 15), filters)
    with small.db.engine.connect() as connection:
        bound = Session(bind=connection)  # one connection: every read on it, in turn
        with _Ahead(bound, {}) as ahead:
            assert not ahead._threads
        in_turn = build_report(bound, small.policy, march, at(4, 15), filters)
        bound.close()
    assert beside.figures["faults"]["total"] > 0  # type: ignore[index]
    assert _everything(beside) == _everything(in_turn)


@pytest.mark.pg
def test_an_error_in_a_lane_comes_out_where_its_rows_are_asked_for(small: Context) -> None:
    checked_out = small.db.engine.pool.checkedout()  # type: ignore[attr-defined]
    with small.db.reading() as session:
        reads = {"first": ONE, "broken": select(literal_column("x")).select_from(text("no_such_table"))}
        with pytest.raises(Exception, match="no_such_table"), _Ahead(session, reads) as ahead:
            assert ahead.rows("first")[0][0] == 1
            ahead.rows("broken")
        session.rollback()  # the session's own connection: back with the session
    assert small.db.engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]
