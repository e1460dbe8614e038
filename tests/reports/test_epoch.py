"""``epoch_seconds``: the database turns stored timestamps into exact Unix seconds, fractions kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from linewatch.context import Context
from linewatch.db.epoch import epoch_seconds
from linewatch.incidents.models import IncidentRecord
from tests.conftest import TZ
from tests.reports.test_down_intervals import incident

WHEN = [
    datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 0, 0, tzinfo=TZ),  # a local midnight: a month's edge
    datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=TZ),
    datetime(2025, 12, 31, 16, 0, 0, 500000, tzinfo=UTC),
    datetime(2038, 1, 19, 3, 14, 8, 123456, tzinfo=UTC),  # past 32-bit seconds
]


def test_epoch_seconds_are_the_timestamps_exactly(ctx: Context) -> None:
    with ctx.db.unit_of_work() as session:
        session.execute(insert(IncidentRecord), [incident(n, when, None) for n, when in enumerate(WHEN, 1)])
    with ctx.db.reading() as session:
        got = dict(session.execute(select(IncidentRecord.id, epoch_seconds(IncidentRecord.opened_at))).all())
    assert got == {n: when.timestamp() for n, when in enumerate(WHEN, 1)}
    assert all(isinstance(v, float) for v in got.values())
