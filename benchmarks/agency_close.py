"""How long closing a round takes, alone and with another round closing at the same moment.

Two offices each run a round of ``--households`` single workers and as many dwellings,
paid from one shared fund large enough for both; every offer is accepted. Then either one
round closes alone, or both close at once from two threads (each its own connection). On
SQLite the second writer queues on the database lock; on PostgreSQL both take row locks
on disjoint units and queue only on the shared fund's row.

    python -m benchmarks.agency_close --households 200 --repeats 5
    python -m benchmarks.agency_close --postgres postgresql://postgres@127.0.0.1:5432/test

Prints a Markdown table: median wall time of one close alone, and of two at once (the
time until both are done), per database.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agency.audit import Actor
from agency.db import database_url, make_engine, upgrade
from agency.ledger import grant
from agency.models import Beneficiary, Dwelling, Fund, Gender, OfferStatus, Office
from agency.rounds import close_round, open_round, record_answer, send_offers, solve_round

ACTOR = Actor(username="bench")
ON = date(2026, 7, 1)


def _seed(engine: Engine, households: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    with Session(engine) as s:
        fund = Fund(code="shared", name="shared")
        s.add(fund)
        s.flush()
        grant(s, ACTOR, fund, 10**11)
        offices = []
        for code, (lat, lon) in (("FG", (41.46, 15.55)), ("SS", (41.69, 15.38))):
            off = Office(code=code, name=code)
            s.add(off)
            s.flush()
            assert off.id is not None
            offices.append(off.id)
            for k in range(households):
                dlat, dlon = rng.normal(0, 0.03, 2)
                s.add(
                    Beneficiary(
                        office_id=off.id,
                        given_name=f"G{k}",
                        family_name=f"F{k}",
                        gender=Gender.M,
                        adults=1,
                        income_cents=int(rng.integers(50, 90)) * 1000,
                        work_lat=lat + dlat,
                        work_lon=lon + dlon,
                        max_commute_km=20,
                        accepts_bed=False,
                        registered_on=ON,
                    )
                )
                elat, elon = rng.normal(0, 0.02, 2)
                s.add(
                    Dwelling(
                        office_id=off.id,
                        address=f"Via {k}",
                        municipality="071024",
                        lat=lat + elat,
                        lon=lon + elon,
                        area_m2=45,
                        bedrooms=1,
                        rent_cents=int(rng.integers(300, 450)) * 100,
                    )
                )
        s.commit()
    rounds = []
    for oid in offices:
        with Session(engine) as s:
            r = open_round(s, ACTOR, name=f"office {oid}", office_id=oid, on=ON, time_limit_s=30)
            s.commit()
            assert r.id is not None
            rounds.append(r.id)
        solve_round(engine, ACTOR, r.id)
        with Session(engine) as s:
            for o in send_offers(s, ACTOR, r.id):
                record_answer(s, ACTOR, o.id or 0, OfferStatus.accepted)
            s.commit()
    return rounds


def _timed_close(engine: Engine, rounds: list[int]) -> float:
    barrier = threading.Barrier(len(rounds))
    errors: list[BaseException] = []

    def run(rid: int) -> None:
        barrier.wait()
        try:
            close_round(engine, ACTOR, rid, on=ON)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(rid,)) for rid in rounds]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0


def _fresh(
    make: Callable[[], tuple[Engine, Callable[[], None]]],
    households: int,
    seed: int,
    together: bool,
) -> float:
    engine, drop = make()
    try:
        upgrade(engine)
        rounds = _seed(engine, households, seed)
        return _timed_close(engine, rounds if together else rounds[:1])
    finally:
        engine.dispose()
        drop()


def sqlite_maker(folder: Path) -> Callable[[], tuple[Engine, Callable[[], None]]]:
    def make() -> tuple[Engine, Callable[[], None]]:
        path = folder / f"{uuid.uuid4().hex}.sqlite3"
        return make_engine(f"sqlite:///{path}"), lambda: None

    return make


def postgres_maker(url: str) -> Callable[[], tuple[Engine, Callable[[], None]]]:
    def make() -> tuple[Engine, Callable[[], None]]:
        schema = "bench_" + uuid.uuid4().hex[:10]
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        u = sa.make_url(database_url(url)).update_query_dict({"options": f"-csearch_path={schema}"})

        def drop() -> None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()

        return make_engine(u.render_as_string(hide_password=False)), drop

    return make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--households", type=int, default=200, help="per office (and dwellings)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--postgres", help="also on this PostgreSQL URL")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        makers = {"SQLite (file, WAL)": sqlite_maker(Path(tmp))}
        if args.postgres:
            makers["PostgreSQL"] = postgres_maker(args.postgres)
        for name, make in makers.items():
            alone = [_fresh(make, args.households, k, False) for k in range(args.repeats)]
            both = [_fresh(make, args.households, k, True) for k in range(args.repeats)]
            rows.append((name, statistics.median(alone), statistics.median(both)))
    print(
        f"| database | one round of {args.households} leases, alone | two such rounds "
        "closing at once (until both are done) | ratio |"
    )
    print("| --- | ---: | ---: | ---: |")
    for name, a, b in rows:
        print(f"| {name} | {a * 1000:.0f} ms | {b * 1000:.0f} ms | {b / a:.2f} |")


if __name__ == "__main__":
    main()
