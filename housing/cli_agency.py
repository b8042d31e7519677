"""``housing db``, ``housing import``, ``housing round`` and ``housing demo``: the agency's
records and rounds from the command line, on ``DATABASE_URL`` or the embedded SQLite file."""

from __future__ import annotations

import getpass
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agency import db, protected
from agency.accountability import replay, solves
from agency.audit import Actor
from agency.demo import AUGUST, AUGUST_GRANTS, seed
from agency.errors import NotFoundError
from agency.imports import ImportFailed, export_placements, import_file
from agency.ledger import balances
from agency.models import DecisionKind, Fund, OfferStatus, Office, Round, seeded_refs
from agency.priority import PolicyError, PriorityPolicy
from agency.priority_audit import COMPONENTS, priority_audit
from agency.records import grant_fund, municipality_name
from agency.rounds import (
    RoundError,
    RoundView,
    close_round,
    decide,
    open_round,
    record_answer,
    round_view,
    send_offers,
    solve_round,
)
from agency.schemas import RoundPolicy
from housing.ui import console, err, euro, live_progress
from matching.solve import ProgressEvent
from scenarios.bundled import example_round

db_app = typer.Typer(
    name="db", no_args_is_help=True, help="The agency's database: schema and status."
)
import_app = typer.Typer(
    name="import",
    no_args_is_help=True,
    help="Import records from a spreadsheet (CSV or XLSX template).",
)
round_app = typer.Typer(
    name="round",
    no_args_is_help=True,
    help="Allocation rounds: open, solve, review, offers, answers, close.",
)
demo_app = typer.Typer(name="demo", help="The Foggia data set and a round end to end.")
priority_app = typer.Typer(
    name="priority", no_args_is_help=True, help="The priority policy: how it ranks groups."
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite file (default: DATABASE_URL, else var/housing.sqlite3).",
    ),
]


def _actor() -> Actor:
    return Actor(username=f"cli:{os.environ.get('HOUSING_OPERATOR') or getpass.getuser()}")


def _engine(url: str | None) -> Engine:
    try:
        return db.get_engine(url)
    except db.SchemaError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc


def _fail(exc: Exception, code: int = 1) -> typer.Exit:
    err.print(f"[red]{escape(str(exc))}[/red]")
    return typer.Exit(code)


# --------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(
    url: DbOption = None,
    no_backup: Annotated[
        bool, typer.Option("--no-backup", help="Do not back up the database first.")
    ] = False,
    backup_to: Annotated[
        Path | None,
        typer.Option(help="Folder of the backup (default: HOUSING_BACKUP_DIR, var/backups)."),
    ] = None,
) -> None:
    """Create or migrate the schema to this version (Alembic ``upgrade head``).

    A database that holds a schema older than this version's is backed up first (see
    ``housing backup``) unless ``--no-backup``."""
    from housing.cli_backup import take_backup

    engine = db.make_engine(url)
    before = db.current_revision(engine)
    if before is not None and before != db.head_revision(engine) and not no_backup:
        take_backup(url, backup_to)
    db.upgrade(engine)
    console.print(
        f"schema at {db.current_revision(engine)} (was {before or 'empty'}) on "
        f"{engine.url.render_as_string(hide_password=True)}"
    )


@db_app.command("status")
def db_status(url: DbOption = None) -> None:
    """The schema's revision, and what the database holds."""
    engine = db.make_engine(url)
    console.print(
        f"schema {db.current_revision(engine) or 'empty'} (code needs {db.head_revision(engine)})"
    )


# --------------------------------------------------------------------------- import


def _import(kind: str, path: Path, office: str | None, url: str | None) -> None:
    engine = _engine(url)
    try:
        report = import_file(engine, _actor(), kind, path, office=office)  # type: ignore[arg-type]
    except ImportFailed as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from exc
    except OSError as exc:
        raise _fail(exc, 2) from exc
    console.print(f"{len(report.refs)} {kind} imported from {report.rows} rows of {path.name}")


FileArg = Annotated[Path, typer.Argument(help="The spreadsheet (.csv or .xlsx).")]
OfficeOption = Annotated[
    str | None, typer.Option(help="Office code for rows whose 'office' cell is empty.")
]


@import_app.command("beneficiaries")
def import_beneficiaries(path: FileArg, office: OfficeOption = None, url: DbOption = None) -> None:
    """Import households (template: agency/data/templates/beneficiaries.csv): all rows, or
    none with every error listed by row and column."""
    _import("beneficiaries", path, office, url)


@import_app.command("dwellings")
def import_dwellings(path: FileArg, office: OfficeOption = None, url: DbOption = None) -> None:
    """Import dwellings (template: agency/data/templates/dwellings.csv), all rows or none."""
    _import("dwellings", path, office, url)


@import_app.command("flats")
def import_flats(path: FileArg, office: OfficeOption = None, url: DbOption = None) -> None:
    """Import shared flats, one row per room (template: agency/data/templates/flats.csv),
    all rows or none."""
    _import("flats", path, office, url)


# --------------------------------------------------------------------------- rounds


def _round_id(session: Session, ref: str) -> int:
    q = (
        select(Round).where(Round.ref == ref)
        if not ref.isdigit()
        else select(Round).where(Round.id == int(ref))
    )
    r = session.exec(q).first()
    if r is None or r.id is None:
        raise _fail(ValueError(f"round {ref}: no such round"), 2)
    return r.id


def _located(ref: str, url: str | None) -> tuple[Engine, int]:
    """The engine, and the id of the round named by ref (or id)."""
    engine = _engine(url)
    with Session(engine) as s:
        return engine, _round_id(s, ref)


def _office_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    o = session.exec(select(Office).where(Office.code == code)).first()
    if o is None:
        raise _fail(ValueError(f"office {code!r}: no such office"), 2)
    return o.id


def round_tables(view: RoundView) -> list[Table]:
    """The proposals, and the households left out with their reasons."""
    r = view.round
    head = Table(
        title=f"Round {r.ref} “{r.name}” — {r.status}", show_header=False, title_justify="left"
    )
    head.add_column("what", style="bold")
    head.add_column("value")
    if view.result_status:
        gap = f" (gap {100 * view.gap:.2f}%)" if view.gap else ""
        head.add_row(
            "solve",
            f"{view.result_status}, weight {view.weight} / bound "
            f"{view.bound}{gap}, solved {r.solve_count}×",
        )
        head.add_row(
            "placed",
            f"{len(view.proposals)} households, "
            f"{sum(p.persons for p in view.proposals)} persons; "
            f"{len(view.unplaced)} households left out",
        )
        head.add_row("contribution", f"{euro(view.contribution_cents or 0)} a month")
    props = Table(title="Proposals", title_justify="left")
    for col_name in (
        "#",
        "household",
        "pers.",
        "home",
        "room",
        "town",
        "fund",
        "a month",
        "km",
        "offer",
    ):
        props.add_column(
            col_name,
            justify="right" if col_name in ("#", "pers.", "a month", "km") else "left",
            no_wrap=col_name in ("household", "home", "room", "a month"),
        )
    for p in view.proposals:
        props.add_row(
            str(p.id),
            p.beneficiary_ref,
            str(p.persons),
            f"{p.unit_ref}{' 🔒' if p.locked else ''}",
            p.room_ref or "",
            municipality_name(p.municipality),
            p.fund_code or "",
            euro(p.contribution_cents),
            f"{p.commute_km:.1f}",
            f"{p.offer_status or ''}{f' (#{p.offer_id})' if p.offer_id else ''}",
        )
    out = Table(title="Left out, and why", title_justify="left")
    out.add_column("household", no_wrap=True)
    out.add_column("persons", justify="right")
    out.add_column("reasons")
    for u in view.unplaced:
        out.add_row(u.beneficiary_ref, str(u.persons), "; ".join(u.texts))
    return [head, props, out]


def audit_lines(audit: dict[str, Any]) -> list[str]:
    """The round's audit in a few lines: the groups flagged under four fifths, and the
    priority inversions counted by why they stand."""
    out = []
    flagged = [g for g in audit.get("groups", []) if g.get("flagged")]
    for g in flagged:
        out.append(
            f"[red]flagged[/red] {escape(g['dimension'])} {escape(g['group'])}: placed "
            f"{100 * g['rate']:.0f}% ({g['ratio_to_best']:.2f} of the best-served group)"
        )
    if not flagged:
        out.append("no group placed under four fifths of the best-served group's rate")
    for kind, counts in audit.get("inversion_counts", {}).items():
        if counts:
            why = ", ".join(f"{k} {n}" for k, n in counts.items())
            out.append(f"priority inversions, {kind.replace('_', ' ')}: {why}")
    if not audit.get("inversions_total"):
        out.append("no priority inversion")
    return out


def _show(engine: Engine, round_id: int) -> None:
    with Session(engine) as s:
        view = round_view(s, round_id)
        for t in round_tables(view):
            console.print(t)
        if view.round.solve_count:
            kept = solves(s, round_id)
            if kept and kept[-1].audit:
                console.print("[bold]Audit[/bold] (the round page lists every inversion)")
                for line in audit_lines(kept[-1].audit):
                    console.print(line)


@round_app.command("open")
def round_open(
    name: Annotated[str, typer.Argument(help="A name staff recognise, e.g. 'Foggia July'.")],
    office: Annotated[str | None, typer.Option(help="Office code (default: all).")] = None,
    on: Annotated[str | None, typer.Option(help="Day of the snapshot, YYYY-MM-DD.")] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds for each solve.")] = 30.0,
    seed_: Annotated[int, typer.Option("--seed", help="Solver seed.")] = 0,
    affordability: Annotated[str, typer.Option(help="Share of income a household pays.")] = "0.30",
    horizon: Annotated[
        str | None, typer.Option(help="First month of a seasonal round, YYYY-MM.")
    ] = None,
    months: Annotated[int, typer.Option(help="Months of the horizon.")] = 12,
    transport_budget: Annotated[
        int, typer.Option(help="Cents the round may spend opening shuttle lines.")
    ] = 0,
    url: DbOption = None,
) -> None:
    """Open a round: snapshot the waiting households, the free homes and the funds (with
    --horizon, each household for its season's months, and the office's shuttle lines)."""
    engine = _engine(url)
    try:
        policy = RoundPolicy(
            affordability_ratio=affordability,
            horizon_start=horizon,
            horizon_months=months,
            transport_budget_cents=transport_budget,
        )
        day = date.fromisoformat(on) if on else None
        with Session(engine) as s:
            r = open_round(
                s,
                _actor(),
                name=name,
                office_id=_office_id(s, office),
                policy=policy,
                on=day,
                time_limit_s=time_limit,
                seed=seed_,
            )
            s.commit()
            snap = r.snapshot
            console.print(
                f"round {r.ref} opened: {len(snap['beneficiaries'])} households, "
                f"{len(snap['dwellings'])} dwellings, "
                f"{len(snap['shared_flats'])} shared flats"
            )
    except (RoundError, ValueError) as exc:
        raise _fail(exc, 2) from exc


def _solve(engine: Engine, round_id: int) -> None:
    with live_progress() as show:

        def relay(d: dict[str, Any]) -> None:
            show(
                ProgressEvent(
                    stage=d["stage"],
                    incumbent=d["incumbent"],
                    bound=d["bound"],
                    elapsed=d["elapsed"],
                )
            )

        solve_round(engine, _actor(), round_id, progress=relay)


@round_app.command("solve")
def round_solve(
    ref: Annotated[str, typer.Argument(help="Round ref (RND-…) or id.")], url: DbOption = None
) -> None:
    """Solve or re-solve: accepted and pending offers and locks pinned, refusals forbidden."""
    engine, rid = _located(ref, url)
    try:
        _solve(engine, rid)
    except (RoundError, NotFoundError) as exc:
        raise _fail(exc) from exc
    _show(engine, rid)


@round_app.command("show")
def round_show(
    ref: Annotated[str, typer.Argument(help="Round ref or id.")], url: DbOption = None
) -> None:
    """The round's proposals and the households left out, with their reasons."""
    engine, rid = _located(ref, url)
    _show(engine, rid)


def _decide(
    ref: str,
    beneficiary: str,
    unit: str,
    room: str | None,
    kind: DecisionKind,
    note: str | None,
    url: str | None,
) -> None:
    engine = _engine(url)
    try:
        with Session(engine) as s:
            decide(s, _actor(), _round_id(s, ref), beneficiary, unit, kind, room, note)
            s.commit()
    except (RoundError, NotFoundError) as exc:
        raise _fail(exc) from exc
    console.print(
        f"{kind}: {beneficiary} – {unit}{f' ({room})' if room else ''}; solve again to apply it"
    )


@round_app.command("lock")
def round_lock(
    ref: str,
    beneficiary: str,
    unit: str,
    room: Annotated[str | None, typer.Option(help="Room of a shared flat.")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    url: DbOption = None,
) -> None:
    """Keep a (household, home) pair in every later solve of the round."""
    _decide(ref, beneficiary, unit, room, DecisionKind.lock, note, url)


@round_app.command("forbid")
def round_forbid(
    ref: str,
    beneficiary: str,
    unit: str,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    url: DbOption = None,
) -> None:
    """Exclude a (household, home) pair from the round."""
    _decide(ref, beneficiary, unit, None, DecisionKind.forbid, note, url)


@round_app.command("offers")
def round_offers(
    ref: Annotated[str, typer.Argument(help="Round ref or id.")], url: DbOption = None
) -> None:
    """Send offers for the current proposals (households without an offer out)."""
    engine = _engine(url)
    try:
        with Session(engine) as s:
            sent = send_offers(s, _actor(), _round_id(s, ref))
            s.commit()
            console.print(f"{len(sent)} offers sent: " + ", ".join(f"#{o.id}" for o in sent))
    except (RoundError, NotFoundError) as exc:
        raise _fail(exc) from exc


@round_app.command("record")
def round_record(
    offer: Annotated[int, typer.Argument(help="Offer number (#).")],
    answer: Annotated[
        OfferStatus,
        typer.Argument(
            help="accepted, refused_household, refused_landlord, unreachable, withdrawn"
        ),
    ],
    reason: Annotated[str | None, typer.Option(help="Why (needed unless accepted).")] = None,
    url: DbOption = None,
) -> None:
    """Record the answer to an offer."""
    engine = _engine(url)
    try:
        with Session(engine) as s:
            record_answer(s, _actor(), offer, answer, reason)
            s.commit()
    except (RoundError, NotFoundError) as exc:
        raise _fail(exc) from exc
    console.print(f"offer #{offer}: {answer.value}")


@round_app.command("close")
def round_close(
    ref: Annotated[str, typer.Argument(help="Round ref or id.")], url: DbOption = None
) -> None:
    """Close: accepted offers become leases, contributions commitments in the ledger."""
    engine, rid = _located(ref, url)
    try:
        report = close_round(engine, _actor(), rid)
    except (RoundError, NotFoundError) as exc:
        raise _fail(exc) from exc
    committed = ", ".join(f"{k} {euro(v)}" for k, v in report.committed_cents.items())
    console.print(
        f"round {report.round_ref} closed: {report.leases} leases"
        + (f"; committed {committed}" if committed else "")
    )


@round_app.command("export")
def round_export(
    ref: Annotated[str, typer.Argument(help="Round ref or id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="A .csv or .xlsx file.")],
    url: DbOption = None,
) -> None:
    """Export the round's placements (with names: handle the file as personal data)."""
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise _fail(ValueError("--output: must end in .csv or .xlsx"), 2)
    engine = _engine(url)
    with Session(engine) as s:
        data = export_placements(s, _round_id(s, ref), fmt)  # type: ignore[arg-type]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    console.print(f"placements written to {output}")


@round_app.command("replay")
def round_replay(
    ref: Annotated[str, typer.Argument(help="Round ref (RND-…) or id.")],
    solve_no: Annotated[
        int | None, typer.Option("--solve", help="Which solve (1, 2, …; default: the latest).")
    ] = None,
    url: DbOption = None,
) -> None:
    """Solve a stored solve of the round again, from its record: the same instance (its
    hash checked), engine parameters and seed. Says whether the allocation is the same,
    and why not (a stage cut by the time limit, another engine). Exit code 1 if not."""
    engine, rid = _located(ref, url)
    try:
        with Session(engine) as s:
            r = s.get(Round, rid)
            assert r is not None
            found = replay(s, r, solve_no)
    except (RoundError, NotFoundError) as exc:
        raise _fail(exc, 2) from exc
    t = Table(title=f"Round {found.round_ref}, solve {found.iteration}", title_justify="left")
    t.add_column("")
    t.add_column("stored", justify="right")
    t.add_column("replayed", justify="right")
    for key in ("placed", "weight", "contribution_cents", "commute_m"):
        t.add_row(key, str(found.stored.get(key)), str(found.replayed.get(key)))
    t.add_row("allocation", found.stored["sha256"][:16], found.replayed["sha256"][:16])
    for then, now in zip(found.stored_stages, found.replayed_stages, strict=False):
        t.add_row(f"stage {then.get('objective')}", str(then.get("status")), str(now.get("status")))
    t.add_row(
        "engine",
        f"{found.engine_then.get('housing_match')} / OR-Tools {found.engine_then.get('ortools')}",
        f"{found.engine_now.get('housing_match')} / OR-Tools {found.engine_now.get('ortools')}",
    )
    console.print(t)
    if found.identical:
        console.print("[green]identical[/green]: the replay gives the same allocation")
        return
    console.print("[red]different[/red]: " + "; ".join(escape(w) for w in found.why))
    raise typer.Exit(1)


# --------------------------------------------------------------------------- priority


SHORT = {
    "exploitation_victim": "victim",
    "informal_settlement": "settlement",
    "days_waiting": "waiting",
}


@priority_app.callback()
def priority_main() -> None:
    """The priority policy: how it ranks groups."""


@priority_app.command("audit")
def priority_audit_command(
    office: Annotated[str | None, typer.Option(help="Office code (default: all).")] = None,
    policy: Annotated[
        Path | None,
        typer.Option(help="Priority file (default: HOUSING_PRIORITY_POLICY, else the agency's)."),
    ] = None,
    on: Annotated[str | None, typer.Option(help="Day to score on, YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The audit as JSON.")] = False,
    url: DbOption = None,
) -> None:
    """How each component of the priority policy falls across groups of the households
    waiting (gender, household type, nationality, tags): mean points and the share that
    gets it; a component that ranks a whole group down is flagged. Small counts as <5."""
    if not console.is_terminal:  # a log or a pipe: room for the components' columns
        console.width = max(console.width, 120)
    engine = _engine(url)
    try:
        rules = PriorityPolicy.load(policy)
        day = date.fromisoformat(on) if on else None
        with Session(engine) as s:
            found = priority_audit(s, _office_id(s, office), rules, day)
    except (PolicyError, ValueError, OSError) as exc:
        raise _fail(exc, 2) from exc
    data = found.to_dict()
    if as_json:
        console.print_json(data=data)
        return
    t = Table(
        title=f"Priority policy on {data['households']} households waiting ({data['on']})",
        title_justify="left",
    )
    t.add_column("group", no_wrap=True)
    t.add_column("households", justify="right")
    t.add_column("mean priority", justify="right")
    for c in COMPONENTS:
        t.add_column(SHORT.get(c, c), justify="right", no_wrap=True)

    def cell(fig: dict[str, Any], flagged: bool) -> str:
        if fig["mean_points"] is None:
            return str(fig["households"]) if fig["households"] else "–"
        text = f"{fig['mean_points']:.1f} {100 * fig['share']:.0f}%"
        return f"[red]{text} ▼[/red]" if flagged else text

    rows = [("all", data["overall"], [])] + [
        (f"{g['dimension']}: {g['group']}", g, g["flagged"]) for g in data["groups"]
    ]
    for name, fig, flagged in rows:
        mean = fig["mean_priority"]
        t.add_row(
            escape(name),
            str(fig["households"]),
            "–" if mean is None else f"{mean:.2f}",
            *(cell(fig["components"][c], c in flagged) for c in COMPONENTS),
        )
    console.print(t)
    console.print("mean points, share of the group that gets any; ▼ under 4/5 of the best group")
    for f in data["flags"]:
        console.print(
            f"[red]flagged[/red]: {f['component']} ranks {escape(f['dimension'])} "
            f"{escape(f['group'])} down ({f['ratio_to_best']:.2f} of the best group"
            + ("; no one of the group gets it)" if f["never"] else ")")
        )


# --------------------------------------------------------------------------- demo


def _funds_table(engine: Engine, title: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("fund")
    t.add_column("balance", justify="right")
    with Session(engine) as s:
        bal = balances(s)
        for f in s.exec(select(Fund).order_by(col(Fund.code))):
            t.add_row(f"{f.code} — {f.name}", euro(bal.get(f.id or 0, 0)))
    return t


DEMO_ANSWERS = (
    (OfferStatus.refused_household, "the children's school is in another town"),
    (OfferStatus.refused_landlord, "the landlord asked for a guarantor we cannot give"),
    (OfferStatus.unreachable, "phone switched off all week; the tutor will try again"),
)


DEMO_SEED = 2026
"""The demo's records get the same refs on every run (and the engine the same seed)."""


def demo(path: Path = Path("out/demo.sqlite3"), time_limit: float = 20.0) -> None:
    """Seed the Foggia data set into a fresh embedded database, run the July round end to
    end, and leave the August round open for a caseworker to work in the browser."""
    if not console.is_terminal:  # a log or a pipe: room for the proposals' columns
        console.width = max(console.width, 120)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if not (os.environ.get(protected.KEY_ENV) or os.environ.get(protected.KEY_FILE_ENV)):
        # the protected data's key, outside the database: a file beside it, owner-only
        protected.write_key_file(protected.key_file_beside(path))
    engine = db.get_engine(f"sqlite:///{path}")
    with seeded_refs(DEMO_SEED):
        summary = _demo_rounds(engine, path, time_limit)
    console.rule("[bold]What happened, and what to do next")
    console.print(summary, soft_wrap=True)


def _demo_rounds(engine: Engine, path: Path, time_limit: float) -> str:
    office = seed(engine, example_round()).id  # the office FG: its caseworkers see its rounds
    actor = Actor(username="demo")
    console.rule("[bold]1. The agency's records")
    with Session(engine) as s:
        r = open_round(
            s,
            actor,
            name="Foggia, luglio 2026",
            office_id=office,
            on=date(2026, 7, 1),
            time_limit_s=time_limit,
            seed=DEMO_SEED,
        )
        s.commit()
        assert r.id is not None
        rid, snap = r.id, r.snapshot
    waiting_july = len(snap["beneficiaries"])
    console.print(
        f"{waiting_july} households waiting, "
        f"{len(snap['dwellings'])} dwellings and "
        f"{sum(len(f['rooms']) for f in snap['shared_flats'])} shared-flat rooms free "
        f"(database {path})"
    )
    console.print(_funds_table(engine, "Funds before the round"))
    console.rule("[bold]2. Solve")
    _solve(engine, rid)
    _show(engine, rid)
    console.rule("[bold]3. Offers and answers")
    with Session(engine) as s:
        offers = send_offers(s, actor, rid, on=date(2026, 7, 2))
        for o, (answer, why) in zip(offers, DEMO_ANSWERS, strict=False):
            record_answer(s, actor, o.id or 0, answer, why)
            console.print(f"offer #{o.id}: [yellow]{answer.value}[/yellow] — {why}")
        for o in offers[len(DEMO_ANSWERS) :]:
            record_answer(s, actor, o.id or 0, OfferStatus.accepted)
        s.commit()
        console.print(f"{len(offers) - len(DEMO_ANSWERS)} offers accepted")
    console.rule("[bold]4. Re-solve the refused, accepted offers pinned")
    _solve(engine, rid)
    _show(engine, rid)
    with Session(engine) as s:
        again = send_offers(s, actor, rid, on=date(2026, 7, 10))
        for o in again:
            record_answer(s, actor, o.id or 0, OfferStatus.accepted)
        s.commit()
        console.print(f"{len(again)} new offers sent and accepted")
    console.rule("[bold]5. Close: leases and commitments")
    report = close_round(engine, actor, rid, on=date(2026, 7, 15))
    committed = ", ".join(f"{k} {euro(v)}" for k, v in report.committed_cents.items())
    console.print(
        f"round {report.round_ref} closed: {report.leases} leases; committed " + committed
    )
    console.print(_funds_table(engine, "Funds after the round"))
    console.rule("[bold]6. August: new homes, new money, a round to work")
    with Session(engine) as s:
        for code, cents in AUGUST_GRANTS.items():
            grant_fund(s, actor, code, cents, "August tranche")
        s.commit()
    with Session(engine) as s:
        august = open_round(
            s,
            actor,
            name="Foggia, agosto 2026",
            office_id=office,
            on=AUGUST,
            time_limit_s=time_limit,
            seed=DEMO_SEED,
        )
        s.commit()
        asnap, aref = august.snapshot, august.ref
        money = sum(balances(s).values())
    console.print(_funds_table(engine, "Funds for August"))
    waiting_aug = len(asnap["beneficiaries"])
    free = len(asnap["dwellings"]) + sum(len(f["rooms"]) for f in asnap["shared_flats"])
    url = f"sqlite:///{path}"
    return (
        f"The Foggia office (FG) took {waiting_july} households in July. The round "
        f"{report.round_ref} offered them homes; 3 answers were no (a refusal by the "
        f"household, one by the landlord, one household unreachable), the round was solved "
        f"again around them, and {report.leases} households now hold a lease, their "
        f"contributions committed on the funds ({committed}).\n"
        f"In August new homes came free and the funds received "
        f"{euro(sum(AUGUST_GRANTS.values()))}: the round “Foggia, agosto 2026” ({aref}) is "
        f"open, with {waiting_august_text(waiting_aug)}, {free} dwellings and flat rooms "
        f"free and {euro(money)} in the funds. It is not solved yet: that is yours to do.\n\n"
        "To work it in the browser, add a caseworker of office FG and start the service:\n"
        f"  printf '%s\\n' 'a long secret passphrase' | .venv/bin/housing user add anna "
        f"--role caseworker --office FG --password-stdin --db {url}\n"
        f"  .venv/bin/housing serve --db {url}\n"
        "then open http://127.0.0.1:8000/ and log in as anna: Tornate → "
        "“Foggia, agosto 2026” → Calcola le proposte."
    )


def waiting_august_text(n: int) -> str:
    return f"{n} household{'s' if n != 1 else ''} waiting"


@demo_app.command("demo")
def demo_command(
    db_path: Annotated[Path, typer.Option("--db", help="SQLite file, recreated.")] = Path(
        "out/demo.sqlite3"
    ),
    time_limit: Annotated[float, typer.Option(help="Seconds for each solve.")] = 20.0,
) -> None:
    """Seed the Foggia-area data set and run a round end to end.

    Into a fresh embedded database: open, solve, offers, answers, re-solve, close."""
    demo(db_path, time_limit)
