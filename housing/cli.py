"""``housing``: solve, check and explain allocation rounds from the command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from housing.cli_scenario import scenario_app
from housing.ui import console, err, euro, live_progress
from matching.explain import REASON_TEXT
from matching.instance import Instance, InstanceError, load_instance, save_instance
from matching.params import SolveParams
from matching.result import Result, ResultFormatError, load_result, save_result
from matching.solve import solve
from matching.validate import validate

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Housing-match: allocation rounds of the housing agency.")
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
    t.add_row("households placed", f"{len(res.assignments)} of {len(inst.beneficiaries)} "
                                   f"({persons} persons)")
    t.add_row("contribution", f"{euro(res.objective.contribution_cents)} a month, "
                              f"{euro(res.objective.contribution_cents * months)} committed")
    n = max(1, len(res.assignments))
    t.add_row("commute", f"{res.objective.commute_km:,.1f} km in all, "
                         f"{res.objective.commute_km / n:.1f} km on average")
    for f in inst.funds:
        used = sum(a.contribution_cents for a in res.assignments if a.fund == f.id) * months
        t.add_row(f"fund {f.id}", f"{euro(used)} of {euro(f.budget_cents)}")
    reasons: dict[str, int] = {}
    for u in res.unassigned:
        reasons[u.reasons[0]] = reasons.get(u.reasons[0], 0) + 1
    for code, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        t.add_row(f"unplaced: {code}", str(count))
    t.add_row("time", f"{res.solve_seconds:.2f} s "
                      f"(eligibility {res.timings.get('eligibility', 0):.2f} s, "
                      f"{res.engine.get('pairs', '?')} pairs)")
    return t


@app.command("solve")
def solve_cmd(
    instance: Annotated[Path, typer.Argument(help="Instance file (housing-match/instance@1).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Result file.")] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds for the whole solve.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same result).")] = 0,
    workers: Annotated[int, typer.Option(help="CP-SAT search workers.")] = 1,
    log: Annotated[bool, typer.Option(help="Write CP-SAT's search log to stderr.")] = False,
) -> None:
    """Solve a round: place households to the spec's lexicographic objective."""
    inst = _load_instance(instance)
    try:
        params = SolveParams(time_limit=time_limit, seed=seed, workers=workers, log=log)
    except ValueError as exc:
        err.print(f"[red]Bad option[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    if log:
        logging.basicConfig(level=logging.DEBUG, format="%(message)s")
    with live_progress() as show:
        res = solve(inst, params, progress=show)
    console.print(summary_table(inst, res))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        save_result(res, output)
        console.print(f"result written to {output}")


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
    console.print(f"[green]✓[/green] {result} is a valid {res.status} result for "
                  f"{inst.name} ({len(res.assignments)} placements)")


@app.command("explain")
def explain_cmd(
    result: Annotated[Path, typer.Argument(help="Result file.")],
    beneficiary: Annotated[str | None, typer.Argument(
        help="Beneficiary id, e.g. B017; omitted: every unplaced household.")] = None,
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
        paid = f", {euro(a.contribution_cents)}/month from {a.fund}" if a.fund else \
            ", no contribution needed"
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
        holders = ", ".join(f"{b} (weight {w})" for b, w in
                            zip(item["by"], item["weights"], strict=False))
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
        "instance.json"),
) -> None:
    """Write a synthetic Puglia round at a benchmark scale."""
    from scenarios.synthetic import generate

    try:
        inst = generate(scale.upper(), seed)
    except (KeyError, ValueError) as exc:
        err.print(f"[red]Bad option[/red] scale: {escape(str(exc))}")
        raise typer.Exit(2) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    save_instance(inst, output)
    console.print(f"{output}: {len(inst.beneficiaries)} households, {len(inst.dwellings)} "
                  f"dwellings, {len(inst.shared_flats)} shared flats")


@app.command("bench")
def bench_cmd(
    scale: Annotated[list[str], typer.Option(help="Scale(s): XS, S, M, L, XL.")] = ["S"],  # noqa: B006
    seeds: Annotated[int, typer.Option(help="How many seeds (1..N) per scale.")] = 3,
    time_limit: Annotated[float, typer.Option(help="Seconds per solver and instance.")] = 60.0,
    solvers: Annotated[str, typer.Option(help="Comma-separated solvers.")] = (
        "cp-sat,greedy,highs-direct,lp"),
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the results.")] = (
        Path("out/bench")),
) -> None:
    """Run every solver on generated rounds; write JSON, a Markdown table and a PNG."""
    from benchmarks.harness import SOLVERS, bench, markdown, write

    chosen = [s.strip() for s in solvers.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SOLVERS]
    if unknown:
        err.print(f"[red]Bad option[/red] solvers: unknown {escape(', '.join(unknown))}; "
                  f"one of {', '.join(SOLVERS)}")
        raise typer.Exit(2)
    scales = [s.upper() for s in scale]
    with err.status(f"benchmarking {', '.join(scales)} x {seeds} seed(s) x "
                    f"{len(chosen)} solver(s)…"):
        runs = bench(scales, list(range(1, seeds + 1)), time_limit, chosen)
    paths = write(runs, time_limit, output)
    console.print(markdown(runs, time_limit), soft_wrap=True, markup=False)
    console.print(f"written: {', '.join(str(p) for p in paths.values())}")


from housing import cli_agency  # noqa: E402  (registers on `app`, defined above)

cli_agency.register(app)
from housing import cli_service  # noqa: E402  (serve, user add, office add)

cli_service.register(app)

from housing import cli_privacy  # noqa: E402

cli_privacy.register(app)
