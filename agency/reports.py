"""Reports to funders and the municipality: aggregates of a period, for one office or all.

What the records hold, counted, in Italian or English, as XLSX or PDF:

- **participants** (the head of each household taken in charge, as the ESF+ counts a
  participant) *reached* in the period (taken in charge before it ended, case not closed
  before it began) and *housed* (a lease that started in it), with the persons of their
  households, by gender, age band (at the period's end), household type, nationality
  (Italian, other EU, third-country nationals) and housing exclusion (coming from an
  informal settlement);
- **homes**: landlords' dwellings certified fit in the period (brought in), and the leases
  that started in it by the incentive they were let on (a one-off payment, the guarantee,
  a rent agreed below the asking one, the plain rent, a bed in a shared flat);
- **money** per fund: contributions and one-offs committed in the period, released, and
  paid (*approximated*: the ledger commits a lease's months at once, so the months of each
  lease that fall in the period are counted as paid); the **guarantee**: exposure opened,
  still open at the end, claims paid, what is left;
- **outcomes**: households that left to autonomy (a case closed while housed: the records
  say the case ended, not why, so this is *approximated*), and the PAI reviews due in the
  period or overdue at its end.

Only aggregates: a count of 1 to 4 people is shown as "<5" (:data:`SUPPRESSED`), and when a
breakdown hides only one cell, its next smallest is hidden too, so that no hidden count can
be worked out from the total. Money is not a count of persons and is shown whole. No avoid
zone and no victim tag is read.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session, col, func, select

from agency.errors import RecordError
from agency.models import (
    Beneficiary,
    BeneficiaryEvent,
    BeneficiaryStatus,
    Dwelling,
    DwellingTerm,
    Fund,
    GuaranteeEntry,
    GuaranteeKind,
    Lease,
    LedgerEntry,
    LedgerKind,
    Office,
)
from sheets.cells import xlsx_bytes

THRESHOLD = 5
SUPPRESSED = "<5"
LANGS = ("it", "en")

EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
"""The member states of the European Union (ISO 3166 alpha-2; Greece as GR)."""

LABELS: dict[str, tuple[str, str]] = {
    # titles
    "report": ("Report to funders", "Rendicontazione ai finanziatori"),
    "period": ("Period", "Periodo"),
    "office": ("Office", "Sportello"),
    "all_offices": ("all offices", "tutti gli sportelli"),
    "generated": ("Generated", "Generato il"),
    "suppressed": (
        "Counts of 1 to 4 people are shown as <5.",
        "I conteggi da 1 a 4 persone sono indicati come <5.",
    ),
    # sections
    "participants": ("Participants", "Partecipanti"),
    "gender": ("By gender", "Per genere"),
    "age": ("By age band", "Per fascia d'età"),
    "household": ("By household type", "Per tipo di nucleo"),
    "nationality": ("By nationality", "Per cittadinanza"),
    "exclusion": ("Housing exclusion", "Esclusione abitativa"),
    "homes": ("Homes", "Alloggi"),
    "money": ("Money per fund (€)", "Risorse per fondo (€)"),
    "guarantee": ("Guarantee fund (€)", "Fondo di garanzia (€)"),
    "outcomes": ("Outcomes", "Esiti"),
    "notes": ("Notes", "Note"),
    # columns
    "item": ("", ""),
    "reached": ("reached", "raggiunti"),
    "housed": ("housed", "alloggiati"),
    "count": ("count", "numero"),
    "fund": ("fund", "fondo"),
    "committed": ("contributions committed", "contributi impegnati"),
    "one_offs": ("one-offs committed", "una tantum impegnati"),
    "released": ("released", "liberati"),
    "paid": ("paid (approx.)", "erogati (stima)"),
    "balance": ("balance at the end", "saldo a fine periodo"),
    "cents": ("€", "€"),
    # rows
    "households": ("households (participants)", "nuclei (partecipanti)"),
    "persons": ("persons in their households", "persone nei nuclei"),
    "F": ("women", "donne"),
    "M": ("men", "uomini"),
    "X": ("another gender", "altro genere"),
    "age_under_18": ("under 18", "meno di 18"),
    "age_18_29": ("18 to 29", "da 18 a 29"),
    "age_30_54": ("30 to 54", "da 30 a 54"),
    "age_55_plus": ("55 and over", "55 e oltre"),
    "age_unknown": ("age not recorded", "età non registrata"),
    "single": ("single adult", "adulto solo"),
    "single_minors": ("single adult with minors", "adulto solo con minori"),
    "adults": ("adults, no minors", "più adulti, senza minori"),
    "adults_minors": ("adults with minors", "più adulti con minori"),
    "IT": ("Italian", "italiana"),
    "EU": ("other EU", "altro paese UE"),
    "third_country": ("third-country nationals", "cittadini di paesi terzi"),
    "nationality_unknown": ("not recorded", "non registrata"),
    "settlement": (
        "from an informal settlement (homeless or in housing exclusion)",
        "da un insediamento informale (senza dimora o in esclusione abitativa)",
    ),
    "certified": (
        "landlords' dwellings certified fit (brought in)",
        "alloggi di proprietari certificati idonei (acquisiti)",
    ),
    "let_one_off": ("let with a one-off payment", "locati con contributo una tantum"),
    "let_guaranteed": ("let with the guarantee", "locati con la garanzia"),
    "let_agreed": ("let at a rent agreed below asking", "locati a canone concordato ridotto"),
    "let_plain": ("let at the plain rent", "locati al canone ordinario"),
    "let_bed": ("beds let in shared flats", "posti letto in coabitazione"),
    "granted": ("granted until the end", "conferito fino a fine periodo"),
    "exposure_opened": ("exposure opened", "esposizione aperta"),
    "exposure_open": ("exposure open at the end", "esposizione in essere a fine periodo"),
    "claims": ("claims paid", "escussioni pagate"),
    "left": ("left at the end", "disponibile a fine periodo"),
    "autonomy": (
        "households leaving to autonomy (case closed while housed)",
        "nuclei usciti in autonomia (caso chiuso mentre alloggiati)",
    ),
    "pai_due": ("PAI reviews due in the period", "verifiche PAI in scadenza nel periodo"),
    "pai_overdue": ("PAI reviews overdue at the end", "verifiche PAI scadute a fine periodo"),
    # notes
    "note_participant": (
        "A participant is a household's head (ESF+ common output indicators: participants "
        "by gender, age, third-country nationals, homeless or in housing exclusion); "
        "persons counts everyone in their households.",
        "Il partecipante è il referente del nucleo (indicatori comuni di output FSE+: "
        "partecipanti per genere, età, cittadini di paesi terzi, senza dimora o in "
        "esclusione abitativa); le persone contano tutti i componenti.",
    ),
    "note_paid": (
        "Paid is approximated: the months of each lease that fall in the period, times its "
        "contribution; one-offs are counted paid when the lease starts.",
        "L'erogato è stimato: i mesi di ogni contratto che cadono nel periodo per il "
        "contributo; le una tantum si considerano erogate all'avvio del contratto.",
    ),
    "note_autonomy": (
        "Autonomy is approximated: a case closed while housed (the records do not say why).",
        "L'autonomia è stimata: un caso chiuso mentre il nucleo era alloggiato (i registri "
        "non ne indicano il motivo).",
    ),
}


def label(key: str, lang: str) -> str:
    en, it = LABELS.get(key, (key, key))
    return it if lang == "it" else en


@dataclass(frozen=True)
class Section:
    """One table of the report: rows of ``(row key, values…)`` under ``columns``."""

    key: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]
    money: bool = False


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    office: str | None
    sections: list[Section] = field(default_factory=list)
    notes: tuple[str, ...] = ("note_participant", "note_paid", "note_autonomy")

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def value(self, section: str, row: str, column: str) -> Any:
        s = self.section(section)
        k = s.columns.index(column)
        return next(r for r in s.rows if r[0] == row)[k + 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "housing-match/report@1",
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "office": self.office,
            "suppressed_below": THRESHOLD,
            "sections": {
                s.key: {"columns": list(s.columns), "rows": [list(r) for r in s.rows]}
                for s in self.sections
            },
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- counting


def _suppress(rows: list[list[Any]]) -> list[list[Any]]:
    """Counts 1-4 shown as "<5"; in each column, a lone hidden cell hides the next smallest
    too (else total minus the others would give it away)."""
    out = [list(r) for r in rows]
    if not out:
        return out
    for k in range(1, len(out[0])):
        small = [i for i, r in enumerate(out) if isinstance(r[k], int) and 0 < r[k] < THRESHOLD]
        for i in small:
            out[i][k] = SUPPRESSED
        if len(small) == 1:
            others = [(r[k], i) for i, r in enumerate(out) if isinstance(r[k], int) and r[k] > 0]
            if others:
                out[min(others)[1]][k] = SUPPRESSED
    return out


def _suppress_each(rows: list[list[Any]]) -> list[list[Any]]:
    """Counts 1-4 shown as "<5", row by row (rows that are not parts of one whole)."""
    return [
        [r[0], *(SUPPRESSED if isinstance(v, int) and 0 < v < THRESHOLD else v for v in r[1:])]
        for r in rows
    ]


def age_band(birth: date | None, on: date) -> str:
    if birth is None:
        return "age_unknown"
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if age < 18:
        return "age_under_18"
    if age < 30:
        return "age_18_29"
    if age < 55:
        return "age_30_54"
    return "age_55_plus"


def household_type(b: Beneficiary) -> str:
    if b.adults == 1:
        return "single_minors" if b.minors else "single"
    return "adults_minors" if b.minors else "adults"


def nationality_group(code: str | None) -> str:
    if not code:
        return "nationality_unknown"
    if code == "IT":
        return "IT"
    return "EU" if code in EU else "third_country"


def _months_in(lease: Lease, start: date, end: date) -> int:
    """The months of ``lease`` (from its start, for its months, until it ended) that begin
    within ``start``..``end``."""
    n = 0
    for k in range(lease.months):
        y, m = divmod(lease.started_on.month - 1 + k, 12)
        first = date(lease.started_on.year + y, m + 1, 1)
        month_start = lease.started_on if k == 0 else first
        if lease.ended_on is not None and month_start > lease.ended_on:
            break
        if start <= month_start <= end:
            n += 1
    return n


def _at(day: date, end_of_day: bool = False) -> datetime:
    return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)


def build_report(
    session: Session, start: date, end: date, office_code: str | None = None
) -> Report:
    """The report of ``start``..``end`` (both included) for one office, or all."""
    if end < start:
        raise RecordError("end", f"the period ends ({end}) before it starts ({start})")
    office_id: int | None = None
    if office_code is not None:
        office = session.exec(select(Office).where(Office.code == office_code)).first()
        if office is None:
            raise RecordError("office", f"no office {office_code!r}")
        office_id = office.id
    t0, t1 = _at(start), _at(end, end_of_day=True)

    # households in scope, their closing days and their leases
    q = select(Beneficiary).where(Beneficiary.registered_on <= end)
    if office_id is not None:
        q = q.where(Beneficiary.office_id == office_id)
    people = {b.id: b for b in session.exec(q)}
    closed_at: dict[int, datetime] = {}
    autonomy = 0
    for bid, at, before in session.exec(
        select(BeneficiaryEvent.beneficiary_id, BeneficiaryEvent.at, BeneficiaryEvent.from_status)
        .where(BeneficiaryEvent.to_status == BeneficiaryStatus.closed.value)
        .order_by(col(BeneficiaryEvent.at))
    ):
        if bid in people:
            closed_at[bid] = at
            if t0 <= at <= t1 and before == BeneficiaryStatus.housed.value:
                autonomy += 1
    reached = [
        b
        for bid, b in people.items()
        if not (b.status == BeneficiaryStatus.closed and bid in closed_at and closed_at[bid] < t0)
    ]
    leases = list(
        session.exec(
            select(Lease).where(col(Lease.beneficiary_id).in_(list(people)) if people else False)
        )
    )
    started = [x for x in leases if start <= x.started_on <= end]
    housed_ids = {x.beneficiary_id for x in started}
    housed = [people[i] for i in housed_ids]

    def breakdown(keys: Sequence[str], key_of: Any) -> list[list[Any]]:
        a: dict[str, int] = defaultdict(int)
        h: dict[str, int] = defaultdict(int)
        for b in reached:
            a[key_of(b)] += 1
        for b in housed:
            h[key_of(b)] += 1
        return _suppress([[k, a[k], h[k]] for k in keys])

    sections = [
        Section(
            "participants",
            ("reached", "housed"),
            _suppress_each(
                [
                    ["households", len(reached), len(housed)],
                    [
                        "persons",
                        sum(b.persons for b in reached),
                        sum(b.persons for b in housed),
                    ],
                ]
            ),
        ),
        Section("gender", ("reached", "housed"), breakdown(("F", "M", "X"), lambda b: b.gender)),
        Section(
            "age",
            ("reached", "housed"),
            breakdown(
                ("age_under_18", "age_18_29", "age_30_54", "age_55_plus", "age_unknown"),
                lambda b: age_band(b.birth_date, end),
            ),
        ),
        Section(
            "household",
            ("reached", "housed"),
            breakdown(("single", "single_minors", "adults", "adults_minors"), household_type),
        ),
        Section(
            "nationality",
            ("reached", "housed"),
            breakdown(
                ("IT", "EU", "third_country", "nationality_unknown"),
                lambda b: nationality_group(b.nationality),
            ),
        ),
        Section(
            "exclusion",
            ("reached", "housed"),
            _suppress_each(
                [
                    [
                        "settlement",
                        sum(1 for b in reached if b.informal_settlement),
                        sum(1 for b in housed if b.informal_settlement),
                    ]
                ]
            ),
        ),
        _homes(session, office_id, start, end, started),
        _money(session, office_id, t0, t1, start, end, leases),
        _guarantee(session, office_id, t0, t1, leases),
        Section(
            "outcomes",
            ("count",),
            _suppress_each(
                [
                    ["autonomy", autonomy],
                    [
                        "pai_due",
                        sum(
                            1
                            for b in reached
                            if b.pai_next_review_on and start <= b.pai_next_review_on <= end
                        ),
                    ],
                    [
                        "pai_overdue",
                        sum(
                            1
                            for b in reached
                            if b.pai_next_review_on
                            and b.pai_next_review_on < end
                            and b.status != BeneficiaryStatus.closed
                        ),
                    ],
                ]
            ),
        ),
    ]
    return Report(start=start, end=end, office=office_code, sections=sections)


def _homes(
    session: Session, office_id: int | None, start: date, end: date, started: list[Lease]
) -> Section:
    q = select(func.count()).where(
        col(Dwelling.landlord_id).is_not(None),
        col(Dwelling.certificate_on).is_not(None),
        col(Dwelling.certificate_on) >= start,
        col(Dwelling.certificate_on) <= end,
    )
    if office_id is not None:
        q = q.where(Dwelling.office_id == office_id)
    certified = int(session.exec(q).one())
    dwelling_ids = [x.dwelling_id for x in started if x.dwelling_id is not None]
    rents = (
        dict(
            session.exec(
                select(Dwelling.id, Dwelling.rent_cents).where(col(Dwelling.id).in_(dwelling_ids))
            ).all()
        )
        if dwelling_ids
        else {}
    )
    terms = {
        (t.dwelling_id, t.label): t
        for t in (
            session.exec(
                select(DwellingTerm).where(col(DwellingTerm.dwelling_id).in_(dwelling_ids))
            )
            if dwelling_ids
            else []
        )
    }
    counts: dict[str, int] = defaultdict(int)
    for x in started:
        if x.dwelling_id is None:
            counts["let_bed"] += 1
            continue
        t = terms.get((x.dwelling_id, x.term or ""))
        if x.one_off_cents:
            counts["let_one_off"] += 1
        if t is not None and t.guaranteed:
            counts["let_guaranteed"] += 1
        rent = x.rent_cents if x.rent_cents is not None else rents.get(x.dwelling_id)
        if x.term is not None and rent is not None and rent < rents.get(x.dwelling_id, rent):
            counts["let_agreed"] += 1
        if not x.one_off_cents and (t is None or not t.guaranteed) and x.term is None:
            counts["let_plain"] += 1
    keys = ("let_one_off", "let_guaranteed", "let_agreed", "let_plain", "let_bed")
    return Section(
        "homes",
        ("count",),
        _suppress_each([["certified", certified], *([k, counts[k]] for k in keys)]),
    )


def _money(
    session: Session,
    office_id: int | None,
    t0: datetime,
    t1: datetime,
    start: date,
    end: date,
    leases: list[Lease],
) -> Section:
    lease_ids = {x.id for x in leases}
    funds = list(session.exec(select(Fund).order_by(col(Fund.code))))
    rows: list[list[Any]] = []
    entries = list(session.exec(select(LedgerEntry).where(LedgerEntry.at <= t1)))
    for f in funds:
        mine = [
            e
            for e in entries
            if e.fund_id == f.id and (office_id is None or e.lease_id in lease_ids)
        ]
        in_period = [e for e in mine if e.at >= t0]
        committed = -sum(e.amount_cents for e in in_period if e.kind == LedgerKind.commitment)
        one_offs = -sum(e.amount_cents for e in in_period if e.kind == LedgerKind.one_off)
        released = sum(e.amount_cents for e in in_period if e.kind == LedgerKind.release)
        paid = sum(
            x.contribution_cents * _months_in(x, start, end) for x in leases if x.fund_id == f.id
        ) + sum(
            x.one_off_cents for x in leases if x.fund_id == f.id and start <= x.started_on <= end
        )
        balance = sum(e.amount_cents for e in mine) if office_id is None else None
        rows.append([f.code, committed, one_offs, released, paid, balance])
    return Section(
        "money", ("committed", "one_offs", "released", "paid", "balance"), rows, money=True
    )


def _guarantee(
    session: Session, office_id: int | None, t0: datetime, t1: datetime, leases: list[Lease]
) -> Section:
    lease_ids = {x.id for x in leases}
    entries = [
        e
        for e in session.exec(select(GuaranteeEntry).where(GuaranteeEntry.at <= t1))
        if office_id is None or e.lease_id in lease_ids
    ]
    granted = sum(e.amount_cents for e in entries if e.kind == GuaranteeKind.grant)
    opened = -sum(
        e.amount_cents for e in entries if e.kind == GuaranteeKind.exposure and e.at >= t0
    )
    open_end = -sum(
        e.amount_cents for e in entries if e.kind in (GuaranteeKind.exposure, GuaranteeKind.release)
    )
    claims = -sum(e.amount_cents for e in entries if e.kind == GuaranteeKind.claim and e.at >= t0)
    all_claims = -sum(e.amount_cents for e in entries if e.kind == GuaranteeKind.claim)
    rows: list[list[Any]] = [
        ["exposure_opened", opened],
        ["exposure_open", open_end],
        ["claims", claims],
    ]
    if office_id is None:  # the fund is the agency's: its grants and balance are not an office's
        rows = [["granted", granted], *rows, ["left", granted - all_claims - open_end]]
    return Section("guarantee", ("cents",), rows, money=True)


# --------------------------------------------------------------------------- rendering


def _cell(value: Any, money: bool) -> Any:
    if money and isinstance(value, int):
        return value / 100
    return "" if value is None else value


def _rows(report: Report, lang: str) -> Iterable[tuple[str, list[str], list[list[Any]]]]:
    for s in report.sections:
        header = [label("fund" if s.key == "money" else "item", lang)] + [
            label(c, lang) for c in s.columns
        ]
        body = [
            [r[0] if s.key == "money" else label(str(r[0]), lang)]
            + [_cell(v, s.money) for v in r[1:]]
            for r in s.rows
        ]
        yield label(s.key, lang), header, body


def _heading(report: Report, lang: str) -> list[list[Any]]:
    return [
        [label("period", lang), f"{report.start.isoformat()} – {report.end.isoformat()}"],
        [label("office", lang), report.office or label("all_offices", lang)],
        [label("suppressed", lang), ""],
        *([label(n, lang), ""] for n in report.notes),
    ]


def report_xlsx(report: Report, lang: str) -> bytes:
    """The report as a workbook: a sheet for the period and notes, one per table (every
    text cell a string, never a formula)."""
    sheets = [(label("report", lang), [label("report", lang), ""], _heading(report, lang))]
    sheets += [(name[:31], header, body) for name, header, body in _rows(report, lang)]
    return xlsx_bytes(sheets)


def report_pdf(report: Report, lang: str) -> bytes:
    """The report as a PDF (A4, one table per section)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=label("report", lang))
    story: list[Any] = [Paragraph(label("report", lang), styles["Title"])]
    for k, v in _heading(report, lang):
        story.append(Paragraph(f"{_esc(k)} {_esc(v)}", styles["Normal"]))
    for name, header, body in _rows(report, lang):
        story += [Spacer(1, 10), Paragraph(_esc(name), styles["Heading2"])]
        data = [header] + [[_fmt(v, lang) for v in row] for row in body]
        table = Table(data, hAlign="LEFT", repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ]
            )
        )
        story.append(table)
    doc.build(story)
    return out.getvalue()


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fmt(value: Any, lang: str) -> str:
    if isinstance(value, float):
        text = f"{value:,.2f}"
        return (
            text.replace(",", "\0").replace(".", ",").replace("\0", ".") if lang == "it" else text
        )
    if isinstance(value, int):
        text = f"{value:,}"
        return text.replace(",", ".") if lang == "it" else text
    return str(value)
