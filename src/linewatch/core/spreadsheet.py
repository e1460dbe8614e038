"""Spreadsheet exports (CSV and Excel) share one guard against formula injection."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> object:
    """Neutralise spreadsheet formula injection: text that Excel would read as a formula (a
    customer name like ``=HYPERLINK(...)``) gets a leading apostrophe and stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
