"""Issue 17, items 1, 2, 5 and 12: exports whose cells never run as formulas, hostile
spreadsheets refused early, duplicates found only within an office, encodings."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import sheets
from agency.imports import ImportFailed, ImportTooLarge, export_placements, import_file
from agency.models import Beneficiary
from agency.rounds import open_round
from scenarios.report import csv_text
from tests.agency.factories import ACTOR, dwelling, foggia_round_data, household, office
from tests.agency.test_rounds import ON, solved
from tests.sheet_bombs import (
    FORMULA_PAYLOADS,
    cp1252_csv,
    dense_rows,
    dimension_bomb,
    not_a_zip,
    row_bomb,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "agency" / "data" / "templates"


def _formula_round(engine: Engine) -> int:
    with Session(engine) as s:
        off = foggia_round_data(s)
        for k, payload in enumerate(FORMULA_PAYLOADS):
            household(s, off, 100 + k, given_name=payload, family_name=payload)
            dwelling(s, off, address=payload, area_m2=60, bedrooms=2, rent_cents=30000)
        s.commit()
        r = open_round(s, ACTOR, name="formulas", on=ON, time_limit_s=10)
        s.commit()
        assert r.id is not None
        rid = r.id
    solved(engine, rid)
    return rid


def test_exports_never_hold_a_live_formula(engine: Engine) -> None:
    """Item 1: CSV cells that would start a formula get a leading apostrophe (the rest
    of the text kept); XLSX cells are strings, shown exactly, never formulas."""
    rid = _formula_round(engine)
    with Session(engine) as s:
        data = export_placements(s, rid, "csv")
        book = export_placements(s, rid, "xlsx")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    names = {r["given_name"] for r in rows}
    assert names & {"'" + p for p in FORMULA_PAYLOADS}, "a payload household was placed"
    for r in rows:
        for value in r.values():
            assert not value.startswith(sheets.FORMULA_STARTS), value
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    ws = load_workbook(io.BytesIO(book)).active
    seen = set()
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value in FORMULA_PAYLOADS:
                assert cell.data_type == "s" and cell.quotePrefix
                seen.add(cell.value)
    assert seen, "the payloads are in the workbook as they were typed"


def test_a_scenario_report_neutralises_its_text() -> None:
    """Item 1: a planner's variant description is text in report.csv."""
    run = {"name": "base", "group": "base", "description": FORMULA_PAYLOADS[0], "status": "OPTIMAL"}
    text = csv_text({"base": run, "variants": [{**run, "name": "v", "description": "@SUM(1)"}]})
    for row in csv.reader(io.StringIO(text)):
        assert not any(c.startswith(sheets.FORMULA_STARTS) for c in row)


def test_safe_cells_refuse_nothing() -> None:
    assert sheets.safe_cell("N'Diaye") == "N'Diaye"
    assert sheets.safe_cell("-Ali") == "'-Ali"
    assert sheets.safe_cell(-5) == -5 and sheets.safe_cell(None) is None


@pytest.fixture
def fg(engine: Engine) -> Engine:
    with Session(engine) as s:
        office(s, "FG")
        office(s, "LE", "Lecce")
        s.commit()
    return engine


def test_an_xlsx_declaring_a_huge_sheet_is_read_as_what_it_holds(
    fg: Engine, tmp_path: Path
) -> None:
    """Item 2: the declared dimension (1,048,576 x 16,384) is ignored: two rows read."""
    stats = sheets.ReadStats()
    header, body = sheets.read_table(dimension_bomb(tmp_path / "dim.xlsx"), stats=stats)
    assert header == ["given_name"] and body == [["Amadou"]]
    assert stats.rows == 2 and stats.inflated_bytes < 10_000


def test_a_zip_of_millions_of_rows_is_refused_before_inflating(fg: Engine, tmp_path: Path) -> None:
    """Item 2: a 0.4 MB zip declaring 147 MB of sheet is refused on its directory."""
    path = row_bomb(tmp_path / "rows.xlsx")
    assert path.stat().st_size < 1_000_000
    stats = sheets.ReadStats()
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_table(path, stats=stats)
    assert err.value.too_large and stats.inflated_bytes == 0 and stats.rows == 0
    with pytest.raises(ImportTooLarge):
        import_file(fg, ACTOR, "beneficiaries", path, office="FG")


def test_too_many_rows_stop_the_reader_at_the_limit(tmp_path: Path) -> None:
    """Item 2: within the size limit, the reader stops one row past the row limit."""
    stats = sheets.ReadStats()
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_table(dense_rows(tmp_path / "dense.xlsx"), sheets.Limits(max_rows=1000), stats)
    assert err.value.too_large and stats.rows == 1002


def test_a_file_named_xlsx_that_is_not_one(fg: Engine, tmp_path: Path) -> None:
    """Item 12: a clear error, not a crash."""
    with pytest.raises(ImportFailed) as err:
        import_file(fg, ACTOR, "beneficiaries", not_a_zip(tmp_path / "x.xlsx"), office="FG")
    assert "not an XLSX file" in str(err.value)


def test_a_windows_1252_csv_is_read(fg: Engine, tmp_path: Path) -> None:
    """Item 12: Excel's Italian CSV (Windows-1252, ';') imports, accents intact; a file in
    neither encoding is refused naming the one to use."""
    rows = [r[:] for r in csv.reader((TEMPLATES / "beneficiaries.csv").open(encoding="utf-8"))]
    name_col = rows[0].index("given_name")
    rows[1][name_col] = "Niccolò"
    report = import_file(fg, ACTOR, "beneficiaries", cp1252_csv(tmp_path / "w.csv", rows))
    with Session(fg) as s:
        b = s.exec(select(Beneficiary).where(Beneficiary.ref == report.refs[0])).one()
        assert b.given_name == "Niccolò"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"given_name\n\x81\x8d\x8f\n")
    with pytest.raises(ImportFailed) as err:
        import_file(fg, ACTOR, "beneficiaries", bad, office="FG")
    assert "UTF-8" in str(err.value)


def test_duplicates_are_found_within_an_office_only(fg: Engine, tmp_path: Path) -> None:
    """Item 5: a person registered in Lecce is news to nobody importing in Foggia: the
    Foggia import succeeds and says nothing of Lecce; within one office the same person
    is refused, by ref."""
    src = TEMPLATES / "beneficiaries.csv"
    lecce = [r[:] for r in csv.reader(src.open(encoding="utf-8"))]
    office_col = lecce[0].index("office")
    for row in lecce[1:]:
        row[office_col] = "LE"
    path = tmp_path / "le.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(lecce)
    le_refs = import_file(fg, ACTOR, "beneficiaries", path).refs
    fg_report = import_file(fg, ACTOR, "beneficiaries", src)
    assert len(fg_report.refs) == len(le_refs)
    with pytest.raises(ImportFailed) as err:
        import_file(fg, ACTOR, "beneficiaries", src)
    text = str(err.value)
    assert "already registered in this office" in text
    assert not any(ref in text for ref in le_refs)
