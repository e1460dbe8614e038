"""``epoch_seconds(column)``: a timestamp as float Unix seconds, computed by the database.

Report queries read hundreds of thousands of timestamps; letting SQLite/PostgreSQL turn them
into numbers in C is ~10× cheaper than converting each into a ``datetime`` in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


class epoch_seconds(GenericFunction[float]):
    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # UtcDateTime keeps naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' on SQLite: whole seconds from
    # strftime plus the fraction as written (julianday would round to about 20 µs).
    column = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {column}) AS REAL) + CAST(substr({column}, 20) AS REAL))"


@compiles(epoch_seconds, "postgresql")
def _postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


__all__ = ["epoch_seconds"]
