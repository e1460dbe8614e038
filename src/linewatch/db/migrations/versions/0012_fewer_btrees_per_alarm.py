"""fewer B-trees written per alarm: rowid ids on SQLite, two-tree alarm→circuit links

Revision ID: 0012
Revises: 0011

On SQLite a BIGINT primary key is not the rowid: every ``alarm``, ``alarm_event``, ``incident``
and ``incident_impact`` row was written to the table and to a unique index of its id. Those
tables are rebuilt with INTEGER ids (the rowid; same values, still 64-bit). ``alarm_circuit``
becomes a table without rowid keyed by (alarm, circuit), and loses its circuit index on both
databases: a circuit's alarms are read through its customer's entries (decision 130).
"""

import re
from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROWID_TABLES = ("alarm", "alarm_event", "incident", "incident_impact")


def _rebuild(table: str, create_sql: str) -> None:
    """SQLite: the table again from ``create_sql`` (named ``table``), rows and indexes kept."""
    bind = op.get_bind()
    columns = [row[1] for row in bind.exec_driver_sql(f'PRAGMA table_info("{table}")')]
    indexes = [
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        )
    ]
    names = ", ".join(f'"{c}"' for c in columns)
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_old"')
    op.execute(create_sql)
    op.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM "{table}_old"')
    op.execute(f'DROP TABLE "{table}_old"')
    for index in indexes:
        op.execute(index)


def _create_sql(table: str) -> str:
    bind = op.get_bind()
    return bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()


def _id_type(create_sql: str, old: str, new: str) -> str:
    """The first column, ``id``, declared ``new`` instead of ``old``."""
    changed, count = re.subn(rf"\(\s*id {old} NOT NULL", f"(\n\tid {new} NOT NULL", create_sql, count=1)
    if count != 1:
        raise RuntimeError(f"unexpected table definition: {create_sql[:200]}")
    return changed


def upgrade() -> None:
    op.drop_index("ix_alarm_circuit_circuit", table_name="alarm_circuit")
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ROWID_TABLES:
        _rebuild(table, _id_type(_create_sql(table), "BIGINT", "INTEGER"))
    _rebuild(
        "alarm_circuit",
        "CREATE TABLE alarm_circuit (alarm_id BIGINT NOT NULL, circuit_id INTEGER NOT NULL, "
        "customer_id INTEGER NOT NULL, route VARCHAR(16) NOT NULL, "
        "CONSTRAINT pk_alarm_circuit PRIMARY KEY (alarm_id, circuit_id)) WITHOUT ROWID",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(
            "alarm_circuit",
            "CREATE TABLE alarm_circuit (alarm_id BIGINT NOT NULL, circuit_id INTEGER NOT NULL, "
            "customer_id INTEGER NOT NULL, route VARCHAR(16) NOT NULL, "
            "CONSTRAINT pk_alarm_circuit PRIMARY KEY (alarm_id, circuit_id))",
        )
        for table in ROWID_TABLES:
            _rebuild(table, _id_type(_create_sql(table), "INTEGER", "BIGINT"))
    op.create_index("ix_alarm_circuit_circuit", "alarm_circuit", ["circuit_id", "alarm_id"])
