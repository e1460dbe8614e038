"""Reading an inventory import: a folder of CSV files or one .xlsx workbook → raw tables.

Reading never raises on bad input: every problem becomes an :class:`Issue` naming the file,
row and column, so the importer can report all of them at once.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from linewatch.inventory.tables import TABLES

csv.field_size_limit(1 << 20)  # a 1 MiB cell is already absurd; larger ones are reported, not read
MAX_FILE_BYTES = 1 << 30


@dataclass(frozen=True)
class Issue:
    """One problem with an import, located as precisely as possible (row 1 is the header)."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class RawTable:
    name: str
    file: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@dataclass
class ReadResult:
    tables: dict[str, RawTable] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def decode(file: str, data: bytes, result: ReadResult) -> str | None:
    """UTF-8 (BOM allowed); GBK/GB18030 files, common from operators' Excel, are detected and read."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and not any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        result.warnings.append(Issue(file, None, None, "file is GBK/GB18030, not UTF-8: read as GB18030"))
        return text
    line = data[: utf8_error.start].count(b"\n") + 1
    result.errors.append(
        Issue(file, line, None, f"file is neither UTF-8 nor GBK text (bad byte at offset {utf8_error.start})")
    )
    return None


def _add_table(
    name: str, file: str, header: list[str], rows: list[tuple[int, list[str]]], result: ReadResult
) -> None:
    spec = TABLES[name]
    columns = [h.strip().lower() for h in header]
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            result.errors.append(Issue(file, 1, col, "column appears twice in the header"))
        seen.add(col)
        if col and col not in spec.columns:
            result.warnings.append(
                Issue(file, 1, col, f"unknown column ignored (expected {', '.join(spec.columns)})")
            )
    missing = [c for c in spec.required if c not in seen]
    for col in missing:
        result.errors.append(Issue(file, 1, col, "required column is missing from the header"))
    if missing:
        return
    table = RawTable(name, file, [c for c in columns if c in spec.columns])
    width = len(columns)
    for row_number, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            result.errors.append(
                Issue(file, row_number, None, f"row has {len(cells)} cells, header has {width}")
            )
            continue
        values = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns)}
        table.rows.append((row_number, {c: values[c] for c in table.columns}))
    result.tables[name] = table


def read_csv(name: str, file: str, data: bytes, result: ReadResult) -> None:
    text = decode(file, data, result)
    if text is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            if header is None:
                header = cells
                continue
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        result.errors.append(Issue(file, reader.line_num, None, f"malformed CSV: {exc}"))
        return
    if not header:
        result.errors.append(Issue(file, 1, None, "file is empty (no header row)"))
        return
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    _add_table(name, file, header, rows, result)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def read_xlsx(file: str, data: bytes, result: ReadResult) -> None:
    from openpyxl import load_workbook  # imported here: only the xlsx path needs it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        result.errors.append(Issue(file, None, None, f"not a readable .xlsx workbook: {exc}"))
        return
    try:
        for sheet in workbook.worksheets:
            name = sheet.title.strip().lower()
            label = f"{file}!{sheet.title}"
            if name not in TABLES:
                result.errors.append(
                    Issue(label, None, None, f"unknown sheet; expected one of {', '.join(TABLES)}")
                )
                continue
            rows_iter = sheet.iter_rows(values_only=True)
            header_cells = next(rows_iter, None)
            if not header_cells:
                result.errors.append(Issue(label, 1, None, "sheet is empty (no header row)"))
                continue
            header = [_cell_text(v) for v in header_cells]
            while header and not header[-1]:
                header.pop()
            rows = [(i, [_cell_text(v) for v in cells]) for i, cells in enumerate(rows_iter, start=2)]
            _add_table(name, label, header, rows, result)
    finally:
        workbook.close()


def read_files(files: list[tuple[str, bytes]]) -> ReadResult:
    """Files as (file name, content): ``<table>.csv`` parts, or a single ``.xlsx`` workbook."""
    result = ReadResult()
    if not files:
        result.errors.append(Issue("(import)", None, None, "no files given"))
    for filename, data in files:
        base = Path(filename).name
        stem, suffix = Path(base).stem.lower(), Path(base).suffix.lower()
        if len(data) > MAX_FILE_BYTES:
            result.errors.append(Issue(base, None, None, f"file is larger than {MAX_FILE_BYTES >> 20} MiB"))
        elif suffix == ".xlsx":
            read_xlsx(base, data, result)
        elif suffix != ".csv":
            result.errors.append(
                Issue(base, None, None, "expected a .csv file per table or one .xlsx workbook")
            )
        elif stem not in TABLES:
            result.errors.append(
                Issue(base, None, None, f"unknown table; expected one of {', '.join(TABLES)}")
            )
        elif stem in result.tables:
            result.errors.append(Issue(base, None, None, "this table was given twice"))
        else:
            read_csv(stem, base, data, result)
    return result


def read_path(path: Path) -> ReadResult:
    """A folder of ``<table>.csv`` files (other files ignored) or one ``.xlsx`` / ``.csv`` file."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        if not files:
            result = ReadResult()
            result.errors.append(Issue(str(path), None, None, "folder holds no .csv files"))
            return result
    elif path.is_file():
        files = [path]
    else:
        result = ReadResult()
        result.errors.append(Issue(str(path), None, None, "no such file or folder"))
        return result
    too_big = [p for p in files if p.stat().st_size > MAX_FILE_BYTES]
    if too_big:
        result = ReadResult()
        for p in too_big:
            result.errors.append(Issue(p.name, None, None, f"file is larger than {MAX_FILE_BYTES >> 20} MiB"))
        return result
    return read_files([(p.name, p.read_bytes()) for p in files])
