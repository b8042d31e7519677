"""The report to funders on a fixed data set, against figures counted by hand."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pypdf
import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agency.errors import RecordError
from agency.models import (
    BeneficiaryEvent,
    DwellingTerm,
    GuaranteeEntry,
    Landlord,
    Lease,
    LedgerEntry,
)
from agency.reports import SUPPRESSED, build_report, report_pdf, report_xlsx
from tests.agency.factories import dwelling, fund, household, office

START, END = date(2026, 1, 1), date(2026, 12, 31)


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, tzinfo=UTC)


def _data(s: Session) -> None:
    fg = office(s)
    le = office(s, "LE", "Lecce")
    regional = fund(s, "regional", 0)
    s.add(LedgerEntry(fund_id=regional.id, kind="grant", amount_cents=3_000_000, at=at(2026, 1, 5)))
    men = [
        household(
            s,
            fg,
            k,
            nationality="SN",
            birth_date=date(2001, 5, 1),
            informal_settlement="Borgo Mezzanone" if k < 2 else None,
            tags=["exploitation_victim"] if k < 3 else [],
            registered_on=date(2026, 3, 1),
            pai_next_review_on=date(2026, 9, 1) if k < 5 else None,
        )
        for k in range(6)
    ]
    household(
        s,
        fg,
        6,
        gender="F",
        nationality="RO",
        birth_date=date(1986, 2, 1),
        minors=2,
        registered_on=date(2026, 3, 1),
    )
    household(
        s,
        fg,
        7,
        gender="F",
        nationality="RO",
        birth_date=date(1986, 2, 1),
        adults=2,
        registered_on=date(2026, 3, 1),
    )
    household(
        s, fg, 8, nationality="IT", birth_date=date(1966, 1, 1), registered_on=date(2026, 3, 1)
    )
    gone = household(s, fg, 9, status="closed", registered_on=date(2025, 1, 1))
    s.add(
        BeneficiaryEvent(
            beneficiary_id=gone.id,
            at=at(2025, 6, 1),
            kind="status",
            from_status="waiting",
            to_status="closed",
        )
    )
    household(s, le, 10, registered_on=date(2026, 3, 1))
    assert fg.id is not None
    landlord = Landlord(office_id=fg.id, name="Rossi")
    s.add(landlord)
    s.flush()
    homes = [
        dwelling(
            s,
            fg,
            landlord_id=landlord.id,
            rent_cents=60000,
            status="let",
            certificate_on=date(2026, 5, 1),
            certificate_number="IA-1",
            certificate_occupants=3,
        ),
        *(dwelling(s, fg, status="let") for _ in range(4)),
    ]
    s.add(
        DwellingTerm(
            dwelling_id=homes[0].id,
            label="agreed",
            rent_cents=43000,
            one_off_cents=150_000,
            guaranteed=True,
        )
    )
    s.add(GuaranteeEntry(kind="grant", amount_cents=500_000, at=at(2026, 1, 10)))
    for k, (b, d) in enumerate(zip(men[:5], homes, strict=True)):
        lease = Lease(
            beneficiary_id=b.id,
            dwelling_id=d.id,
            fund_id=regional.id,
            contribution_cents=20000,
            months=12,
            started_on=date(2026, 7, 1),
            term="agreed" if k == 0 else None,
            rent_cents=43000 if k == 0 else None,
            one_off_cents=150_000 if k == 0 else 0,
        )
        s.add(lease)
        s.flush()
        s.add(
            LedgerEntry(
                fund_id=regional.id,
                kind="commitment",
                amount_cents=-240_000,
                lease_id=lease.id,
                at=at(2026, 7, 1),
            )
        )
        b.status = "housed"
        if k == 0:
            s.add(
                LedgerEntry(
                    fund_id=regional.id,
                    kind="one_off",
                    amount_cents=-150_000,
                    lease_id=lease.id,
                    at=at(2026, 7, 1),
                )
            )
            s.add(
                GuaranteeEntry(
                    kind="exposure", amount_cents=-129_000, lease_id=lease.id, at=at(2026, 7, 1)
                )
            )
            s.add(
                GuaranteeEntry(
                    kind="release", amount_cents=43_000, lease_id=lease.id, at=at(2026, 10, 1)
                )
            )
            s.add(
                GuaranteeEntry(
                    kind="claim", amount_cents=-43_000, lease_id=lease.id, at=at(2026, 10, 1)
                )
            )
        if k == 4:  # left to autonomy in November
            b.status = "closed"
            lease.ended_on = date(2026, 11, 1)
            s.add(
                BeneficiaryEvent(
                    beneficiary_id=b.id,
                    at=at(2026, 11, 1),
                    kind="status",
                    from_status="housed",
                    to_status="closed",
                )
            )
        s.add(b)
    s.commit()


def test_the_report_matches_the_figures_counted_by_hand(engine: Engine) -> None:
    with Session(engine) as s:
        _data(s)
        r = build_report(s, START, END, "FG")
    v = r.value
    # 9 households reached in FG (the one closed in 2025 is not, LE's is not); 5 housed
    assert v("participants", "households", "reached") == 9
    assert v("participants", "households", "housed") == 5
    assert v("participants", "persons", "reached") == 6 + 3 + 2 + 1
    # 7 men, 2 women: the women are hidden, and so are the men (else 9 - 7 = 2)
    assert [v("gender", g, "reached") for g in ("F", "M", "X")] == [SUPPRESSED, SUPPRESSED, 0]
    assert [v("gender", g, "housed") for g in ("F", "M", "X")] == [0, 5, 0]
    assert v("age", "age_18_29", "reached") == 6
    assert v("age", "age_30_54", "reached") == SUPPRESSED
    assert v("age", "age_55_plus", "reached") == SUPPRESSED
    assert v("household", "single", "reached") == 7
    assert v("nationality", "third_country", "reached") == 6
    assert v("nationality", "third_country", "housed") == 5
    assert v("nationality", "EU", "reached") == SUPPRESSED
    assert v("exclusion", "settlement", "reached") == SUPPRESSED
    assert v("homes", "certified", "count") == SUPPRESSED  # 1
    assert v("homes", "let_plain", "count") == SUPPRESSED  # 4
    # money: 5 leases of 200 € x 12 months committed in July, one one-off of 1,500 €;
    # paid: July to December (the autonomous household's lease ended on 1 November: 5 months)
    assert v("money", "regional", "committed") == 5 * 240_000
    assert v("money", "regional", "one_offs") == 150_000
    assert v("money", "regional", "paid") == (4 * 6 + 5) * 20000 + 150_000
    assert v("guarantee", "exposure_opened", "cents") == 129_000
    assert v("guarantee", "exposure_open", "cents") == 86_000
    assert v("guarantee", "claims", "cents") == 43_000
    assert v("outcomes", "autonomy", "count") == SUPPRESSED  # 1
    assert v("outcomes", "pai_due", "count") == 5
    assert v("outcomes", "pai_overdue", "count") == SUPPRESSED  # 4: the fifth is closed
    with Session(engine) as s:
        everyone = build_report(s, START, END)
    assert everyone.value("participants", "households", "reached") == 10
    assert everyone.value("guarantee", "granted", "cents") == 500_000
    assert everyone.value("guarantee", "left", "cents") == 500_000 - 43_000 - 86_000
    assert everyone.value("money", "regional", "balance") == 3_000_000 - 1_350_000


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_files_hold_the_figures_and_no_protected_data(engine: Engine, lang: str) -> None:
    with Session(engine) as s:
        _data(s)
        r = build_report(s, START, END, "FG")
    book = load_workbook(io.BytesIO(report_xlsx(r, lang)))
    cells = [
        str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
    ]
    assert "9" in cells and SUPPRESSED in cells
    assert ("cittadini di paesi terzi" if lang == "it" else "third-country nationals") in cells
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(report_pdf(r, lang))).pages)
    assert ("Partecipanti" if lang == "it" else "Participants") in text
    for secret in ("exploitation_victim", "Given", "Family", "Borgo Mezzanone"):
        assert secret not in text and all(secret not in c for c in cells)


def test_a_period_that_ends_before_it_starts_is_refused(engine: Engine) -> None:
    with Session(engine) as s, pytest.raises(RecordError, match="end"):
        build_report(s, END, START)
    with Session(engine) as s, pytest.raises(RecordError, match="office"):
        build_report(s, START, END, "XX")
