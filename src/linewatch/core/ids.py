"""Row ids as callers send them: in paths, queries and paging cursors.

Ids are 32-bit integer columns; a larger number cannot name a row, and SQLite refuses to even bind
one past 64 bits. So an id or cursor out of range is a clear 4xx at the edge, never a driver error.
"""

from __future__ import annotations

from linewatch.core.errors import LinewatchError

MAX_ROW_ID = 2**31 - 1


def parse_cursor(cursor: str) -> int:
    """A paging cursor: the decimal id of the last row seen (ASCII digits only, in id range)."""
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_ROW_ID:
        raise LinewatchError(f"bad cursor {cursor[:40]!r}: expected a row id")
    return int(cursor)
