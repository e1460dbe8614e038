"""Spreadsheet exports (CSV and Excel) share one guard against formula injection."""

from __future__ import annotations

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> object:
    """Neutralise spreadsheet formula injection: text that Excel would read as a formula (a
    customer name like ``=HYPERLINK(...)``) gets a leading apostrophe and stays text. Control
    characters XML cannot hold (device text may carry them) become U+FFFD instead of failing the
    export."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return "'" + value if value.startswith(FORMULA_START) else value
