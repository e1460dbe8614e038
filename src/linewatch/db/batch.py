"""Batched writes for the hot path: rows collected in memory, written with one executemany per shape.

Updates to the same row within a batch merge (last value wins), so a duplicate storm of 1,000
repeats of one alarm costs one UPDATE. Statements are compiled once per shape; ``Batch.plan``
turns the batch into those statements with their parameter rows and the conversions they need
(timezone-safe datetimes, JSON), and ``run_plan`` hands them to the driver's ``executemany`` —
in the store process (``db/store.py``) or on the committer's connection — skipping SQLAlchemy's
per-row parameter processing, which dominated the alarm hot path.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, Table, bindparam, insert, update

from linewatch.db.base import UtcDateTime

CHUNK = 5000
Converter = Callable[[Any], Any]
# (column index or parameter name, converter name) of a statement's parameters
Conversions = tuple[tuple[int | str, str], ...]
# ("many", sql, parameter rows, conversions) for executemany; ("copy", COPY statement, value rows,
# conversions) on PostgreSQL
Operation = tuple[str, str, list[Any], Conversions]
Plan = list[Operation]


def _sqlite_time(value: datetime | None) -> str | None:
    # the same text SQLAlchemy's SQLite DATETIME writes and reads back
    return (
        None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _pg_json(value: Any) -> Any:
    from psycopg.types.json import Json

    return None if value is None else Json(value)


def _json_text(value: Any) -> str | None:  # COPY's text for a JSON column
    return None if value is None else json.dumps(value)


# by name, so that a plan names its conversions and stays picklable: they run where the plan is
# executed — in the store process, off the interpreter that applies the books
CONVERTERS: dict[str, Converter] = {
    "sqlite_time": _sqlite_time,
    "utc": _utc,
    "sqlite_json": _sqlite_json,
    "pg_json": _pg_json,
    "json_text": _json_text,
}


def _picker(names: Sequence[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's values in the order of ``names``, picked at C speed."""
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return itemgetter(*names)


def _converter(column_type: Any, dialect: str) -> str | None:
    if isinstance(column_type, UtcDateTime):
        return "sqlite_time" if dialect == "sqlite" else "utc"
    if isinstance(column_type, JSON):
        return "sqlite_json" if dialect == "sqlite" else "pg_json"
    return None


class _Compiled:
    """A statement compiled once for a dialect, with the order and conversions of its parameters."""

    def __init__(self, statement: Any, dialect: Dialect, sources: dict[str, Any]) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        positional = dialect.paramstyle in ("qmark", "format", "numeric")
        self.names: Sequence[str] = list(compiled.positiontup or []) if positional else list(compiled.binds)
        found = [
            (i, n, _converter(sources[n], dialect.name)) for i, n in enumerate(self.names) if n in sources
        ]
        # positional parameters are converted by index, named ones by name
        self.conversions = tuple((i if positional else n, c) for i, n, c in found if c is not None)
        self.pick: Callable[[dict[str, Any]], Any]
        if positional:  # the hot path (SQLite)
            self.pick = _picker(self.names)
        else:
            self.pick = lambda row: {n: row[n] for n in self.names}

    def operation(self, rows: list[dict[str, Any]]) -> Operation:
        return ("many", self.sql, [self.pick(row) for row in rows], self.conversions)


def _convert(values: list[Any], conversions: Conversions) -> list[Any]:
    """Each parameter row with its converted columns; each distinct value converted once (a
    batch's rows share their received_at and times)."""
    converting = [(key, CONVERTERS[name], {}) for key, name in conversions]
    out = []
    for row in values:
        mutable: Any = list(row) if isinstance(row, tuple) else dict(row)
        for key, convert, memo in converting:
            value = mutable[key]
            try:
                mutable[key] = memo[value]
            except KeyError:
                mutable[key] = memo[value] = convert(value)
            except TypeError:  # unhashable (JSON lists and dicts)
                mutable[key] = convert(value)
        out.append(tuple(mutable) if isinstance(row, tuple) else mutable)
    return out


class Batch:
    _cache: dict[tuple[Any, ...], _Compiled] = {}  # noqa: RUF012 - compiled statements, shared by design

    def __init__(self) -> None:
        self.inserts: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self.updates: dict[Table, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self.deletes: list[tuple[Table, str, Any]] = []

    def delete(self, table: Table, column: str, value: Any) -> None:
        """Delete rows where ``column`` = ``value``; runs before this batch's inserts."""
        self.deletes.append((table, column, value))

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self.inserts[table].append(row)

    def update(self, table: Table, row_id: Any, **fields: Any) -> None:
        pending = self.updates[table].get(row_id)
        if pending is None:
            self.updates[table][row_id] = dict(fields)
        else:
            pending.update(fields)

    def __bool__(self) -> bool:
        return bool(self.inserts) or bool(self.updates) or bool(self.deletes)

    def plan(self, dialect: Dialect) -> Plan:
        """The batch as statements with their parameters, ready for the driver: picklable, so that
        another process can write it (``db/store.py``). Empties the batch."""
        plan: Plan = []
        for table, column, value in self.deletes:
            compiled = self._compile(
                ("delete", table.name, column, dialect.name),
                lambda table=table, column=column: (
                    table.delete().where(table.c[column] == bindparam("value")),
                    {"value": table.c[column].type},
                ),
                dialect,
            )
            plan.append(compiled.operation([{"value": value}]))
        for table, rows in self.inserts.items():
            pending = self.updates.get(table)
            shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            shaped: list[dict[str, Any]] = []
            last: Any = None  # the keys of the row before: a table's rows nearly all share theirs
            for row in rows:
                if pending:  # an update to a row inserted in this batch folds into the insert
                    extra = pending.pop(row.get("id"), None)
                    if extra:
                        row.update(extra)
                keys = row.keys()
                if keys != last:
                    shaped, last = shapes.setdefault(tuple(row), []), keys
                shaped.append(row)
            for columns, shaped in shapes.items():
                if dialect.name == "postgresql":
                    plan.append(_copy(table, columns, shaped))
                    continue
                compiled = self._compile(
                    ("insert", table.name, columns, dialect.name),
                    lambda table=table, columns=columns: (
                        insert(table).values({c: bindparam(c) for c in columns}),
                        {c: table.c[c].type for c in columns},
                    ),
                    dialect,
                )
                plan.append(compiled.operation(shaped))
        for table, by_id in self.updates.items():
            shapes = defaultdict(list)
            for row_id, fields in by_id.items():
                shapes[tuple(sorted(fields))].append(
                    {"_id": row_id, **{f"v_{k}": v for k, v in fields.items()}}
                )
            for columns, shaped in shapes.items():
                compiled = self._compile(
                    ("update", table.name, columns, dialect.name),
                    lambda table=table, columns=columns: (
                        update(table)
                        .where(table.c.id == bindparam("_id"))
                        .values({c: bindparam(f"v_{c}") for c in columns}),
                        {f"v_{c}": table.c[c].type for c in columns},
                    ),
                    dialect,
                )
                plan.append(compiled.operation(shaped))
        self.inserts.clear()
        self.updates.clear()
        self.deletes.clear()
        return plan

    def _compile(
        self, key: tuple[Any, ...], build: Callable[[], tuple[Any, dict[str, Any]]], dialect: Dialect
    ) -> _Compiled:
        """``build`` gives the statement and its parameters' column types, on the first use only."""
        compiled = self._cache.get(key)
        if compiled is None:
            statement, sources = build()
            compiled = self._cache[key] = _Compiled(statement, dialect, sources)
        return compiled


def _copy(table: Table, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Operation:
    """PostgreSQL: COPY is several times faster than INSERT for a batch; its JSON columns are
    dumped where the plan runs, like the other statements' conversions."""
    names = ", ".join(f'"{c}"' for c in columns)
    conversions = tuple((i, "json_text") for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON))
    pick = _picker(columns)
    return ("copy", f'COPY "{table.name}" ({names}) FROM STDIN', [pick(row) for row in rows], conversions)


def run_plan(connection: Connection, plan: Plan) -> None:
    """Execute a plan inside the connection's transaction, on the driver's own cursor: SQLAlchemy's
    statement machinery cost more than a small round's executemany itself."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for kind, sql, values, conversions in plan:
            if conversions:
                values = _convert(values, conversions)
            if kind == "copy":
                with cursor.copy(sql) as copy:
                    for row in values:
                        copy.write_row(row)
                continue
            for start in range(0, len(values), CHUNK):
                cursor.executemany(sql, values[start : start + CHUNK])
    finally:
        cursor.close()
