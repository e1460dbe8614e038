"""Reading import files: encodings, malformed CSV, headers, xlsx — pure, no database."""

from __future__ import annotations

import io

from openpyxl import Workbook

from linewatch.inventory.sources import read_files

HEADER = "code,name\n"


def messages(result) -> list[str]:
    return [str(e) for e in result.errors]


def test_utf8_with_bom_reads() -> None:
    result = read_files([("regions.csv", b"\xef\xbb\xbf" + (HEADER + "GL,鼓楼区\n").encode())])
    assert not result.errors
    assert result.tables["regions"].rows == [(2, {"code": "GL", "name": "鼓楼区"})]


def test_gbk_file_is_detected_and_read_with_a_warning() -> None:
    result = read_files([("regions.csv", (HEADER + "GL,鼓楼区\n").encode("gbk"))])
    assert not result.errors
    assert result.tables["regions"].rows[0][1]["name"] == "鼓楼区"
    assert "GBK" in str(result.warnings[0])


def test_binary_garbage_is_refused_with_the_file_named() -> None:
    result = read_files([("regions.csv", b"code,name\n\x00\x01\xff\xfe\x80\x81binary")])
    assert "regions.csv" in messages(result)[0] and "neither UTF-8 nor GBK" in messages(result)[0]
    assert "regions" not in result.tables


def test_missing_required_column_is_located_on_the_header() -> None:
    result = read_files([("customers.csv", b"code,name,level\nC1,x,normal\n")])
    assert result.errors[0].row == 1 and result.errors[0].column == "grade"
    assert "required column is missing" in result.errors[0].message


def test_malformed_csv_names_the_row() -> None:
    huge = "x" * (2 << 20)
    result = read_files([("regions.csv", (HEADER + f'GL,"{huge}"\n').encode())])
    assert (
        result.errors
        and result.errors[0].file == "regions.csv"
        and "malformed CSV" in result.errors[0].message
    )


def test_extra_cells_and_unknown_files_are_errors() -> None:
    result = read_files(
        [
            ("regions.csv", (HEADER + "GL,鼓楼区,extra\n").encode()),
            ("gizmos.csv", b"a\n1\n"),
            ("notes.txt", b"hi"),
        ]
    )
    text = messages(result)
    assert any("regions.csv:2" in m and "3 cells" in m for m in text)
    assert any(m.startswith("gizmos.csv") and "unknown table" in m for m in text)
    assert any(m.startswith("notes.txt") for m in text)


def test_empty_file_and_blank_lines() -> None:
    assert "empty" in messages(read_files([("regions.csv", b"")]))[0]
    result = read_files([("regions.csv", (HEADER + "\n\nGL,鼓楼区\n,\n").encode())])
    assert [r[0] for r in result.tables["regions"].rows] == [4]


def test_header_is_case_insensitive_and_unknown_columns_warn() -> None:
    result = read_files([("regions.csv", "Code,NAME,colour\nGL,鼓楼区,red\n".encode())])
    assert not result.errors
    assert result.tables["regions"].rows[0][1] == {"code": "GL", "name": "鼓楼区"}
    assert "unknown column" in str(result.warnings[0])


def test_xlsx_sheets_numbers_and_unknown_sheets() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "ports"
    sheet.append(["ne", "port", "if_index"])
    sheet.append(["ACC-1", "GE0/1/1", 101.0])
    book.create_sheet("scratch").append(["whatever"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = read_files([("inventory.xlsx", buffer.getvalue())])
    assert result.tables["ports"].rows[0] == (2, {"ne": "ACC-1", "port": "GE0/1/1", "if_index": "101"})
    assert any("inventory.xlsx!scratch" in m and "unknown sheet" in m for m in messages(result))


def test_corrupt_xlsx_is_refused() -> None:
    result = read_files([("inventory.xlsx", b"PK\x03\x04 not really a zip")])
    assert "not a readable .xlsx" in messages(result)[0]
