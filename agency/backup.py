"""Backups the service need not stop for, and restores that check what they restored.

A backup is a folder ``housing-backup-<UTC time>/`` holding ``manifest.json`` (written
last: a folder without one is incomplete) and the data:

- **SQLite**: ``database.sqlite3``, a copy made with SQLite's online backup API (one step,
  so the copy is one consistent state while the service keeps writing; WAL readers and
  writers do not wait for it). The file opens with ``sqlite3`` as it is.
- **PostgreSQL**: ``tables/<table>.jsonl.gz``, every table read through SQLAlchemy in one
  ``REPEATABLE READ, READ ONLY`` transaction (one snapshot of the whole database), one
  JSON object a row in primary-key order. No client tools (``pg_dump``) are needed, and
  the same files restore into SQLite too.

The manifest holds the time, the schema revision, and per table the row count and the
SHA-256 of a canonical serialisation of its rows (:func:`canonical_lines`: columns by
name, timestamps in UTC, rows in primary-key order), the same whichever database the
rows are read from. :func:`restore` refuses a backup of a schema this code does not know
(a newer release's), writes only into an empty database, loads the data at the backup's
revision, checks every table against the manifest, and only then migrates it up.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from agency.db import alembic_config, is_sqlite, upgrade

FORMAT = "housing-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
TABLES_DIR = "tables"
SKIPPED = frozenset({"alembic_version"})
"""Tables not copied as data (the revision is the manifest's own field)."""
BATCH = 1000


class BackupError(RuntimeError):
    """A backup that cannot be made or restored; the message says why."""


@dataclass(frozen=True)
class TableDigest:
    rows: int
    sha256: str


@dataclass
class Manifest:
    format: str
    created_at: str
    revision: str | None
    dialect: str
    data: str
    tables: dict[str, TableDigest] = field(default_factory=dict)
    seconds: float = 0.0
    bytes: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise BackupError(
                f"{folder}: no {MANIFEST} (not a backup, or one that did not finish)"
            ) from exc
        except (OSError, ValueError) as exc:
            raise BackupError(f"{path}: unreadable manifest ({exc})") from exc
        if raw.get("format") != FORMAT:
            raise BackupError(f"{path}: format {raw.get('format')!r}, this code reads {FORMAT}")
        tables = {k: TableDigest(**v) for k, v in raw.pop("tables", {}).items()}
        return cls(tables=tables, **raw)


# --------------------------------------------------------------------------- canonical rows


def _canon(value: Any) -> Any:
    """A value as the manifest's serialisation writes it (the same on every database)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date | dtime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any, column: sa.Column[Any]) -> Any:
    """A canonical value back to what ``column`` takes."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.DateTime):
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if getattr(kind, "timezone", False) else moment
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    if isinstance(kind, sa.Time):
        return dtime.fromisoformat(value)
    if isinstance(kind, sa.LargeBinary) and isinstance(value, dict):
        return base64.b64decode(value["$b64"])
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float) and isinstance(value, str):
        return Decimal(value)
    return value


def line(row: dict[str, Any]) -> str:
    """One row's canonical line: JSON, keys sorted, no spaces."""
    return json.dumps(
        {k: _canon(v) for k, v in row.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def reflect(conn: Connection) -> sa.MetaData:
    meta = sa.MetaData()
    meta.reflect(conn)
    return meta


def data_tables(meta: sa.MetaData) -> list[sa.Table]:
    """The tables holding data, parents before children."""
    return [t for t in meta.sorted_tables if t.name not in SKIPPED]


def _order(table: sa.Table) -> list[sa.Column[Any]]:
    pk = list(table.primary_key.columns)
    return pk or list(table.columns)


def canonical_lines(conn: Connection, table: sa.Table) -> Iterator[str]:
    """The table's rows as canonical lines, in primary-key order."""
    query = sa.select(table).order_by(*_order(table))
    result = conn.execution_options(yield_per=BATCH).execute(query)
    for row in result.mappings():
        yield line(dict(row))


def digest(lines: Iterable[str]) -> TableDigest:
    h = hashlib.sha256()
    n = 0
    for text in lines:
        h.update(text.encode())
        h.update(b"\n")
        n += 1
    return TableDigest(rows=n, sha256=h.hexdigest())


def table_digests(conn: Connection) -> dict[str, TableDigest]:
    """Every data table's row count and checksum, as the manifest writes them."""
    return {t.name: digest(canonical_lines(conn, t)) for t in data_tables(reflect(conn))}


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


# --------------------------------------------------------------------------- backup


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def backup(engine: Engine, into: Path) -> tuple[Path, Manifest]:
    """A consistent backup of ``engine``'s database in a new folder under ``into``.

    The data is written to ``<name>.partial`` and the folder renamed when the manifest is
    written, so a backup cut short never passes for a complete one."""
    started = time.perf_counter()
    created = datetime.now(UTC)
    name = "housing-backup-" + _stamp()
    into.mkdir(parents=True, exist_ok=True)
    partial = into / (name + ".partial")
    partial.mkdir(mode=0o700)  # the backup holds personal data: its owner only
    try:
        if is_sqlite(engine):
            manifest = _backup_sqlite(engine, partial)
        else:
            manifest = _backup_tables(engine, partial)
        manifest.created_at = created.isoformat()
        manifest.seconds = round(time.perf_counter() - started, 3)
        manifest.bytes = _size(partial)
        (partial / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        final = into / name
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final, manifest


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return path


def _reader(path: Path) -> Engine:
    """An engine that only reads a backup's SQLite copy (leaving its journal as it is)."""
    return sa.create_engine(f"sqlite:///{path}")


def _backup_sqlite(engine: Engine, folder: Path) -> Manifest:
    source = sqlite3.connect(_sqlite_path(engine), timeout=30)
    target = sqlite3.connect(folder / SQLITE_FILE)
    try:
        source.backup(target)  # one step: one consistent state of the database
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target.close()
        source.close()
    copy = _reader(folder / SQLITE_FILE)
    try:
        with copy.connect() as conn:
            revision = _revision(conn)
            tables = table_digests(conn)
    finally:
        copy.dispose()
    return Manifest(FORMAT, "", revision, "sqlite", SQLITE_FILE, tables)


def _backup_tables(engine: Engine, folder: Path) -> Manifest:
    (folder / TABLES_DIR).mkdir()
    tables: dict[str, TableDigest] = {}
    with engine.connect() as base:
        conn = base.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            revision = _revision(conn)
            for table in data_tables(reflect(conn)):
                path = folder / TABLES_DIR / f"{table.name}.jsonl.gz"
                with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:

                    def written(t: sa.Table = table, out: Any = out) -> Iterator[str]:
                        for text in canonical_lines(conn, t):
                            out.write(text + "\n")
                            yield text

                    tables[table.name] = digest(written())
    return Manifest(FORMAT, "", revision, engine.dialect.name, TABLES_DIR, tables)


def prune(into: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest complete backups under ``into`` (and any
    unfinished one older than them); returns what was removed."""
    done = sorted(p for p in into.glob("housing-backup-*") if (p / MANIFEST).is_file())
    gone = done[: max(0, len(done) - keep)]
    if done[-keep:]:
        oldest_kept = done[-keep:][0].name
        gone += [p for p in into.glob("housing-backup-*.partial") if p.name < oldest_kept]
    for p in gone:
        shutil.rmtree(p)
    return gone


# --------------------------------------------------------------------------- restore


@dataclass(frozen=True)
class Restored:
    revision: str | None
    migrated_to: str | None
    tables: dict[str, TableDigest]
    seconds: float


def known_revision(engine: Engine, revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (an older or the same
    schema); a newer release's revision is not."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config(engine))
    try:
        return any(r.revision == revision for r in script.walk_revisions())
    except CommandError:
        return False


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not sa.inspect(conn).get_table_names()


def restore(engine: Engine, folder: Path, *, migrate: bool = True) -> Restored:
    """Restore the backup in ``folder`` into ``engine``'s empty database, check it against
    the manifest, then (``migrate``) bring it to this code's schema."""
    started = time.perf_counter()
    manifest = Manifest.read(folder)
    if manifest.revision is None:
        raise BackupError(f"{folder}: the backup's database had no schema")
    if not known_revision(engine, manifest.revision):
        raise BackupError(
            f"{folder}: the backup is at schema revision {manifest.revision}, which this "
            "version does not know (a newer release made it): restore it with that release"
        )
    if not is_empty(engine):
        raise BackupError(
            "the target database is not empty: restore only into a new, empty database "
            "(nothing was changed)"
        )
    source = folder / manifest.data
    if not source.exists():
        raise BackupError(f"{folder}: {manifest.data} is missing")
    if manifest.data == SQLITE_FILE and is_sqlite(engine):
        _restore_sqlite_file(engine, source)
    else:
        upgrade(engine, manifest.revision)
        _load_backup(engine, manifest, source)
    with engine.connect() as conn:
        found = table_digests(conn)
    wrong = sorted(
        name
        for name in set(found) | set(manifest.tables)
        if found.get(name) != manifest.tables.get(name)
    )
    if wrong:
        raise BackupError(
            "the restored database differs from the backup's manifest in "
            + ", ".join(
                f"{n} ({_rows(found.get(n))} rows, manifest {_rows(manifest.tables.get(n))})"
                for n in wrong
            )
        )
    if migrate:
        upgrade(engine)
    with engine.connect() as conn:
        now_at = _revision(conn)
    return Restored(manifest.revision, now_at, found, round(time.perf_counter() - started, 3))


def _rows(d: TableDigest | None) -> str:
    return "no" if d is None else str(d.rows)


def _restore_sqlite_file(engine: Engine, source: Path) -> None:
    engine.dispose()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(_sqlite_path(engine), timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _load_backup(engine: Engine, manifest: Manifest, source: Path) -> None:
    """Insert the backup's rows (the SQLite copy's, or the table files') into the schema
    just created at the backup's revision."""
    if manifest.data != SQLITE_FILE:

        def lines(name: str) -> Iterator[str]:
            with gzip.open(source / f"{name}.jsonl.gz", "rt", encoding="utf-8") as src:
                for text in src:
                    yield text.rstrip("\n")

        _load(engine, list(manifest.tables), lines)
        return
    copy = _reader(source)
    try:
        with copy.connect() as conn:
            meta = reflect(conn)
            _load(
                engine,
                [t.name for t in data_tables(meta)],
                lambda name: canonical_lines(conn, meta.tables[name]),
            )
    finally:
        copy.dispose()


def _load(engine: Engine, names: list[str], lines: Callable[[str], Iterator[str]]) -> None:
    """Insert every table's rows, parents first, in one transaction."""
    with engine.begin() as conn:
        meta = reflect(conn)
        rank = {t.name: k for k, t in enumerate(data_tables(meta))}
        for name in sorted(names, key=lambda n: rank.get(n, len(rank))):
            if name not in meta.tables:
                raise BackupError(f"the backup has a table {name} the schema does not")
            table = meta.tables[name]
            batch: list[dict[str, Any]] = []
            for text in lines(name):
                raw = json.loads(text)
                batch.append({k: _decode(v, table.c[k]) for k, v in raw.items()})
                if len(batch) >= BATCH:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, meta)


def _reset_sequences(conn: Connection, meta: sa.MetaData) -> None:
    """Each serial or identity key continues after the largest restored id."""
    for table in data_tables(meta):
        for column in table.primary_key.columns:
            seq = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": table.name, "c": column.name},
            ).scalar()
            if seq is None:
                continue
            conn.execute(
                sa.text(
                    f'SELECT setval(:s, COALESCE(MAX("{column.name}"), 1), '
                    f'MAX("{column.name}") IS NOT NULL) FROM "{table.name}"'
                ),
                {"s": seq},
            )
