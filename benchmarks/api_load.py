"""Request latency of ``housing serve`` under load, on the embedded SQLite database.

Seeds a fresh database with the Foggia-area data set (the demo's 61 households, 25
dwellings, 6 shared flats and 3 funds), starts ``housing serve`` in its own process, logs
a caseworker in, then for each endpoint runs ``--clients`` concurrent clients (threads,
each with its own keep-alive connection) for ``--seconds`` and measures every request:

- the dashboard page (``GET /``),
- a page of the beneficiaries' list (``GET /beneficiaries``, 25 rows, an audited read),
- the JSON list (``GET /api/v1/beneficiaries?limit=50``, an audited read).

    python -m benchmarks.api_load --clients 10 --seconds 10

Prints a Markdown table (median and p95 latency in ms, requests per second, errors) and
writes it as JSON to ``out/api-load.json``. The clients run on the same machine as the
server, so the figures include their share of the CPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from agency import records
from agency.audit import Actor
from agency.db import get_engine
from agency.demo import seed
from agency.models import Office
from scenarios.bundled import example_round

PASSWORD = "load test passphrase"
ENDPOINTS = (
    ("dashboard page", "GET /", "cookie"),
    ("beneficiaries page", "GET /beneficiaries", "cookie"),
    ("beneficiaries JSON (50)", "GET /api/v1/beneficiaries?limit=50", "bearer"),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str) -> None:
    engine = get_engine(url)
    seed(engine, example_round())
    with Session(engine) as s:
        office = s.exec(select(Office).where(Office.code == "FG")).one()
        records.create_user(s, Actor("bench"), "bench", "Bench", PASSWORD, "caseworker", office.id)
        s.commit()
    engine.dispose()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def _load(
    base: str, target: str, auth: dict[str, Any], clients: int, seconds: float
) -> dict[str, Any]:
    method, path = target.split(" ", 1)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    stop = [0.0]

    def worker() -> None:
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=base, timeout=30, **auth) as c:
            c.request(method, path)  # warm the connection
            start_gate.wait()
            while time.perf_counter() < stop[0]:
                t0 = time.perf_counter()
                r = c.request(method, path)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    bad += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    stop[0] = time.perf_counter() + seconds + 0.5
    start_gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "median_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * _percentile(latencies, 0.95), 1),
        "rps": round(len(latencies) / wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("-o", "--output", type=Path, default=Path("out/api-load.json"))
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="api-load-"))
    url = f"sqlite:///{tmp / 'housing.sqlite3'}"
    _seed(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "HOUSING_LOGIN_DELAY_BASE_SECONDS": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "housing", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}
        ).json()["token"]
        auths = {
            "bearer": {"headers": {"Authorization": f"Bearer {token}"}},
            "cookie": {"cookies": {"housing_session": token}},
        }
        rows = []
        for name, target, how in ENDPOINTS:
            row = {
                "endpoint": name,
                "request": target,
                "clients": args.clients,
                **_load(base, target, auths[how], args.clients, args.seconds),
            }
            rows.append(row)
            print(f"{name}: {row}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(10)
    meta = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "seconds_per_endpoint": args.seconds,
        "database": "SQLite (embedded, WAL)",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    print("| endpoint | request | clients | requests | median ms | p95 ms | req/s | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['endpoint']} | `{r['request']}` | {r['clients']} | {r['requests']} | "
            f"{r['median_ms']} | {r['p95_ms']} | {r['rps']} | {r['errors']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
