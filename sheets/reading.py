"""Reading the spreadsheets people upload (CSV or XLSX), within limits set beforehand.

An XLSX file is a zip archive of XML. Before anything is parsed its central directory is
checked: a zip at all, a bounded number of members and a bounded *declared* uncompressed
size (Python's ``zipfile`` never inflates a member past its declared size, and fails on a
member that would). The first sheet is then streamed with openpyxl's read-only reader,
its declared dimension ignored (a 1.6 KB file may declare a million rows by 16,384
columns of padding), reading at most ``max_rows`` rows and ``max_columns`` columns: a
longer file is refused after that many rows, whatever it holds further on.

A CSV file is read as UTF-8 (with or without a BOM) or, failing that, as Windows-1252
(what Excel writes in Italy under "CSV (delimitato dal separatore di elenco)"); a file in
neither is refused with the encoding to choose. Rows stop at the same limit.

:class:`ReadStats` counts what was read (rows, bytes inflated), so that tests can show a
refusal came early without timing it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENCODINGS = ("utf-8-sig", "cp1252")


class SheetError(ValueError):
    """A file that cannot be read as a table; ``too_large`` when a limit was hit."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused."""

    max_rows: int = 20_000  # rows under the header
    max_columns: int = 64
    max_file_bytes: int = 32 * 1024 * 1024
    max_unzipped_bytes: int = 64 * 1024 * 1024  # an XLSX's members, as declared, in all
    max_members: int = 500


@dataclass
class ReadStats:
    """What reading took: rows parsed and bytes inflated from the archive."""

    rows: int = 0
    inflated_bytes: int = 0
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def read_table(
    path: str | Path, limits: Limits | None = None, stats: ReadStats | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The header (lowercased) and the rows of a CSV (``,``, ``;`` or tab) or XLSX file.

    Raises :class:`SheetError` for a file that is not what its name says, in an encoding
    that cannot be read, or beyond a limit (``too_large``).
    """
    path = Path(path)
    limits = limits or Limits()
    stats = stats if stats is not None else ReadStats()
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise SheetError(f"the file is larger than {limits.max_file_bytes} bytes", too_large=True)
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path, limits, stats)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path, limits, stats)
    else:
        raise SheetError("not a .csv or .xlsx file")
    if not rows:
        raise SheetError("the file is empty")
    header = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
    return header, rows[1:]


def _too_many_rows(limits: Limits) -> SheetError:
    return SheetError(f"more than {limits.max_rows} rows: split the file", too_large=True)


def check_zip(path: Path, limits: Limits) -> None:
    """Refuse a file that is not a zip archive, or whose members declare too much."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SheetError(
            "not an XLSX file (it is not a zip archive): save it again as "
            "Excel workbook (.xlsx) or as CSV"
        ) from None
    if len(infos) > limits.max_members:
        raise SheetError(f"the workbook holds more than {limits.max_members} parts", too_large=True)
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_unzipped_bytes:
        raise SheetError(
            f"the workbook unpacks to {declared} bytes, more than "
            f"{limits.max_unzipped_bytes}: split it",
            too_large=True,
        )
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise SheetError("not an XLSX file (a zip archive, but not an Excel workbook)")


class _CountingZip(zipfile.ZipFile):
    """A zip whose members count the bytes they inflate into ``stats``."""

    stats: ReadStats

    def open(
        self, name: Any, mode: str = "r", pwd: bytes | None = None, *, force_zip64: bool = False
    ) -> Any:
        handle = super().open(name, mode, pwd, force_zip64=force_zip64)  # type: ignore[arg-type]
        if mode != "r":
            return handle
        stats = self.stats
        read = handle.read

        def counted(n: int = -1) -> bytes:
            data = read(n)
            stats.inflated_bytes += len(data)
            return data

        handle.read = counted  # type: ignore[method-assign]
        return handle


def _xlsx_rows(path: Path, limits: Limits, stats: ReadStats) -> list[list[Any]]:
    check_zip(path, limits)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise SheetError(
            f"the workbook cannot be read ({type(exc).__name__}): save it "
            "again from Excel or as CSV"
        ) from None
    archive = wb._archive  # the sheet is streamed from it: count what it inflates
    archive.__class__ = _CountingZip
    archive.stats = stats
    try:
        if not wb.worksheets:
            raise SheetError("the workbook has no sheet")
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # never trust the declared dimension
        rows: list[list[Any]] = []
        try:
            for row in ws.iter_rows(
                min_row=1,
                max_row=limits.max_rows + 2,
                max_col=limits.max_columns + 1,
                values_only=True,
            ):
                stats.rows += 1
                if len(rows) > limits.max_rows:  # header + max_rows already
                    raise _too_many_rows(limits)
                if len(row) > limits.max_columns and row[limits.max_columns] is not None:
                    raise SheetError(f"more than {limits.max_columns} columns", too_large=True)
                cells = list(row[: limits.max_columns])
                while cells and cells[-1] is None:
                    cells.pop()
                rows.append(cells)
        except SheetError:
            raise
        except Exception as exc:
            raise SheetError(
                f"the sheet cannot be read ({type(exc).__name__}): save it "
                "again from Excel or as CSV"
            ) from None
        while rows and not rows[-1]:
            rows.pop()
        return rows
    finally:
        wb.close()


def decode(raw: bytes, stats: ReadStats | None = None) -> str:
    """Text of a CSV file: UTF-8 (BOM or not), else Windows-1252; else a clear refusal."""
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if stats is not None:
            stats.encoding = encoding
        return text
    raise SheetError('the file is neither UTF-8 nor Windows-1252 text: save it as "CSV UTF-8"')


def _csv_rows(path: Path, limits: Limits, stats: ReadStats) -> list[list[Any]]:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise SheetError("the file holds a NUL character: is it really CSV?")
    text = decode(raw, stats)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows: list[list[Any]] = []
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            stats.rows += 1
            if len(rows) > limits.max_rows:
                raise _too_many_rows(limits)
            if len(row) > limits.max_columns:
                raise SheetError(
                    f"row {len(rows) + 1}: more than {limits.max_columns} columns", too_large=True
                )
            rows.append(list(row))
    except csv.Error as exc:
        raise SheetError(f"row {len(rows) + 1}: not valid CSV ({exc})") from None
    return rows
