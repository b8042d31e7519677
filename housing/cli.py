"""``housing``: solve, check and explain allocation rounds from the command line.

The core's commands (solve, validate, explain, generate, scenario) are here. The agency's
(db, import, round, demo, priority, user, office, subject, retention, backup, restore), the
service's (serve) and the benchmark (bench) need the packages of an extra of
housing-match: their modules are loaded only when one of them is called, and, when a
package is missing, the command says which extra to install.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import replace
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from housing.cli_scenario import scenario_app
from housing.extras import OWN_PACKAGES, install_hint, needs, require
from housing.ui import console, err, euro, live_progress
from matching.budget import Budget
from matching.explain import REASON_TEXT
from matching.instance import Instance, InstanceError, load_instance, save_instance
from matching.limits import EngineLimitError
from matching.params import ParamsError, SolveParams
from matching.result import Result, ResultFormatError, load_result, save_result
from matching.solve import solve
from matching.validate import validate
from scenarios.synthetic import SCALES, VARIANTS, generate

EXTRA_COMMANDS: dict[str, tuple[str, str, str]] = {
    "db": ("housing.cli_agency", "db_app", "agency"),
    "import": ("housing.cli_agency", "import_app", "agency"),
    "round": ("housing.cli_agency", "round_app", "agency"),
    "demo": ("housing.cli_agency", "demo_app", "agency"),
    "priority": ("housing.cli_agency", "priority_app", "agency"),
    "user": ("housing.cli_service", "user_app", "agency"),
    "office": ("housing.cli_service", "office_app", "agency"),
    "serve": ("housing.cli_service", "serve_app", "service"),
    "subject": ("housing.cli_privacy", "subject_app", "agency"),
    "retention": ("housing.cli_privacy", "retention_app", "agency"),
    "backup": ("housing.cli_backup", "backup_app", "agency"),
    "restore": ("housing.cli_backup", "restore_app", "agency"),
    "keygen": ("housing.cli_privacy", "keygen_app", "agency"),
    "report": ("housing.cli_reports", "report_app", "agency"),
}
"""Command: (module, its Typer app, the extra whose packages it needs)."""


class Commands(TyperGroup):
    """``housing``'s commands: the core's, then those of the extras, loaded when called."""

    # (the contexts and commands are those of the click that Typer ships inside itself)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *EXTRA_COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in EXTRA_COMMANDS:
            return command
        module, attribute, extra = EXTRA_COMMANDS[cmd_name]
        try:
            loaded = import_module(module)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").partition(".")[0]
            if not missing or missing in OWN_PACKAGES:
                raise
            return _needs_extra(cmd_name, extra, missing)
        return typer.main.get_command(getattr(loaded, attribute))


def _needs_extra(name: str, extra: str, missing: str) -> TyperCommand:
    """A stand-in for a command whose packages are not installed: it says what to do."""

    def fail() -> None:
        err.print(
            f"[red]housing {escape(name)} needs the '{extra}' extra[/red] (the package "
            f"{escape(missing)!r} is not installed): {escape(install_hint(extra))}"
        )
        raise typer.Exit(2)

    return TyperCommand(
        name,
        callback=fail,
        add_help_option=False,
        help=escape(f"(not installed: {install_hint(extra)})"),
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


app = typer.Typer(
    cls=Commands,
    add_completion=False,
    no_args_is_help=True,
    help="Housing-match: allocation rounds of the housing agency.",
)
app.add_typer(scenario_app, name="scenario")


def _load_instance(path: Path) -> Instance:
    try:
        return load_instance(path)
    except InstanceError as exc:
        err.print(f"[red]Invalid instance[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except OSError as exc:
        err.print(f"[red]Cannot read[/red] {escape(str(path))}: {exc.strerror}")
        raise typer.Exit(2) from exc


def _load_result(path: Path) -> Result:
    try:
        return load_result(path)
    except ResultFormatError as exc:
        err.print(f"[red]Invalid result[/red] {escape(str(path))}: {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except OSError as exc:
        err.print(f"[red]Cannot read[/red] {escape(str(path))}: {exc.strerror}")
        raise typer.Exit(2) from exc


def summary_table(inst: Instance, res: Result) -> Table:
    """The end-of-solve summary: status, objectives, bound, people, money, reasons."""
    placed = {a.beneficiary for a in res.assignments}
    persons = sum(b.persons for b in inst.beneficiaries if b.id in placed)
    months = inst.policy.contribution_months
    t = Table(title=f"Round {res.instance}", show_header=False, title_justify="left")
    t.add_column("what", style="bold")
    t.add_column("value")
    t.add_row("status", res.status)
    if res.bound_weight is not None:
        gap = f" (gap {100 * (res.gap or 0):.2f}%)" if res.gap else ""
        t.add_row("weight / bound", f"{res.objective.weight} / {res.bound_weight}{gap}")
    else:
        t.add_row("weight", str(res.objective.weight))
    t.add_row(
        "households placed",
        f"{len(res.assignments)} of {len(inst.beneficiaries)} ({persons} persons)",
    )
    t.add_row(
        "contribution",
        f"{euro(res.objective.contribution_cents)} a month, "
        f"{euro(res.objective.contribution_cents * months)} committed",
    )
    n = max(1, len(res.assignments))
    t.add_row(
        "commute",
        f"{res.objective.commute_km:,.1f} km in all, "
        f"{res.objective.commute_km / n:.1f} km on average",
    )
    for f in inst.funds:
        used = sum(a.contribution_cents for a in res.assignments if a.fund == f.id) * months
        t.add_row(f"fund {f.id}", f"{euro(used)} of {euro(f.budget_cents)}")
    reasons: dict[str, int] = {}
    for u in res.unassigned:
        first = u.reasons[0] if u.reasons else "(no reason given)"
        reasons[first] = reasons.get(first, 0) + 1
    for code, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        t.add_row(f"unplaced: {code}", str(count))
    t.add_row(
        "time",
        f"{res.solve_seconds:.2f} s "
        f"(eligibility {res.timings.get('eligibility', 0):.2f} s, "
        f"{res.engine.get('pairs', '?')} pairs)",
    )
    return t


def _engine_values(param: list[str], params_file: Path | None) -> dict[str, Any]:
    """Engine parameters from ``--params FILE`` and ``--param KEY=VALUE``, checked."""
    values: dict[str, Any] = {}
    try:
        if params_file is not None:
            values = _flatten(SolveParams.from_toml(params_file).to_dict())
        for item in param:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ParamsError(f"{item}: must be KEY=VALUE")
            values[key.strip()] = value.strip()
        SolveParams().with_values(values)
    except (ParamsError, OSError) as exc:
        err.print(f"[red]Bad option[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    return values


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


@app.command("solve")
def solve_cmd(
    instance: Annotated[Path, typer.Argument(help="Instance file (housing-match/instance@1).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Result file.")] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            help="Seconds for the whole run: reading, eligibility, search and explanations."
        ),
    ] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same result).")] = 0,
    workers: Annotated[int, typer.Option(help="CP-SAT search workers.")] = 1,
    log: Annotated[bool, typer.Option(help="Write CP-SAT's search log to stderr.")] = False,
    params_file: Annotated[
        Path | None,
        typer.Option("--params", help="A TOML file of engine parameters (see matching/params.py)."),
    ] = None,
    part_workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="A round solved in parts (XL): solve this many parts at once, on a local "
            "Dask cluster of as many worker processes (with --scheduler: parts handed out "
            "at once, 0 for the cluster's threads).",
        ),
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="A round solved in parts: hand the parts to this Dask scheduler's "
            "workers, e.g. tcp://10.0.0.5:8786."
        ),
    ] = None,
) -> None:
    """Solve a round: place households to the contract's lexicographic objective."""
    budget = Budget.start(time_limit)  # the limit counts from here, reading included
    values = _engine_values([], params_file)
    try:
        params = SolveParams().with_values(
            {**values, "time_limit": time_limit, "seed": seed, "workers": workers, "log": log}
        )
    except ParamsError as exc:
        err.print(f"[red]Bad option[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    inst = _load_instance(instance)
    read = budget.elapsed()
    if log:
        logging.basicConfig(level=logging.DEBUG, format="%(message)s")
    try:
        with _part_workers(part_workers, scheduler) as (executor, slots):
            if slots > 1:
                params = replace(params, decompose=replace(params.decompose, workers=slots))
            with live_progress() as show:
                res = solve(inst, params, progress=show, budget=budget, executor=executor)
    except EngineLimitError as exc:
        err.print(f"[red]Beyond the engine's limits[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except OSError as exc:
        if scheduler is None:
            raise
        # the scheduler cannot be reached
        err.print(f"[red]Cannot reach the scheduler[/red] {escape(scheduler)}: {escape(str(exc))}")
        raise typer.Exit(2) from exc
    res = replace(res, timings={"read": read, **res.timings})
    console.print(summary_table(inst, res))
    if res.solve_seconds > time_limit:
        spent = ", ".join(
            f"{k} {v:.1f} s"
            for k, v in res.timings.items()
            if k in ("read", "eligibility", "greedy", "explain")
        )
        err.print(
            f"[yellow]The time limit of {time_limit:g} s could not be kept:[/yellow] "
            f"the run took {res.solve_seconds:.1f} s ({spent}); reading the file and "
            f"the eligibility of every pair must finish before any allocation, and "
            f"every household left out is explained"
        )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        save_result(res, output)
        console.print(f"result written to {output}")


@contextmanager
def _part_workers(workers: int, scheduler: str | None) -> Iterator[tuple[Executor | None, int]]:
    """Where the parts of a round solved in parts go: a Dask cluster, or this process."""
    if scheduler is None and workers <= 1:
        yield None, 1
        return
    require("scenarios", "housing solve --part-workers/--scheduler", "distributed")
    from scenarios.cluster import dask_workers

    with dask_workers(workers, scheduler) as (executor, slots):
        yield executor, slots


@app.command("validate")
def validate_cmd(
    instance: Annotated[Path, typer.Argument(help="Instance file.")],
    result: Annotated[Path, typer.Argument(help="Result file to check against the spec.")],
) -> None:
    """Check a result against the spec; exits 1 on any violation."""
    inst = _load_instance(instance)
    res = _load_result(result)
    violations = validate(inst, res)
    if violations:
        for v in violations:
            err.print(f"[red]✗[/red] {escape(str(v))}")
        err.print(f"[red]{len(violations)} violation(s)[/red]")
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/green] {result} is a valid {res.status} result for "
        f"{inst.name} ({len(res.assignments)} placements)"
    )


@app.command("explain")
def explain_cmd(
    result: Annotated[Path, typer.Argument(help="Result file.")],
    beneficiary: Annotated[
        str | None,
        typer.Argument(help="Beneficiary id, e.g. B017; omitted: every unplaced household."),
    ] = None,
) -> None:
    """Say where a household was placed, or why it was not."""
    res = _load_result(result)
    if beneficiary is None:
        for u in res.unassigned:
            _explain_one(res, u.beneficiary)
        return
    _explain_one(res, beneficiary)


def _explain_one(res: Result, beneficiary: str) -> None:
    a = res.assignment_of(beneficiary)
    if a is not None:
        where = f"{a.unit}" + (f", room {a.room}" if a.room else "")
        paid = (
            f", {euro(a.contribution_cents)}/month from {a.fund}"
            if a.fund
            else ", no contribution needed"
        )
        console.print(f"{beneficiary} is placed in {where}: commute {a.commute_km:.1f} km{paid}")
        return
    u = res.unassigned_of(beneficiary)
    if u is None:
        err.print(f"[red]{escape(beneficiary)} is not in this result[/red]")
        raise typer.Exit(2)
    console.print(f"{beneficiary} was not placed:")
    for code in u.reasons:
        console.print(f"  • [bold]{code}[/bold]: {REASON_TEXT.get(code, code)}")
    details = dict(u.details)
    for item in details.pop("taken", []):
        holders = ", ".join(
            f"{b} (weight {w})" for b, w in zip(item["by"], item["weights"], strict=False)
        )
        console.print(f"    {item['unit']} went to {holders}")
    for ex in details.pop("examples", []):
        console.print(f"    {ex['unit']}: {', '.join(ex['rules'])}")
    for conflict in details.pop("conflicts", []):
        console.print(f"    {escape(conflict)}")
    for key, value in details.items():
        console.print(f"    {key}: {escape(str(value))}")


@app.command("generate")
def generate_cmd(
    scale: Annotated[str, typer.Option(help="XS, S, M, L or XL.")] = "S",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    output: Annotated[Path, typer.Option("-o", "--output", help="Instance file.")] = Path(
        "instance.json"
    ),
    variant: Annotated[
        str,
        typer.Option(
            help="plain (instance@1), or an instance@2 round: seasonal (harvest stays, "
            "foresterie, shuttle lines), landlords (terms, guarantee, safety zones, "
            "areas) or full."
        ),
    ] = "plain",
) -> None:
    """Write a synthetic Puglia round at a benchmark scale."""
    try:
        inst = generate(scale.upper(), seed, variant.lower())
    except (KeyError, ValueError) as exc:
        err.print(f"[red]Bad option[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    save_instance(inst, output)
    console.print(
        f"{output}: {len(inst.beneficiaries)} households, {len(inst.dwellings)} "
        f"dwellings, {len(inst.shared_flats)} shared flats"
    )


def _bench_resolves(
    scales: list[str], seeds: int, refusals: list[int], time_limit: float, output: Path
) -> None:
    """``housing bench --refusals``: the re-solve scenario, its table and its JSON."""
    import json
    from dataclasses import asdict

    from benchmarks.resolve import HEADER, medians, resolves, row_markdown

    for item in scales:
        size, _, variant = item.partition(":")
        if (
            size.upper() not in SCALES
            or size.upper() == "XL"
            or (variant and variant.lower() not in VARIANTS)
        ):
            err.print(
                f"[red]Bad option[/red] scale: {escape(item)}; one of XS, S, M, L, "
                f"optionally :{'/:'.join(VARIANTS)}, for re-solves"
            )
            raise typer.Exit(2)
    chosen = [
        s.partition(":")[0].upper() + s.partition(":")[1] + s.partition(":")[2].lower()
        for s in scales
    ]
    console.print(HEADER, soft_wrap=True, markup=False)
    rows = resolves(
        chosen,
        list(range(1, seeds + 1)),
        sorted(set(refusals)),
        time_limit,
        report=lambda r: console.print(row_markdown(r), soft_wrap=True, markup=False),
    )
    for line in medians(rows):
        console.print(line, markup=False)
    output.mkdir(parents=True, exist_ok=True)
    path = output / "resolves.json"
    path.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n", encoding="utf-8")
    console.print(f"written: {path}")


@app.command("bench")
def bench_cmd(
    scale: Annotated[
        list[str],
        typer.Option(
            help="Scale(s): XS, S, M, L, XL, each optionally with a generator variant, "
            "e.g. M:seasonal (S when neither --scale nor --instance is given)."
        ),
    ] = [],  # noqa: B006
    seeds: Annotated[int, typer.Option(help="How many seeds (1..N) per scale.")] = 3,
    time_limit: Annotated[float, typer.Option(help="Seconds per solver and instance.")] = 60.0,
    solvers: Annotated[str, typer.Option(help="Comma-separated solvers.")] = (
        "cp-sat,greedy,highs-direct,lp"
    ),
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the results.")] = (
        Path("out/bench")
    ),
    param: Annotated[
        list[str],
        typer.Option(
            "--param",
            help="An engine parameter, KEY=VALUE (repeatable), e.g. "
            "pricing.share=0.5 or stage.lp_share=0.2.",
        ),
    ] = [],  # noqa: B006
    params_file: Annotated[
        Path | None,
        typer.Option("--params", help="A TOML file of engine parameters (the --param values win)."),
    ] = None,
    instance: Annotated[
        list[Path],
        typer.Option(
            "--instance",
            help="An instance file to run instead of (or with --scale, besides) "
            "the generated scales (repeatable).",
        ),
    ] = [],  # noqa: B006
    refusals: Annotated[
        list[int],
        typer.Option(
            "--refusals",
            min=1,
            help="The re-solve scenario instead (repeatable, e.g. --refusals 1 --refusals 5 "
            "--refusals 20): each round solved, then re-solved after that many refusals "
            "with the other placements pinned, from the earlier result and fresh.",
        ),
    ] = [],  # noqa: B006
) -> None:
    """Run every solver on generated rounds or on your own instance files; write JSON, a
    Markdown table and a PNG (or, with --refusals, time re-solves after refusals)."""
    require("benchmarks", "housing bench", "highspy", "matplotlib")
    with needs("benchmarks", "housing bench"):
        from benchmarks.harness import SOLVERS, bench, markdown, write

    if refusals:
        _bench_resolves(scale or ["S"], seeds, refusals, time_limit, output)
        return
    values = _engine_values(param, params_file)

    chosen = [s.strip() for s in solvers.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SOLVERS]
    if unknown:
        err.print(
            f"[red]Bad option[/red] solvers: unknown {escape(', '.join(unknown))}; "
            f"one of {', '.join(SOLVERS)}"
        )
        raise typer.Exit(2)
    scales = [str(p) for p in instance]
    for path in instance:
        if not path.is_file() or path.suffix.lower() != ".json":
            err.print(
                f"[red]Bad option[/red] instance: {escape(str(path))} is not a .json instance file"
            )
            raise typer.Exit(2)
        _load_instance(path)  # a bad file says so now, not in a worker
    for item in scale or ([] if instance else ["S"]):
        size, _, variant = item.partition(":")
        if size.upper() not in SCALES or (variant and variant.lower() not in VARIANTS):
            err.print(
                f"[red]Bad option[/red] scale: {escape(item)}; one of "
                f"{', '.join(SCALES)}, optionally :{'/:'.join(VARIANTS)}"
            )
            raise typer.Exit(2)
        scales.append(size.upper() + (f":{variant.lower()}" if variant else ""))
    with err.status(
        f"benchmarking {', '.join(scales)} x {seeds} seed(s) x {len(chosen)} solver(s)…"
    ):
        runs = bench(scales, list(range(1, seeds + 1)), time_limit, chosen, values)
    paths = write(runs, time_limit, output)
    console.print(markdown(runs, time_limit), soft_wrap=True, markup=False)
    console.print(f"written: {', '.join(str(p) for p in paths.values())}")
