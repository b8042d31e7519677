"""Spreadsheets in and out, safely: bounded reading of the files people upload, and
exports whose text cells can never run as formulas.

A small package at the bottom, beside ``matching/``: the agency's imports and exports and
the scenarios' reports use it alike, and it imports neither.
"""

from sheets.cells import FORMULA_STARTS, csv_bytes, safe_cell, xlsx_bytes
from sheets.reading import Limits, ReadStats, SheetError, read_table

__all__ = [
    "FORMULA_STARTS",
    "Limits",
    "ReadStats",
    "SheetError",
    "csv_bytes",
    "read_table",
    "safe_cell",
    "xlsx_bytes",
]
