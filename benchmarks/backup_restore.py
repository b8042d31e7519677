"""How long a backup and a restore take, and how large a backup is, on SQLite and PostgreSQL.

The database is a copy of ``--db`` (``housing demo --db out/demo.sqlite3`` makes one),
with ``--households`` more waiting households added (each with an audit entry and a
status event, as a caseworker's entry leaves them) and a dwelling for every fourth.

    python -m benchmarks.backup_restore --db out/demo.sqlite3 --households 10000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/test

Prints a Markdown table: per database, the backup's time and size, and the restore's
time (into an empty database of the same kind; load, check against the manifest and
migrate). The PostgreSQL database is the SQLite one restored into a schema of its own.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.backup import Manifest, backup, restore
from agency.db import database_url, make_engine, upgrade
from agency.models import AuditEntry, Beneficiary, BeneficiaryEvent, Dwelling, Gender, Office


def grow(engine: Engine, households: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with Session(engine) as s:
        office = s.exec(select(Office)).first()
        assert office is not None and office.id is not None
        for k in range(households):
            dlat, dlon = rng.normal(0, 0.05, 2)
            b = Beneficiary(
                office_id=office.id,
                given_name=f"Given{k}",
                family_name=f"Family{k}",
                gender=Gender.M if k % 3 else Gender.F,
                adults=1 + int(k % 4 == 0),
                minors=int(k % 5 == 0),
                income_cents=int(rng.integers(40, 110)) * 1000,
                work_lat=41.46 + dlat,
                work_lon=15.55 + dlon,
                max_commute_km=25,
                registered_on=date(2026, 6, 1),
            )
            s.add(b)
            s.flush()
            assert b.id is not None
            s.add(BeneficiaryEvent(beneficiary_id=b.id, kind="status", to_status="waiting"))
            s.add(
                AuditEntry(actor="bench", action="create", entity="beneficiary", entity_ref=b.ref)
            )
            if k % 4 == 0:
                elat, elon = rng.normal(0, 0.05, 2)
                s.add(
                    Dwelling(
                        office_id=office.id,
                        address=f"Via Bench {k}",
                        municipality="071024",
                        lat=41.46 + elat,
                        lon=15.55 + elon,
                        area_m2=50,
                        bedrooms=2,
                        rent_cents=int(rng.integers(300, 500)) * 100,
                    )
                )
            if k % 1000 == 999:
                s.commit()
        s.commit()


def _pg_schema(admin: Engine) -> tuple[str, Engine]:
    schema = "bk_" + uuid.uuid4().hex[:10]
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(database_url(admin.url.render_as_string(hide_password=False)))
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, make_engine(url.render_as_string(hide_password=False))


def measure(db: Path, households: int, postgres: str | None) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    rows = []
    try:
        src = work / "src.sqlite3"
        shutil.copyfile(db, src)
        engine = make_engine(f"sqlite:///{src}")
        upgrade(engine)
        if households:
            grow(engine, households)
        folder, m = backup(engine, work / "b")
        target = make_engine(f"sqlite:///{work / 'restored.sqlite3'}")
        done = restore(target, folder)
        rows.append(_row("SQLite", m, done.seconds))
        if postgres:
            admin = make_engine(postgres)
            schemas = []
            try:
                name, pg = _pg_schema(admin)
                schemas.append(name)
                restore(pg, folder)  # the same data in PostgreSQL
                folder2, m2 = backup(pg, work / "b")
                name2, pg2 = _pg_schema(admin)
                schemas.append(name2)
                done2 = restore(pg2, folder2)
                rows.append(_row("PostgreSQL", m2, done2.seconds))
                pg.dispose()
                pg2.dispose()
            finally:
                with admin.begin() as conn:
                    for s in schemas:
                        conn.exec_driver_sql(f"DROP SCHEMA {s} CASCADE")
                admin.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _row(kind: str, m: Manifest, restore_s: float) -> str:
    households = m.tables["beneficiary"].rows
    rows = sum(t.rows for t in m.tables.values())
    return (
        f"| {kind} | {households:,} | {rows:,} | {m.seconds:.2f} s | "
        f"{m.bytes / 1e3:,.0f} kB | {restore_s:.2f} s |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True, help="a SQLite database to start from")
    ap.add_argument("--households", type=int, default=0, help="households to add")
    ap.add_argument("--postgres", help="a PostgreSQL URL (a schema is made and dropped)")
    args = ap.parse_args()
    print("| database | households | rows | backup | size | restore |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in measure(args.db, args.households, args.postgres):
        print(row)


if __name__ == "__main__":
    main()
