"""Issue 17, item 6 in the database: one person once per office, whatever the code does."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from agency import records
from agency.imports import ImportFailed, import_file
from agency.models import Beneficiary
from tests.agency.factories import ACTOR, household, office

TEMPLATES = Path(__file__).resolve().parents[2] / "agency" / "data" / "templates"


def test_two_imports_of_one_file_at_once_make_one_set(engine: Engine) -> None:
    """Both start together; one imports, the other is refused row by row."""
    with Session(engine) as s:
        office(s, "FG")
        s.commit()
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        start.wait()
        try:
            outcomes.append(
                import_file(engine, ACTOR, "beneficiaries", TEMPLATES / "beneficiaries.csv")
            )
        except ImportFailed as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [o for o in outcomes if isinstance(o, ImportFailed)]
    assert len(failed) == 1 and "already registered in this office" in str(failed[0])
    with Session(engine) as s:
        n = s.exec(select(func.count()).select_from(Beneficiary)).one()
        rows = len((TEMPLATES / "beneficiaries.csv").read_text().splitlines()) - 1
        assert n == rows


def test_the_database_refuses_the_same_person_twice_in_an_office(engine: Engine) -> None:
    """The unique index holds even for rows written past the records' checks; another
    office may hold the same person, and so may a record without a birth date."""
    with Session(engine) as s:
        fg, le = office(s, "FG"), office(s, "LE", "Lecce")
        born = date(1990, 5, 17)
        household(s, fg, 1, given_name="Fatou", family_name="N'Diaye", birth_date=born)
        household(s, le, 2, given_name="Fatou", family_name="N'Diaye", birth_date=born)
        household(s, fg, 3, given_name="Fatou", family_name="N'Diaye")
        household(s, fg, 4, given_name="Fatou", family_name="N'Diaye")
        s.commit()
        with pytest.raises(IntegrityError):
            household(s, fg, 5, given_name="FATOU ", family_name="Ndiaye", birth_date=born)
        s.rollback()


def test_a_repeated_create_is_a_conflict_naming_the_record(engine: Engine) -> None:
    from agency.schemas import BeneficiaryCreate

    data = BeneficiaryCreate.model_validate(
        dict(
            given_name="Amadou",
            family_name="Diallo",
            birth_date="1991-02-03",
            gender="M",
            adults=1,
            income_cents=70000,
            work_municipality="Foggia",
        )
    )
    with Session(engine) as s:
        fg = office(s, "FG")
        assert fg.id is not None
        first = records.create_beneficiary(s, ACTOR, fg.id, data)
        with pytest.raises(records.DuplicateError) as err:
            records.create_beneficiary(s, ACTOR, fg.id, data)
        assert err.value.field == "given_name" and first.ref in str(err.value)
