"""``housing report``: the report to funders and the municipality for a period, as XLSX or
PDF, in Italian or English (aggregates only; small counts hidden)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from agency.errors import RecordError
from agency.reports import build_report, report_pdf, report_xlsx
from housing.cli_agency import DbOption, _engine, _fail
from housing.ui import console

report_app = typer.Typer(name="report", help="The report to funders for a period.")


def _day(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(ValueError(f"{field}: {text!r} is not a date (YYYY-MM-DD)"), 2) from None


@report_app.command("report")
def report(
    output: Annotated[Path, typer.Option("-o", "--output", help="A .xlsx or .pdf file.")],
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day, included (YYYY-MM-DD).")],
    office: Annotated[
        str | None, typer.Option(help="An office's code (default: every office).")
    ] = None,
    lang: Annotated[str, typer.Option(help="it or en.")] = "it",
    url: DbOption = None,
) -> None:
    """Participants reached and housed (by gender, age band, household type, nationality,
    housing exclusion), homes by incentive, money per fund, the guarantee, autonomy and PAI
    reviews: aggregates only, counts under 5 shown as <5."""
    if lang not in ("it", "en"):
        raise _fail(ValueError(f"lang: {lang!r}; one of it, en"), 2)
    kind = output.suffix.lower()
    if kind not in (".xlsx", ".pdf"):
        raise _fail(ValueError(f"output: {output} must end in .xlsx or .pdf"), 2)
    first, last = _day("from", start), _day("to", end)
    began = time.perf_counter()
    with Session(_engine(url)) as s:
        try:
            r = build_report(s, first, last, office)
        except RecordError as exc:
            raise _fail(exc, 2) from None
    data = report_xlsx(r, lang) if kind == ".xlsx" else report_pdf(r, lang)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    console.print(f"written: {output} ({time.perf_counter() - began:.2f} s)")
