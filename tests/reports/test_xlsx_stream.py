"""The streamed .xlsx writer behind the report export reads back as written, in any reader's eyes."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from linewatch.core.spreadsheet import safe
from linewatch.core.xlsx_stream import StreamedWorkbook


def test_values_come_back_in_their_columns_and_hostile_text_stays_text() -> None:
    out = io.BytesIO()
    wb = StreamedWorkbook(out)
    first = wb.create_sheet("summary 汇总")
    first.append(["n", "x", "flag", "none", "empty", "after"])
    first.append([7, 2.5, True, None, "", "still column F"])
    first.append([-3, 1e-05, False, 0, 0.0, 123456789012])
    hostile = wb.create_sheet("R&D <views>")
    texts = ["<b>&amp;\"'", "  spaced  ", "中文 故障", "bell\x07 and nul\x00", "=1+1", "@SUM(A1)", "-1"]
    hostile.append([safe(t) for t in texts])
    wb.finish()

    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["summary 汇总", "R&D <views>"]
    rows = list(book["summary 汇总"].iter_rows(values_only=True))
    assert rows == [
        ("n", "x", "flag", "none", "empty", "after"),
        (7, 2.5, True, None, None, "still column F"),
        (-3, 1e-05, False, 0, 0, 123456789012),
    ]
    [row] = book["R&D <views>"].iter_rows(values_only=True)
    assert row[:4] == ("<b>&amp;\"'", "  spaced  ", "中文 故障", "bell\ufffd and nul\ufffd")
    assert row[4:] == ("'=1+1", "'@SUM(A1)", "'-1")  # formulas stay text


def test_many_rows_stream_through_several_flushes() -> None:
    out = io.BytesIO()
    wb = StreamedWorkbook(out)
    sheet = wb.create_sheet("big")
    for n in range(5001):
        sheet.append([n, f"row {n}"])
    wb.create_sheet("empty")
    wb.finish()
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    values = list(book["big"].iter_rows(values_only=True))
    assert len(values) == 5001 and values[0] == (0, "row 0") and values[-1] == (5000, "row 5000")
    assert list(book["empty"].iter_rows(values_only=True)) == []
