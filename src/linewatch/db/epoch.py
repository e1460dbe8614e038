"""``epoch_seconds(column)``: a timestamp as float Unix seconds, computed by the database.

Report queries read hundreds of thousands of timestamps; letting SQLite/PostgreSQL turn them
into numbers in C is ~10× cheaper than converting each into a ``datetime`` in Python.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

# Whole seconds parsed from the text without its fraction: SQLite rounds a time to milliseconds,
# so '…:59.9999' parsed whole would give the next second (a full second too much, once added to
# the fraction). unixepoch() (3.38+) does it without formatting the seconds as text and parsing
# them back as strftime('%s') does.
_WHOLE_SECONDS = (
    "unixepoch(substr({0}, 1, 19))"
    if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', substr({0}, 1, 19)) AS REAL)"
)


class epoch_seconds(GenericFunction[float]):
    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # UtcDateTime keeps naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' on SQLite: whole seconds plus
    # the fraction as written (julianday would round it to milliseconds).
    column = compiler.process(element.clauses, **kw)
    return f"({_WHOLE_SECONDS.format(column)} + CAST(substr({column}, 20) AS REAL))"


@compiles(epoch_seconds, "postgresql")
def _postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


__all__ = ["epoch_seconds"]
