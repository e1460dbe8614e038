"""Ids in parts for IN lists (PostgreSQL's 65,535-parameter limit)."""

from __future__ import annotations

from linewatch.core.chunks import parts


def test_ids_come_sorted_and_unique_in_parts_small_enough_for_one_in_list() -> None:
    assert list(parts([5, 3, 3, 1, 4], size=2)) == [[1, 3], [4, 5]]
    assert list(parts(range(25_000))) == [
        list(range(0, 10_000)),
        list(range(10_000, 20_000)),
        list(range(20_000, 25_000)),
    ]
    assert list(parts([])) == []
