"""Ids in parts small enough for one ``IN (...)`` list each.

PostgreSQL takes at most 65,535 parameters in a statement, and a fibre cut at scale can hurt
tens of thousands of circuits and customers: a query over all of them is run part by part.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

IN_LIST_MAX = 10_000


def parts(ids: Iterable[int], size: int | None = None) -> Iterator[list[int]]:
    """``ids`` sorted, in lists of at most ``size`` (default ``IN_LIST_MAX``)."""
    ordered = sorted(set(ids))
    step = size or IN_LIST_MAX
    for start in range(0, len(ordered), step):
        yield ordered[start : start + step]
