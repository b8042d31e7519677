"""What the service's jobs do: a round's solve, a planner's scenario run."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency import faults, records, rounds
from agency import jobs as store
from agency.audit import Actor
from agency.db import write_session
from agency.models import Job, JobStatus, ScenarioRun
from agency.snapshot import snapshot_instance
from api.jobs import JobRefused, Progress, Workers, die_with_parent
from api.settings import Settings
from scenarios.bundled import examples_dir
from scenarios.limits import Limits
from scenarios.runner import run_scenario_text
from scenarios.spec import ScenarioError

SOLVE = "round.solve"
SCENARIO = "scenario.run"


def actor_params(actor: Actor) -> dict[str, Any]:
    return {"actor": actor.username, "user_id": actor.user_id, "office_id": actor.office_id}


def _actor(params: dict[str, Any]) -> Actor:
    return Actor(str(params["actor"]), params.get("user_id"), params.get("office_id"))


def solve(engine: Engine, settings: Settings) -> Any:
    def run(job: Job, progress: Progress, workers: Workers) -> dict[str, Any]:
        faults.hang("job:solve")
        try:
            r = rounds.solve_round(
                engine,
                _actor(job.params),
                int(job.params["round_id"]),
                progress=progress,
                max_seconds=settings.max_solve_seconds,
            )
        except rounds.RoundError as exc:
            raise JobRefused(str(exc)) from None
        return {"round": r.ref, "solve_count": r.solve_count}

    return run


def _set_run(engine: Engine, ref: str, **kw: Any) -> None:
    with write_session(engine) as s:
        records.finish_scenario_run(s, ref, **kw)


def scenario_child(
    conn: Any,
    text: str,
    base_dir: str,
    database_url: str,
    source: str,
    seconds: float,
    limits: dict[str, Any],
) -> None:
    """In the child process: run the file within ``seconds``, send back the outcome."""
    die_with_parent()
    faults.hang("job:scenario")
    try:
        # the file may not name a database: the agency's data is the service's own
        report = run_scenario_text(
            text,
            base_dir,
            agency=lambda _url: snapshot_instance(database_url),
            source=source,
            deadline_seconds=seconds,
            limits=Limits(**limits),
        )
        conn.send(("ok", report))
    except ScenarioError as exc:
        conn.send(("refused", str(exc)[:4000]))
    except RecursionError:
        conn.send(("refused", "the file is nested too deeply"))
    except Exception as exc:
        conn.send(("error", type(exc).__name__))


def scenario(engine: Engine, settings: Settings) -> Any:
    def run(job: Job, progress: Progress, workers: Workers) -> dict[str, Any]:
        ref = job.subject
        with Session(engine) as s:
            found = s.exec(select(ScenarioRun).where(ScenarioRun.ref == ref)).one()
            text = found.spec_text
        seconds = float(job.params.get("seconds", settings.scenario_max_seconds))
        _set_run(engine, ref, status="running")
        ctx = multiprocessing.get_context("spawn")
        mine, theirs = ctx.Pipe(duplex=False)
        limits = {
            "max_runs": settings.scenario_max_runs,
            "max_sweep_points": settings.scenario_max_sweep_points,
            "max_seconds": settings.scenario_max_seconds,
        }
        child = ctx.Process(
            target=scenario_child,
            daemon=True,
            args=(
                theirs,
                text,
                str(examples_dir()),
                engine.url.render_as_string(hide_password=False),
                str(job.params.get("source", "scenario.toml")),
                seconds,
                limits,
            ),
        )
        child.start()
        workers.adopt(child)
        progress({"stage": "running", "worker_pid": child.pid, "seconds": seconds})
        deadline = time.monotonic() + seconds + settings.scenario_grace_seconds
        outcome: tuple[str, Any]
        try:
            while True:
                if mine.poll(0.5):
                    outcome = mine.recv()
                    break
                if workers.stopping:
                    child.kill()
                    raise RuntimeError("the server is stopping")
                if not child.is_alive():
                    outcome = ("error", "the run's process stopped")
                    break
                if time.monotonic() > deadline:
                    child.kill()
                    outcome = (
                        "refused",
                        f"the run's time limit ({seconds:g} s) was "
                        "reached: fewer variants, or a smaller base",
                    )
                    break
        finally:
            child.join(5)
            workers.release(child)
        kind, value = outcome
        if kind == "ok":
            _set_run(engine, ref, status="done", report=value)
            return {"run": ref}
        message = value if kind == "refused" else "internal error"
        _set_run(engine, ref, status="failed", error=message)
        raise JobRefused(message)

    return run


def install(engine: Engine, settings: Settings) -> Workers:
    workers = Workers(engine)
    workers.register(SOLVE, solve(engine, settings), settings.solve_workers)
    workers.register(SCENARIO, scenario(engine, settings), settings.scenario_workers)
    return workers


def recover(workers: Workers) -> None:
    """At start-up: interrupted jobs marked, and the scenario runs they carried too."""
    gone = workers.recover()
    refs = [j.subject for j in gone if j.kind == SCENARIO]
    if refs:
        with write_session(workers.engine) as s:
            for run in s.exec(select(ScenarioRun).where(ScenarioRun.ref.in_(refs))):  # type: ignore[attr-defined]
                run.status, run.error = "interrupted", "the server stopped during the run"
                s.add(run)
    # runs still marked running without an active job (a server before jobs were kept)
    with write_session(workers.engine) as s:
        for run in s.exec(select(ScenarioRun).where(ScenarioRun.status.in_(("queued", "running")))):  # type: ignore[attr-defined]
            if store.active_for(s, SCENARIO, run.ref) is None:
                run.status, run.error = "interrupted", "the server stopped during the run"
                s.add(run)


def job_status_is_final(status: str) -> bool:
    return status in (JobStatus.done, JobStatus.failed, JobStatus.interrupted, JobStatus.cancelled)
