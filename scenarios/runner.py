"""Run every variant of a scenario with the same ``solve()``, in parallel.

:func:`run_scenarios` builds the base and each variant's instance in the calling
process (so a bad override fails before anything runs), then submits one task per
variant, the base included, to a :class:`concurrent.futures.Executor`: local processes
(spawned) by default, or a Dask distributed cluster through
``distributed.Client(address).get_executor()`` (see :func:`dask_executor`). Every
task solves with the same :class:`~matching.params.SolveParams` (same seed), checks
the result with the independent validator, and returns a compact picklable
:class:`PointOutcome`: the aggregates-only summary plus the result.

A solve that reaches ``OPTIMAL`` is deterministic, so the local and the Dask paths give
identical summaries (the tests check it).

:func:`run_scenario_text` is the entry point for the planners' API: an uploaded file's
text in, the aggregates-only report dictionary out.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from matching.instance import FieldError, Instance
from matching.params import SolveParams
from matching.result import Result
from matching.solve import solve
from matching.validate import validate
from scenarios.disclosure import suppress_small_counts
from scenarios.limits import Limits, share
from scenarios.limits import check as check_limits
from scenarios.spec import (
    BASE_NAME,
    AgencyBase,
    AgencyData,
    InstanceBase,
    ScenarioError,
    ScenarioSpec,
    Variant,
    parse_spec,
)
from scenarios.summary import difference, instance_sha256, summarize

__all__ = [
    "REPORT_FORMAT",
    "PointOutcome",
    "PointTask",
    "Progress",
    "ScenarioReport",
    "dask_executor",
    "run_point",
    "run_scenario_text",
    "run_scenarios",
]

REPORT_FORMAT = "housing-match/scenario-report@1"

logger = logging.getLogger("scenarios.runner")

Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, name)`` each time a variant finishes."""


@dataclass(frozen=True)
class PointTask:
    """What one worker needs: the variant's name, its instance and the solve parameters."""

    name: str
    instance: Instance
    params: SolveParams


@dataclass(frozen=True)
class PointOutcome:
    """What one worker returns.

    Attributes
    ----------
    summary
        Aggregates only (:func:`scenarios.summary.summarize`); JSON-ready.
    result
        The full result (identities included): for the caller, never for the report.
    error
        Set when the solve raised; ``summary`` is then empty.
    """

    name: str
    summary: dict[str, Any]
    result: Result | None = None
    error: str | None = None


def run_point(task: PointTask) -> PointOutcome:
    """Solve one variant, validate it, summarise it (runs in a worker).

    Parameters
    ----------
    task
        The variant's instance and the solve parameters.

    Returns
    -------
    PointOutcome
        With the validator's findings counted in ``summary["violations"]``.
    """
    result = solve(task.instance, task.params)
    violations = validate(task.instance, result)
    if violations:
        logger.error(
            "variant %s: %d violation(s) of the spec: %s",
            task.name,
            len(violations),
            ", ".join(sorted({v.code for v in violations})),
        )
    return PointOutcome(task.name, summarize(task.instance, result, violations), result)


# --------------------------------------------------------------------------- report


@dataclass
class ScenarioReport:
    """The outcome of a scenario run.

    ``to_dict()`` is the report (aggregates only, what the planner role may see);
    ``results`` keeps each variant's full :class:`~matching.result.Result` for the
    caller (identities included: never put it in the report).
    """

    spec: ScenarioSpec
    provenance: dict[str, Any]
    base: dict[str, Any]
    variants: list[dict[str, Any]]
    results: dict[str, Result] = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> list[str]:
        """Hard errors: variants that crashed or whose result broke the spec."""
        out = []
        for v in [self.base, *self.variants]:
            if v.get("error"):
                out.append(f"{v['name']}: {v['error']}")
            elif v.get("violations"):
                codes = ", ".join(f"{c} x{n}" for c, n in v["violations"].items())
                out.append(f"{v['name']}: the result breaks the spec ({codes})")
        return out

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data: aggregates only, never identities."""
        return {
            "format": REPORT_FORMAT,
            "scenario": {
                "name": self.spec.name,
                "description": self.spec.description,
                "file_sha256": self.spec.source_sha256,
                "base": self.spec.base.describe(),
            },
            "provenance": self.provenance,
            "ok": self.ok,
            "errors": self.errors,
            "base": self.base,
            "variants": self.variants,
        }


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def _entry(
    variant: Variant | None, sha: str, outcome: PointOutcome, base_summary: dict[str, Any] | None
) -> dict[str, Any]:
    head: dict[str, Any] = {
        "name": outcome.name,
        "group": variant.group if variant else BASE_NAME,
        "description": variant.description if variant else "the base round, unchanged",
        "overrides": variant.describe() if variant else [],
        "sweep": (
            {"key": variant.sweep_key, "value": variant.sweep_value}
            if variant and variant.sweep_key
            else None
        ),
        "instance_sha256": sha,
    }
    if outcome.error is not None:
        return {**head, "status": "ERROR", "error": outcome.error}
    out = {**head, **outcome.summary}
    if base_summary is not None:
        out["difference"] = difference(outcome.summary, base_summary)
    return out


@contextmanager
def dask_executor(address: str) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor on a Dask distributed scheduler.

    Parameters
    ----------
    address
        The scheduler, e.g. ``tcp://127.0.0.1:8786``. Its workers must have this
        package installed (they import :mod:`scenarios.runner`).

    Yields
    ------
    concurrent.futures.Executor
        ``distributed.Client(address).get_executor()``; the client is closed on exit.
    """
    from distributed import Client

    client = Client(address)  # type: ignore[no-untyped-call]
    try:
        yield client.get_executor()  # type: ignore[no-untyped-call]
    finally:
        client.close()  # type: ignore[no-untyped-call]


def run_scenarios(
    spec: ScenarioSpec,
    *,
    executor: Executor | None = None,
    params: SolveParams | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    base_instance: Instance | None = None,
    agency: AgencyData | None = None,
    executor_name: str | None = None,
    deadline_seconds: float | None = None,
) -> ScenarioReport:
    """Run the base and every variant of a scenario, one task each, in parallel.

    Parameters
    ----------
    spec
        The parsed scenario (:func:`scenarios.spec.load_spec`).
    executor
        Where the tasks run. None: a :class:`~concurrent.futures.ProcessPoolExecutor`
        of ``workers`` spawned processes, created and shut down here. A given executor
        (e.g. :func:`dask_executor`) is left open.
    params
        Solve parameters for every variant; None: the file's ``time_limit`` and
        ``seed`` with one CP-SAT worker.
    workers
        Local processes (default: the CPU count, at most one per task).
    progress
        Called as ``progress(done, total, name)`` when a variant finishes.
    base_instance
        The base already built (skips :meth:`ScenarioSpec.load_base`).
    agency
        For an ``agency`` base: what gives the agency's data (see
        :class:`~scenarios.spec.AgencyData`).
    executor_name
        How the report names the executor (default: its class).
    deadline_seconds
        A limit on the whole run, from now (the base's building included): the solves
        then run one after the other in this process, each given an equal share of the
        time left; those the deadline leaves out are reported as not run.

    Returns
    -------
    ScenarioReport
        Base first, then the variants in file order (sweep points in order).

    Raises
    ------
    ScenarioError
        When the base cannot be built or an override does not fit it (every such
        problem listed, each naming the variant and key).
    """
    t0 = time.perf_counter()
    params = params or SolveParams(time_limit=spec.time_limit, seed=spec.seed)
    base = base_instance if base_instance is not None else spec.load_base(agency)
    errors = spec.check_against(base)
    if errors:
        raise ScenarioError(errors, spec.source)
    instances: dict[str, Instance] = {BASE_NAME: base}
    by_name: dict[str, Variant] = {}
    for v in spec.variants:
        instances[v.name] = v.build(base)
        by_name[v.name] = v
    hashes = {name: instance_sha256(inst) for name, inst in instances.items()}
    tasks = [PointTask(name, inst, params) for name, inst in instances.items()]

    if deadline_seconds is not None:
        outcomes_in = _within(tasks, params, t0 + deadline_seconds, progress)
        return _report(
            spec,
            params,
            hashes,
            outcomes_in,
            by_name,
            t0,
            f"this process, within {deadline_seconds:g} s for the whole run",
        )
    own = executor is None
    if executor is None:
        n = max(1, min(len(tasks), workers or os.cpu_count() or 1))
        executor = ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context("spawn")
        )
        kind = f"local processes ({n})"
    else:
        kind = executor_name or type(executor).__name__
    outcomes: dict[str, PointOutcome] = {}
    try:
        futures: dict[Future[PointOutcome], str] = {
            executor.submit(run_point, t): t.name for t in tasks
        }
        for done, fut in enumerate(as_completed(futures), start=1):
            name = futures[fut]
            try:
                outcomes[name] = fut.result()
            except Exception as exc:  # a crashed worker is reported, not fatal to the rest
                logger.error("variant %s failed: %s: %s", name, type(exc).__name__, exc)
                logger.debug("variant %s failed", name, exc_info=exc)
                outcomes[name] = PointOutcome(name, {}, None, f"{type(exc).__name__}: {exc}")
            if progress is not None:
                progress(done, len(tasks), name)
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    return _report(spec, params, hashes, outcomes, by_name, t0, kind)


def _within(
    tasks: list[PointTask], params: SolveParams, deadline: float, progress: Progress | None
) -> dict[str, PointOutcome]:
    """Each task in turn, here, each given an equal share of the time left before
    ``deadline`` (``time.perf_counter``); those left when it passes are not run."""
    outcomes: dict[str, PointOutcome] = {}
    for k, task in enumerate(tasks):
        limit = share(deadline - time.perf_counter(), len(tasks) - k)
        if limit <= 0:
            outcomes[task.name] = PointOutcome(
                task.name, {}, None, "not run: the run's time limit was reached"
            )
        else:
            outcomes[task.name] = run_point(replace(task, params=replace(params, time_limit=limit)))
        if progress is not None:
            progress(k + 1, len(tasks), task.name)
    return outcomes


def _report(
    spec: ScenarioSpec,
    params: SolveParams,
    hashes: dict[str, str],
    outcomes: dict[str, PointOutcome],
    by_name: dict[str, Variant],
    t0: float,
    kind: str,
) -> ScenarioReport:
    base_out = outcomes[BASE_NAME]
    base_summary = base_out.summary if base_out.error is None else None
    provenance = {
        "scenario_sha256": spec.source_sha256,
        "base_instance_sha256": hashes[BASE_NAME],
        "seed": params.seed,
        "time_limit": params.time_limit,
        "cpsat_workers": params.workers,
        "package_version": _version("housing-match"),
        "ortools_version": _version("ortools"),
        "python_version": platform.python_version(),
        "executor": kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    return ScenarioReport(
        spec=spec,
        provenance=provenance,
        base=_entry(None, hashes[BASE_NAME], base_out, None),
        variants=[
            _entry(by_name[v.name], hashes[v.name], outcomes[v.name], base_summary)
            for v in spec.variants
        ],
        results={n: o.result for n, o in outcomes.items() if o.result is not None},
    )


def run_scenario_text(
    toml_text: str,
    base_dir: str | Path,
    *,
    executor: Executor | None = None,
    params: SolveParams | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    agency: AgencyData | None = None,
    time_limit: float | None = None,
    source: str | None = None,
    deadline_seconds: float | None = None,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Run an uploaded scenario file and return its report (aggregates only).

    For the planners' API: the file is untrusted, so an ``instance`` base must lie
    inside ``base_dir``, and an ``agency`` base may not name a database (``agency`` is
    called with None: the caller's own).

    Parameters
    ----------
    toml_text
        The scenario file's text.
    base_dir
        The folder ``instance`` paths are resolved against and confined to.
    executor, params, workers, progress
        As in :func:`run_scenarios`.
    agency
        For an ``agency`` base: what gives the agency's data.
    time_limit
        Overrides the file's time limit (e.g. a service's cap); ignored with ``params``.
    source
        A name for the file in error messages.
    deadline_seconds
        A limit on the whole run (see :func:`run_scenarios`).
    limits
        A service's :class:`scenarios.limits.Limits`: a file asking for more is refused.

    Returns
    -------
    dict
        :meth:`ScenarioReport.to_dict`: no beneficiary id, name or per-person row.

    Raises
    ------
    ScenarioError
        Listing every problem of the file, each naming the variant and key.
    """
    root = Path(base_dir).resolve()
    spec = parse_spec(toml_text, base_dir=root, source=source)
    if isinstance(spec.base, InstanceBase) and not spec.base.path.resolve().is_relative_to(root):
        raise ScenarioError(
            [
                FieldError(
                    "base", "instance", f"{spec.base.written!r} is outside the allowed folder"
                )
            ],
            source,
        )
    if isinstance(spec.base, AgencyBase) and spec.base.database_url is not None:
        raise ScenarioError(
            [
                FieldError(
                    "base",
                    "agency.database_url",
                    "may not be given here: the service uses its own database",
                )
            ],
            source,
        )
    if limits is not None:
        problems = check_limits(spec, limits)
        if problems:
            raise ScenarioError(problems, source)
    if params is None and time_limit is not None:
        spec = replace(spec, time_limit=time_limit)
    report = run_scenarios(
        spec,
        executor=executor,
        params=params,
        workers=workers,
        progress=progress,
        agency=agency,
        deadline_seconds=deadline_seconds,
    )
    out = report.to_dict()
    if isinstance(spec.base, AgencyBase):  # the agency's own people: no small counts
        out = suppress_small_counts(out)
    return out
