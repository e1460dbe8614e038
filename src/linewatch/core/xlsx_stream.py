"""A minimal streamed .xlsx writer for large plain exports: text, numbers and booleans, no styles.

openpyxl's write-only mode builds a cell object, checks and serialises it through lxml for every
value (≈ 8 µs a cell); a year-scale report has millions of cells. Here each row becomes one
string of SpreadsheetML (inline strings, no shared-string table) written straight into the zip
entry of its sheet. Sheets are written one after the other: creating a sheet finishes the one
before. Readers (Excel, LibreOffice, openpyxl) open the result like any workbook.

Callers still pass every value through ``core.spreadsheet.safe`` (formula injection); this writer
additionally drops characters XML cannot hold, so a stray one never breaks the file.
"""

from __future__ import annotations

import math
import zipfile
from typing import IO, Any
from xml.sax.saxutils import escape

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_FLUSH_ROWS = 2000


def _text(value: str) -> str:
    return escape(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "<c/>"  # an empty cell (as openpyxl writes "" too): it still takes its column
    if value is True or value is False:
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, float) and math.isfinite(value):
        return f"<c><v>{value!r}</v></c>"
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(str(value))}</t></is></c>'


class Sheet:
    def __init__(self, book: StreamedWorkbook, handle: IO[bytes]) -> None:
        self._book = book
        self._handle = handle
        self._rows = 0
        self._pending: list[str] = []
        handle.write(f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>'.encode())

    def append(self, values: list[Any]) -> None:
        self._rows += 1
        self._pending.append(f'<row r="{self._rows}">{"".join(map(_cell, values))}</row>')
        if len(self._pending) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        self._handle.write("".join(self._pending).encode())
        self._pending.clear()

    def close(self) -> None:
        self._flush()
        self._handle.write(b"</sheetData></worksheet>")
        self._handle.close()


class StreamedWorkbook:
    """``create_sheet(title).append(row)`` … then ``finish()``; the .xlsx is written to ``out``."""

    def __init__(self, out: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._titles: list[str] = []
        self._current: Sheet | None = None

    def create_sheet(self, title: str) -> Sheet:
        if self._current is not None:
            self._current.close()
        self._titles.append(title)
        handle = self._zip.open(f"xl/worksheets/sheet{len(self._titles)}.xml", "w")
        self._current = Sheet(self, handle)
        return self._current

    def finish(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        n = len(self._titles)
        sheets = "".join(
            f'<sheet name="{escape(t, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
            for i, t in enumerate(self._titles, 1)
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        parts = {
            "[Content_Types].xml": (
                f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
                f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
                f"{overrides}</Types>"
            ),
            "_rels/.rels": (
                f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
                f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
                "</Relationships>"
            ),
            "xl/workbook.xml": (
                f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'
            ),
            "xl/_rels/workbook.xml.rels": (
                f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{rels}'
                f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
                "</Relationships>"
            ),
            "xl/styles.xml": _STYLES,
        }
        for name, body in parts.items():
            self._zip.writestr(name, body)
        self._zip.close()


__all__ = ["Sheet", "StreamedWorkbook"]
