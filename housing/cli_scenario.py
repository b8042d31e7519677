"""``housing scenario``: check and run what-if scenario files (``scenarios/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from housing.extras import needs
from housing.ui import console, err
from matching.params import SolveParams
from scenarios.spec import AgencyBase, AgencyData, ScenarioError, ScenarioSpec, load_spec

scenario_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="What-if scenarios: variants of a round, solved and compared.",
)


def _fail(exc: ScenarioError) -> typer.Exit:
    err.print(f"[red]Invalid scenario[/red] {escape(str(exc))}")
    return typer.Exit(2)


def _load(path: Path) -> ScenarioSpec:
    try:
        return load_spec(path)
    except ScenarioError as exc:
        raise _fail(exc) from exc


def _agency_data(spec: ScenarioSpec) -> AgencyData | None:
    """For an ``agency`` base, the agency's data now, pseudonymised (the agency extra)."""
    if not isinstance(spec.base, AgencyBase):
        return None
    with needs("agency", "a scenario on the agency's data"):
        from agency.snapshot import snapshot_instance
    return snapshot_instance


@scenario_app.command("check")
def check_cmd(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML).")],
) -> None:
    """Check a scenario file and its overrides against the base, without solving."""
    spec = _load(file)
    try:
        base = spec.load_base(_agency_data(spec))
    except ScenarioError as exc:
        raise _fail(exc) from exc
    errors = spec.check_against(base)
    if errors:
        raise _fail(ScenarioError(errors, str(file)))
    console.print(
        f"[green]✓[/green] {file}: base of {len(base.beneficiaries)} households, "
        f"{len(spec.variants)} variant(s): "
        f"{escape(', '.join(v.name for v in spec.variants))}"
    )


def _eur(cents: int) -> str:
    return f"€{cents / 100:,.0f}"


def _signed(x: float, money: bool = False) -> str:
    if x == 0 or (money and abs(x) < 50):  # under half a euro: shown as no change
        return ""
    text = _eur(int(abs(x))) if money else f"{abs(x):g}"
    return f" ({'+' if x > 0 else '-'}{text})"


def summary_table(report: dict[str, Any]) -> Table:
    """One row per run: status, people housed, money, commute, with the base's deltas."""
    t = Table(title=f"Scenario {report['scenario']['name']}", title_justify="left")
    names = [str(v["name"]) for v in [report["base"], *report["variants"]]]
    for col in (
        "variant",
        "status",
        "gap",
        "households",
        "persons",
        "€/month",
        "commute km mean/p90",
        "unplaced",
    ):
        if col == "variant":  # a variant's name is never cut: the others wrap instead
            t.add_column(
                col, justify="left", no_wrap=True, min_width=max(len(col), *map(len, names))
            )
        else:
            t.add_column(col, justify="right", overflow="fold")
    for v in [report["base"], *report["variants"]]:
        if v["status"] == "ERROR":
            t.add_row(escape(v["name"]), "[red]ERROR[/red]", escape(v.get("error", "")))
            continue
        d = v.get("difference", {})
        gap = "-" if v["gap"] is None else f"{100 * v['gap']:.2f}%"
        mean, p90 = v["commute"]["mean_km"], v["commute"]["p90_km"]
        t.add_row(
            escape(v["name"]),
            v["status"] + (" [red]✗[/red]" if v["violations"] else ""),
            gap,
            f"{v['housed']['households']}{_signed(d.get('housed.households', 0))}",
            f"{v['housed']['persons']}{_signed(d.get('housed.persons', 0))}",
            _eur(v["money"]["contribution_cents_per_month"])
            + _signed(d.get("money.contribution_cents_per_month", 0), money=True),
            "-" if mean is None or p90 is None else f"{mean:.1f} / {p90:.1f}",
            f"{v['unplaced']['households']}{_signed(d.get('unplaced.households', 0))}",
        )
    return t


def print_summary(out: Console, report: dict[str, Any]) -> None:
    """The comparison table, as wide as it needs to be: on a narrow terminal its lines run
    past the edge rather than cut a variant's name."""
    table = summary_table(report)
    needed = Measurement.get(out, out.options.update(width=10_000), table).maximum
    width = out.width
    out.width = max(width, needed)  # print() never draws wider than the console
    try:
        out.print(table, crop=False)
    finally:
        out.width = width


@scenario_app.command("run")
def run_cmd(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML).")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Report folder (default: out/scenarios/<name>)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 (default: local processes)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local processes (default: one per CPU).", min=1)
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds per solve (default: the file's, else 20).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Solver seed for every variant (default: the file's, else 0)."),
    ] = None,
) -> None:
    """Solve the base and every variant in parallel; write JSON, CSV, HTML and plots."""
    with needs("scenarios", "housing scenario run"):
        from scenarios.findings import report_findings
        from scenarios.report import write_report
        from scenarios.runner import dask_executor, run_scenarios

    spec = _load(file)
    agency = _agency_data(spec)
    try:
        params = SolveParams(
            time_limit=time_limit if time_limit is not None else spec.time_limit,
            seed=seed if seed is not None else spec.seed,
        )
    except ValueError as exc:
        err.print(f"[red]Bad option[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    out = output if output is not None else Path("out") / "scenarios" / spec.name
    total = len(spec.variants) + 1
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"scenario {spec.name}", total=total, last="")

        def progress(done: int, n: int, name: str) -> None:
            bar.update(task, completed=done, last=f"done: {name}")

        try:
            if scheduler:
                with dask_executor(scheduler) as executor:
                    report = run_scenarios(
                        spec,
                        executor=executor,
                        params=params,
                        progress=progress,
                        agency=agency,
                        executor_name=f"dask {scheduler}",
                    )
            else:
                report = run_scenarios(
                    spec, params=params, workers=workers, progress=progress, agency=agency
                )
        except ScenarioError as exc:
            raise _fail(exc) from exc
        except OSError as exc:  # the scheduler cannot be reached
            err.print(
                f"[red]Cannot reach the scheduler[/red] {escape(str(scheduler))}: "
                f"{escape(str(exc))}"
            )
            raise typer.Exit(2) from exc
    data = report.to_dict()
    paths = write_report(data, out)
    print_summary(console, data)
    for name, lines in report_findings(data, "en"):
        console.print(f"[bold]{escape(name)}[/bold]: {escape(' '.join(lines))}")
    console.print(f"report: {paths['html']} (and report.json, report.csv, plots) in {out}")
    if not report.ok:
        for e in report.errors:
            err.print(f"[red]✗[/red] {escape(e)}")
        raise typer.Exit(1)
