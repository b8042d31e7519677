"""Spreadsheet import (CSV and XLSX): all rows or none, every error by row and column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from agency.imports import ImportFailed, export_placements, import_file, placements
from agency.models import Beneficiary, Dwelling, Landlord, OfferStatus, Room, SharedFlat
from agency.rounds import open_round, record_answer, send_offers
from tests.agency.factories import ACTOR, foggia_round_data, office
from tests.agency.test_rounds import ON, solved

TEMPLATES = Path(__file__).resolve().parents[2] / "agency" / "data" / "templates"


def write_csv(path: Path, rows: list[list[str]], sep: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=sep).writerows(rows)
    return path


def template(kind: str) -> list[list[str]]:
    with (TEMPLATES / f"{kind}.csv").open(encoding="utf-8") as fh:
        return [list(r) for r in csv.reader(fh)]


def counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as s:
        return tuple(
            s.exec(select(func.count()).select_from(m)).one()
            for m in (Beneficiary, Dwelling, SharedFlat, Room, Landlord)
        )


@pytest.fixture
def fg(engine: Engine) -> Engine:
    with Session(engine) as s:
        office(s)
        s.commit()
    return engine


def test_the_templates_import_as_shipped(fg: Engine, tmp_path: Path) -> None:
    for kind in ("beneficiaries", "dwellings", "flats"):
        report = import_file(fg, ACTOR, kind, TEMPLATES / f"{kind}.csv")  # type: ignore[arg-type]
        assert report.rows == 2 and len(report.refs) == (1 if kind == "flats" else 2)
    with Session(fg) as s:
        moussa = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Moussa")).one()
        assert moussa.income_cents == 72000
        assert moussa.work_municipality == "071024"  # Foggia, from the gazetteer
        assert moussa.tags == ["exploitation_victim"]
        assert moussa.informal_settlement == "Borgo Mezzanone"
        assert moussa.accepts_bed and not moussa.needs_step_free
        d = s.exec(select(Dwelling).where(Dwelling.address == "Corso Garibaldi 5")).one()
        assert d.rent_cents == 45000 and d.municipality == "071051" and d.max_occupants == 5
        assert (round(d.lat, 1), round(d.lon, 1)) == (41.7, 15.4)  # San Severo's centre
        flat = s.exec(select(SharedFlat)).one()
        assert sorted(r.beds for r in s.exec(select(Room))) == [1, 2]
        assert flat.rent_per_bed_cents == 17000
        assert {x.name for x in s.exec(select(Landlord))} == {
            "Immobiliare Dauna",
            "Maria Rossi",
            "Cooperativa Casa Comune",
        }


def test_xlsx_and_semicolon_csv(fg: Engine, tmp_path: Path) -> None:
    rows = template("dwellings")
    wb = Workbook()
    ws = wb.active
    for k, row in enumerate(rows):
        # numbers and dates as Excel keeps them: real numbers, not text
        ws.append([float(v) if k and v.replace(".", "").isdigit() else v for v in row])
    wb.save(tmp_path / "d.xlsx")
    assert len(import_file(fg, ACTOR, "dwellings", tmp_path / "d.xlsx").refs) == 2
    semi = write_csv(tmp_path / "b.csv", template("beneficiaries"), sep=";")
    assert len(import_file(fg, ACTOR, "beneficiaries", semi).refs) == 2


def _bad(fg: Engine, tmp_path: Path, kind: str, rows: list[list[str]]) -> list[str]:
    before = counts(fg)
    path = write_csv(tmp_path / f"{kind}.csv", rows)
    with pytest.raises(ImportFailed) as info:
        import_file(fg, ACTOR, kind, path)  # type: ignore[arg-type]
    assert counts(fg) == before, "a rejected file must write nothing"
    assert "nothing imported" in str(info.value)
    return [str(e) for e in info.value.errors]


def _with(rows: list[list[str]], row: int, column: str, value: str) -> list[list[str]]:
    out = [list(r) for r in rows]
    out[row - 1][out[0].index(column)] = value
    return out


BENEFICIARY_CASES = [
    ("adults", "0", "row 2, column adults: Input should be greater than or equal to 1"),
    ("adults", "two", "row 2, column adults: must be a whole number, got 'two'"),
    ("income_eur", "720,005", "row 2, column income_eur: at most two decimals"),
    ("income_eur", "-5", "row 2, column income_eur: Input should be greater than or equal to 0"),
    ("income_eur", "", "row 2, column income_eur: required, but empty"),
    ("gender", "Q", "row 2, column gender: Input should be 'F', 'M' or 'X'"),
    (
        "work_municipality",
        "Fogia",
        "row 2, column work_municipality: no municipality of Puglia "
        "is named 'Fogia'; did you mean 'Foggia'",
    ),
    ("work_municipality", "Milano", "row 2, column work_municipality: no municipality"),
    ("birth_date", "31/02/1990", "row 2, column birth_date: must be a date"),
    ("needs_step_free", "forse", "row 2, column needs_step_free: must be yes/no"),
    ("max_commute_km", "0", "row 2, column max_commute_km: Input should be greater than 0"),
    ("tags", "Victim!", "row 2, column tags: String should match pattern"),
    ("office", "BA", "row 2, column office: no office 'BA'"),
    ("work_lat", "41.4", "row 2: give both latitude and longitude, or neither"),
    ("accepts_bed", "no", None),  # with accepts_dwelling no: below
    ("nationality", "Senegal", "row 2, column nationality: String should match pattern"),
]


@pytest.mark.parametrize(("column", "value", "expected"), BENEFICIARY_CASES)
def test_each_bad_beneficiary_cell_is_named(
    fg: Engine, tmp_path: Path, column: str, value: str, expected: str | None
) -> None:
    rows = _with(template("beneficiaries"), 2, column, value)
    if expected is None:
        rows = _with(rows, 2, "accepts_dwelling", "no")
        expected = "row 2: accepts neither a dwelling nor a bed"
    errors = _bad(fg, tmp_path, "beneficiaries", rows)
    assert any(e.startswith(expected) for e in errors), errors


def test_every_error_of_a_file_is_listed_at_once(fg: Engine, tmp_path: Path) -> None:
    rows = _with(template("beneficiaries"), 2, "adults", "0")
    rows = _with(rows, 3, "income_eur", "abc")
    rows = _with(rows, 3, "work_municipality", "Atlantide")
    errors = _bad(fg, tmp_path, "beneficiaries", rows)
    assert [e.split(":")[0] for e in errors] == [
        "row 2, column adults",
        "row 3, column income_eur",
        "row 3, column work_municipality",
    ]
    # the municipality is looked up with the rest, not once the rows are otherwise valid
    rows = _with(template("beneficiaries"), 3, "work_municipality", "Atlantide")
    rows = _with(rows, 2, "work_municipality", "Narnia")
    errors = _bad(fg, tmp_path, "beneficiaries", rows)
    assert [e.split(":")[0] for e in errors] == [
        "row 2, column work_municipality",
        "row 3, column work_municipality",
    ]


def test_header_errors(fg: Engine, tmp_path: Path) -> None:
    rows = template("beneficiaries")
    rows[0][rows[0].index("income_eur")] = "income"
    errors = _bad(fg, tmp_path, "beneficiaries", rows)
    assert "row 1, column income: unknown column" in errors[0] or any(
        e.startswith("row 1, column income: unknown column") for e in errors
    )
    assert "row 1, column income_eur: required column missing" in errors
    rows = template("dwellings")
    rows[0].append("rent_eur")
    assert any("column given twice" in e for e in _bad(fg, tmp_path, "dwellings", rows))


def test_empty_and_blank_files(fg: Engine, tmp_path: Path) -> None:
    assert _bad(fg, tmp_path, "dwellings", [template("dwellings")[0]]) == [
        "file: no rows under the header"
    ]
    (tmp_path / "x.csv").write_text("")
    with pytest.raises(ImportFailed, match="the file is empty"):
        import_file(fg, ACTOR, "dwellings", tmp_path / "x.csv")
    (tmp_path / "x.pdf").write_text("%PDF")
    with pytest.raises(ImportFailed, match=r"not a \.csv or \.xlsx"):
        import_file(fg, ACTOR, "dwellings", tmp_path / "x.pdf")


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(fg: Engine, tmp_path: Path) -> None:
    rows = template("dwellings")
    rows.insert(2, [""] * len(rows[0]))
    rows = _with(rows, 4, "bedrooms", "-1")
    errors = _bad(fg, tmp_path, "dwellings", rows)
    assert errors == ["row 4, column bedrooms: Input should be greater than or equal to 0"]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("rent_eur", "-420", "row 2, column rent_eur: Input should be greater than or equal to 0"),
        ("area_m2", "0", "row 2, column area_m2: Input should be greater than 0"),
        ("municipality", "Bari Vecchia", "row 2, column municipality: no municipality"),
        ("available_from", "domani", "row 2, column available_from: must be a date"),
        (
            "max_occupants",
            "0",
            "row 2, column max_occupants: Input should be greater than or equal",
        ),
        ("address", "", "row 2, column address: required, but empty"),
    ],
)
def test_each_bad_dwelling_cell_is_named(
    fg: Engine, tmp_path: Path, column: str, value: str, expected: str
) -> None:
    errors = _bad(fg, tmp_path, "dwellings", _with(template("dwellings"), 2, column, value))
    assert any(e.startswith(expected) for e in errors), errors


def test_flat_rows_must_agree_and_rooms_are_checked(fg: Engine, tmp_path: Path) -> None:
    rows = _with(template("flats"), 3, "rent_per_bed_eur", "180,00")
    errors = _bad(fg, tmp_path, "flats", rows)
    assert errors == ["row 3, column rent_per_bed_eur: differs from row 2 of the same flat (17000)"]
    errors = _bad(fg, tmp_path, "flats", _with(template("flats"), 3, "beds", "5"))
    assert any(
        e.startswith("row 2, column beds: Input should be less than or equal to 4") for e in errors
    ), errors


def test_the_same_person_twice(fg: Engine, tmp_path: Path) -> None:
    rows = template("beneficiaries")
    rows.append(list(rows[1]))
    assert _bad(fg, tmp_path, "beneficiaries", rows) == [
        "row 4, column given_name: the same person as row 2"
    ]
    import_file(
        fg, ACTOR, "beneficiaries", write_csv(tmp_path / "ok.csv", template("beneficiaries"))
    )
    errors = _bad(fg, tmp_path, "beneficiaries", template("beneficiaries"))
    assert len(errors) == 2 and all("already registered in this office as B-" in e for e in errors)


def test_a_rejected_file_keeps_what_was_already_stored(fg: Engine, tmp_path: Path) -> None:
    import_file(fg, ACTOR, "dwellings", TEMPLATES / "dwellings.csv")
    before = counts(fg)
    rows = template("dwellings")
    rows.append(_with(rows, 2, "rent_eur", "x")[1])
    _bad(fg, tmp_path, "dwellings", rows)
    assert counts(fg) == before


def test_placements_export_as_csv_and_xlsx(engine: Engine) -> None:
    with Session(engine) as s:
        foggia_round_data(s)
        r = open_round(s, ACTOR, name="export", on=ON, time_limit_s=10)
        s.commit()
        rid = r.id
    solved(engine, rid)
    with Session(engine) as s:
        offers = send_offers(s, ACTOR, rid)
        record_answer(s, ACTOR, offers[0].id, OfferStatus.accepted)
        s.commit()
        rows = placements(s, rid)
        data = export_placements(s, rid, "csv")
        book = export_placements(s, rid, "xlsx")
    assert data.startswith(b"\xef\xbb\xbf")  # a byte-order mark: Excel reads UTF-8
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(parsed) == len(rows)
    placed = [p for p in parsed if p["outcome"] == "placed"]
    left = [p for p in parsed if p["outcome"] == "unplaced"]
    assert len(placed) == len(offers) and len(placed) + len(left) == len(parsed)
    assert all(p["reasons"] and not p["unit"] for p in left)
    assert sorted(p["offer"] for p in placed) == sorted(
        ["offer.accepted"] + ["offer.pending"] * (len(offers) - 1)
    )
    for p in placed:  # a decimal comma: 12,50 euros is 1250 cents
        assert "." not in p["contribution_eur"]
        assert int(p["contribution_cents"]) == round(
            float(p["contribution_eur"].replace(",", ".")) * 100
        )
        assert p["municipality"] == "Foggia"
        assert (p["room"] == "") == (p["unit_kind"] == "dwelling")
        assert p["room"] == "" or p["room"].startswith("room ")
    ws = load_workbook(io.BytesIO(book)).active
    assert [c.value for c in ws[1]][:3] == ["round", "beneficiary", "family_name"]
    assert ws.max_row == len(rows) + 1
    header = [c.value for c in ws[1]]
    money = header.index("contribution_eur")
    for row in ws.iter_rows(min_row=2):
        if row[header.index("outcome")].value == "placed":  # numbers, in euros
            assert isinstance(row[money].value, int | float)
            assert "€" in row[money].number_format


def _add_columns(rows: list[list[str]], values: dict[str, list[str]]) -> list[list[str]]:
    out = [list(r) for r in rows]
    for name, cells in values.items():
        out[0].append(name)
        for r, cell in zip(out[1:], cells, strict=True):
            r.append(cell)
    return out


def test_seasons_and_open_months_import(fg: Engine, tmp_path: Path) -> None:
    rows = _add_columns(
        template("beneficiaries"), {"season_from": ["2027-07", ""], "season_to": ["09/2027", ""]}
    )
    import_file(fg, ACTOR, "beneficiaries", write_csv(tmp_path / "b.csv", rows))
    flats = template("flats")
    flats = _add_columns(flats, {"open_from": ["2027-06"] * 2, "open_to": ["2027-10"] * 2})
    import_file(fg, ACTOR, "flats", write_csv(tmp_path / "f.csv", flats))
    with Session(fg) as s:
        moussa = s.exec(select(Beneficiary).where(Beneficiary.given_name == "Moussa")).one()
        assert (moussa.season_from, moussa.season_to) == ("2027-07", "2027-09")
        flat = s.exec(select(SharedFlat)).one()
        assert (flat.open_from, flat.open_to) == ("2027-06", "2027-10")
    bad = _add_columns(template("beneficiaries"), {"season_from": ["luglio", ""]})
    errors = _bad(fg, tmp_path, "beneficiaries", bad)
    assert any(e.startswith("row 2, column season_from: must be a month") for e in errors)
    half = _add_columns(template("beneficiaries"), {"season_from": ["2027-07", ""]})
    errors = _bad(fg, tmp_path, "beneficiaries", half)
    assert any("both the first and the last month" in e for e in errors), errors
