"""``housing backup`` and ``housing restore``: a consistent copy of the agency's database
while the service runs, and its return into an empty database (see :mod:`agency.backup`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from agency import db
from agency.backup import BackupError, backup, prune, restore
from housing.ui import console, err

backup_app = typer.Typer(name="backup", help="Back up the agency's database.")
restore_app = typer.Typer(name="restore", help="Restore a backup into an empty database.")

DEFAULT_DIR = Path("var") / "backups"

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite file (default: DATABASE_URL, else var/housing.sqlite3).",
    ),
]


def backup_dir(given: Path | None) -> Path:
    """Where backups go: the option, else ``HOUSING_BACKUP_DIR``, else ``var/backups``."""
    return given or Path(os.environ.get("HOUSING_BACKUP_DIR") or DEFAULT_DIR)


def _where(url: str | None) -> str:
    return db.make_engine(url).url.render_as_string(hide_password=True)


def take_backup(url: str | None, to: Path | None, keep: int | None = None) -> Path:
    """Back up, say what was written, and prune to the ``keep`` newest."""
    engine = db.make_engine(url)
    try:
        if db.current_revision(engine) is None:
            raise BackupError("the database has no schema yet: nothing to back up")
        folder, manifest = backup(engine, backup_dir(to))
    except BackupError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    rows = sum(t.rows for t in manifest.tables.values())
    console.print(
        f"backup {escape(str(folder))}: schema {manifest.revision}, {len(manifest.tables)} "
        f"tables, {rows} rows, {manifest.bytes / 1e6:.1f} MB in {manifest.seconds:.1f} s"
    )
    if keep is not None:
        for gone in prune(backup_dir(to), keep):
            console.print(f"removed the older backup {escape(str(gone))}")
    return folder


@backup_app.command("backup")
def backup_command(
    url: DbOption = None,
    to: Annotated[
        Path | None,
        typer.Option(help="Folder of the backups (default: HOUSING_BACKUP_DIR, var/backups)."),
    ] = None,
    keep: Annotated[
        int | None, typer.Option(min=1, help="Keep only this many newest backups there.")
    ] = None,
) -> None:
    """Write a consistent backup while the service runs, with its manifest.

    SQLite: the online backup API (one file); PostgreSQL: every table in one
    repeatable-read snapshot (no client tools needed). The manifest holds the time, the
    schema revision, and each table's row count and SHA-256."""
    take_backup(url, to, keep)


@restore_app.command("restore")
def restore_command(
    folder: Annotated[Path, typer.Argument(help="A backup folder (housing-backup-...).")],
    url: DbOption = None,
) -> None:
    """Restore a backup into an EMPTY database, check it, and migrate it to this version.

    Refuses a backup made by a newer release (an unknown schema revision) and a target
    that holds any table: create a new database first."""
    engine = db.make_engine(url)
    try:
        done = restore(engine, folder)
    except BackupError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    rows = sum(t.rows for t in done.tables.values())
    console.print(
        f"restored {len(done.tables)} tables, {rows} rows (schema {done.revision}, checked "
        f"against the manifest), now at {done.migrated_to}, in {done.seconds:.1f} s "
        f"on {escape(_where(url))}"
    )
