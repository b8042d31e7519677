"""``housing subject``, ``housing retention`` and ``housing keygen``: a person's data
exported or erased, the retention policy (on ``DATABASE_URL`` or the embedded SQLite
file), and the protected data's key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agency import protected, records, retention, subject_rights
from agency.db import write_session
from housing.cli_agency import DbOption, _actor, _engine, _fail
from housing.ui import console

subject_app = typer.Typer(
    name="subject",
    no_args_is_help=True,
    help="A person's rights: their data exported whole, or erased.",
)
retention_app = typer.Typer(name="retention", no_args_is_help=True, help="The retention policy.")
keygen_app = typer.Typer(name="keygen", help="A new key for the protected data.")


@keygen_app.command("keygen")
def keygen(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write it to this file (owner-only), not stdout."),
    ] = None,
) -> None:
    """A new key for the protected data (avoid zones, victim tags): give it to the service
    as HOUSING_DATA_KEY, or its file as HOUSING_DATA_KEY_FILE. Keep it outside the
    database and its backups: without it those fields cannot be read."""
    if output is None:
        console.print(protected.new_key(), markup=False, highlight=False)
        return
    if not protected.write_key_file(output):
        raise _fail(ValueError(f"output: {output} exists; a key is never overwritten"), 2)
    console.print(f"written: {output}")


@retention_app.callback()
def _retention() -> None:
    """The retention policy."""


@subject_app.command("export")
def subject_export(
    ref: Annotated[str, typer.Argument(help="The household's ref (B-…).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="A .json file.")],
    url: DbOption = None,
) -> None:
    """Everything held about a household (GDPR Art. 15), as JSON (personal data)."""
    try:
        with write_session(_engine(url)) as s:
            data = subject_rights.subject_access(s, _actor(), ref)
    except records.NotFoundError as exc:
        raise _fail(exc) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    console.print(f"{ref}: written to {output}")


@subject_app.command("erase")
def subject_erase(
    ref: Annotated[str, typer.Argument(help="The household's ref (B-…).")],
    reason: Annotated[str, typer.Option(help="Why, e.g. 'request 2026-41'.")],
    url: DbOption = None,
) -> None:
    """Erase a household's identity (GDPR Art. 17): it becomes its ref; leases and the
    ledger's amounts stay."""
    try:
        with write_session(_engine(url)) as s:
            subject_rights.pseudonymise(s, _actor(), ref, reason)
    except (records.RecordError, records.NotFoundError) as exc:
        raise _fail(exc) from exc
    console.print(f"{ref} is now a pseudonym")


@retention_app.command("run")
def retention_run(
    days: Annotated[
        int | None,
        typer.Option(
            help="Keep closed cases this many days (default HOUSING_RETENTION_DAYS, else 1825)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, change nothing.")] = False,
    url: DbOption = None,
) -> None:
    """Pseudonymise closed cases older than the retention period; purge old login
    attempts, ended sessions and stored answers. Audited."""
    report = retention.run(_engine(url), _actor(), days=days, dry_run=dry_run)
    verb = "would pseudonymise" if dry_run else "pseudonymised"
    console.print(
        f"retention ({report.days} days): {verb} {len(report.pseudonymised)} "
        f"closed cases; {len(report.kept)} kept for now; deleted "
        f"{report.login_attempts} login attempts, {report.sessions} sessions, "
        f"{report.stored_answers} stored answers"
        + (" (dry run: nothing changed)" if dry_run else "")
    )
    for ref, why in report.kept.items():
        console.print(f"  {ref}: {why}")
