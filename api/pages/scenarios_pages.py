"""The planners' scenario pages: the common variants on a form (no TOML to write), or a
scenario file uploaded; a run followed until done; its whole report (findings in plain
words, comparison, plots, money per fund, reasons, differences from the base), and the
self-contained report.html to download. Aggregates only: never a name or a ref."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from agency import jobs, records
from api import permissions as perms
from api.deps import EngineDep, Principal, SessionDep, page
from api.errors import ApiError
from api.job_handlers import SCENARIO
from api.pages.common import Form, FormDep, redirect, render, translator
from api.routes.scenarios import MAX_SPEC_BYTES, _owner, read_spec, retry_run, submit
from scenarios.findings import report_findings
from scenarios.report import (
    plot_budget_vs_persons,
    plot_commute,
    plot_unplaced,
    render_html,
)
from scenarios.simple import Beds, Money, Reach, SimpleScenario, scenario_text

router = APIRouter()

Planner = Annotated[Principal, page(perms.SCENARIOS_RUN)]

SIMPLE_LABELS = {
    "name": "scenarios.form.name",
    "base": "scenarios.form.base",
    "time_limit": "scenarios.form.time_limit",
    "money_fund": "scenarios.form.money_fund",
    "money_euros": "scenarios.form.money_euros",
    "reach_place": "scenarios.form.reach_place",
    "reach_radius": "scenarios.form.reach_radius",
    "reach_extra": "scenarios.form.reach_extra",
    "beds_municipality": "scenarios.form.beds_municipality",
    "beds_flats": "scenarios.form.beds_flats",
    "beds_rooms": "scenarios.form.beds_rooms",
    "beds_per_room": "scenarios.form.beds_per_room",
    "_": "form.whole",
}


def _list_page(
    request: Request,
    session: Session,
    me: Principal,
    error: str | None = None,
    f: Form | None = None,
    status: int = 200,
) -> Response:
    t = translator(request)
    runs = records.list_scenario_runs(session, user_id=_owner(me), limit=50).items
    funds = records.list_funds(session, active=True, limit=200).items
    values = (
        f.values()
        if f
        else {
            "name": "",
            "time_limit": "20",
            "reach_radius": t.decimal_input(10),
            "reach_extra": t.decimal_input(15),
            "beds_flats": "5",
            "beds_rooms": "2",
            "beds_per_room": "2",
        }
    )
    return render(
        request,
        "scenarios.html",
        {
            "runs": runs,
            "error": error,
            "funds": funds,
            "values": values,
            "errors": f.errors if f else {},
            "summary": f.summary if f else [],
        },
        status,
    )


@router.get("/scenarios")
def scenarios(request: Request, me: Planner, session: SessionDep) -> Response:
    return _list_page(request, session, me)


@router.post("/scenarios")
def run_scenario(
    request: Request, form: FormDep, me: Planner, session: SessionDep, engine: EngineDep
) -> Response:
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile):
            raise ApiError(422, translator(request)("scenarios.choose_file"))
        text = read_spec(upload.file.read(MAX_SPEC_BYTES + 1))
        run, _job = submit(
            request, session, engine, me, text, (upload.filename or "scenario.toml")[:100]
        )
    except ApiError as exc:
        session.rollback()
        problems = "; ".join(f"{f['field']}: {f['message']}" for f in exc.fields)
        return _list_page(
            request,
            session,
            me,
            exc.message + (f" ({problems})" if problems else ""),
            None,
            exc.status,
        )
    return redirect(f"/scenarios/{run.ref}")


def _amounts(f: Form, name: str) -> tuple[Decimal, ...]:
    """Euros, one or several separated by ';' (each read the page's way)."""
    raw = f.text(name) or ""
    out = []
    for part in raw.split(";"):
        if part.strip():
            try:
                out.append(f.t.parse_decimal(part))
            except ValueError:
                f.fail(
                    name,
                    "error.type.number",
                    value=part.strip(),
                    example=f.t.decimal_input(Decimal("10000"), 0),
                )
    return tuple(out)


def simple_scenario(f: Form) -> SimpleScenario:
    """The common variants filled in on the form."""
    name = f.text("name") or "what-if"
    limit = f.decimal("time_limit")
    money, reach, beds = [], [], []
    fund = f.text("money_fund")
    euros = _amounts(f, "money_euros")
    if fund and euros:
        money.append(Money(fund, euros))
    elif fund or euros:
        f.fail("money_euros" if fund else "money_fund", "error.type.missing")
    place = f.text("reach_place")
    if place:
        radius, extra = f.decimal("reach_radius"), f.decimal("reach_extra")
        if radius is None or extra is None:
            f.fail("reach_extra" if radius else "reach_radius", "error.type.missing")
        else:
            reach.append(
                Reach(
                    place, radius, extra, "informal_settlement" if f.flag("reach_camps") else None
                )
            )
    town = f.text("beds_municipality")
    if town:
        f.place("beds_municipality")
        counts = [f.decimal(k) for k in ("beds_flats", "beds_rooms", "beds_per_room")]
        if any(c is None or c != int(c) or c < 1 for c in counts):
            f.fail("beds_flats", "error.type.int_parsing")
        else:
            beds.append(Beds(town, *(int(c or 0) for c in counts)))
    if not (money or reach or beds) and not f.errors:
        f.fail("_", "scenarios.form.nothing")
    base = "example" if f.text("base") == "example" else "agency"
    return SimpleScenario(
        name=name[:60], base=base, time_limit=int(limit or 20), money=money, reach=reach, beds=beds
    )


@router.post("/scenarios/simple")
def run_simple(
    request: Request, form: FormDep, me: Planner, session: SessionDep, engine: EngineDep
) -> Response:
    """Run the common variants of the form: no TOML to write."""
    f = Form(form, translator(request), SIMPLE_LABELS)
    spec = simple_scenario(f)
    if f.errors:
        return _list_page(request, session, me, None, f, 422)
    try:
        run, _job = submit(request, session, engine, me, scenario_text(spec, f.t.lang), "form.toml")
    except ApiError as exc:
        session.rollback()
        for field in exc.fields:
            f.errors.setdefault("_", f"{field['field']}: {field['message']}")
        if not exc.fields:
            f.errors["_"] = exc.message
        return _list_page(request, session, me, None, f, exc.status)
    return redirect(f"/scenarios/{run.ref}")


PLOTS = {
    "budget_vs_persons": plot_budget_vs_persons,
    "commute": plot_commute,
    "unplaced": plot_unplaced,
}
PLOTTED = {
    "budget_vs_persons": ("housed.persons",),
    "commute": ("commute.histogram.households",),
    "unplaced": ("unplaced.by_reason",),
}
"""What each plot draws: a plot of counts some of which are suppressed (the agency's own
data, counts of 1 to 4) is left out rather than drawn with them as zeros."""


def _hidden(report: dict[str, Any], plot: str) -> bool:
    def has_none(node: Any) -> bool:
        if isinstance(node, dict):
            return any(has_none(v) for v in node.values())
        if isinstance(node, list):
            return any(has_none(v) for v in node)
        return node is None

    for run in _rows(report):
        if run.get("status") == "ERROR":
            continue
        for path in PLOTTED[plot]:
            node: Any = run
            for key in path.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            if has_none(node):
                return True
    return False


def _rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [report["base"], *report.get("variants", [])] if report.get("base") else []


@router.get("/scenarios/{ref}")
def scenario(request: Request, me: Planner, session: SessionDep, ref: str) -> Response:
    run = records.get_scenario_run(session, ref, user_id=_owner(me))
    report: dict[str, Any] = run.report or {}
    rows = _rows(report)
    t = translator(request)
    job = jobs.latest_for(session, SCENARIO, run.ref)
    context: dict[str, Any] = {
        "run": run,
        "rows": rows,
        "position": jobs.queue_position(session, job) if job else None,
    }
    if rows:
        ok = [v for v in rows if v.get("status") != "ERROR"]
        context.update(
            findings=report_findings(report, t.lang),
            cut=[v["name"] for v in rows if v.get("status") not in ("OPTIMAL", "ERROR")],
            images={
                k: base64.b64encode(draw(report)).decode("ascii")
                for k, draw in PLOTS.items()
                if not _hidden(report, k)
            },
            ok_rows=ok,
            fund_ids=sorted({f for v in ok for f in v["money"]["funds"]}),
            reasons=sorted({r for v in ok for r in v["unplaced"]["by_reason"]}),
            diffs=[
                (
                    v["name"],
                    sorted(
                        (k, d)
                        for k, d in (v.get("difference") or {}).items()
                        if isinstance(d, int | float)
                    ),
                )
                for v in report.get("variants", [])
            ],
        )
    return render(request, "scenario.html", context)


@router.post("/scenarios/{ref}/retry")
def retry(request: Request, form: FormDep, me: Planner, session: SessionDep, ref: str) -> Response:
    retry_run(request, session, me, ref)
    return redirect(f"/scenarios/{ref}")


@router.get("/scenarios/{ref}/report.html")
def scenario_report(me: Planner, session: SessionDep, ref: str) -> Response:
    """The run's self-contained report page (as ``housing scenario run`` writes it)."""
    run = records.get_scenario_run(session, ref, user_id=_owner(me))
    if not run.report or not run.report.get("base"):
        raise ApiError(404, f"scenario run {ref} has no report yet")
    report = dict(run.report)
    images = {k: draw(report) for k, draw in PLOTS.items() if not _hidden(report, k)}
    return HTMLResponse(
        render_html(report, images),
        headers={"Content-Disposition": f'attachment; filename="{run.ref}-report.html"'},
    )
