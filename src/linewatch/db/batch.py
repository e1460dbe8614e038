"""Batched writes for the hot path: rows collected in memory, written with one executemany per shape.

Updates to the same row within a batch merge (last value wins), so a duplicate storm of 1,000
repeats of one alarm costs one UPDATE.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

CHUNK = 2000


class Batch:
    def __init__(self) -> None:
        self.inserts: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self.updates: dict[Table, dict[Any, dict[str, Any]]] = defaultdict(dict)

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self.inserts[table].append(row)

    def update(self, table: Table, row_id: Any, **fields: Any) -> None:
        pending = self.updates[table].get(row_id)
        if pending is None:
            self.updates[table][row_id] = dict(fields)
        else:
            pending.update(fields)

    def __bool__(self) -> bool:
        return bool(self.inserts) or bool(self.updates)

    def flush(self, session: Session) -> None:
        """Inserts first (in the order tables were first used), then updates; the caller commits."""
        for table, rows in self.inserts.items():
            pending = self.updates.get(table, {})
            for row in rows:  # an update to a row inserted in this batch folds into the insert
                extra = pending.pop(row.get("id"), None) if "id" in row else None
                if extra:
                    row.update(extra)
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(table), rows[start : start + CHUNK])
        for table, by_id in self.updates.items():
            shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for row_id, fields in by_id.items():
                shapes[tuple(sorted(fields))].append(
                    {"_id": row_id, **{f"v_{k}": v for k, v in fields.items()}}
                )
            for columns, rows in shapes.items():
                statement = (
                    update(table)
                    .where(table.c.id == bindparam("_id"))
                    .values({c: bindparam(f"v_{c}") for c in columns})
                )
                for start in range(0, len(rows), CHUNK):
                    session.connection().execute(statement, rows[start : start + CHUNK])
        self.inserts.clear()
        self.updates.clear()
