"""The scenario report: JSON, CSV, plots and one self-contained HTML page.

Everything here works on the report dictionary of
:meth:`scenarios.runner.ScenarioReport.to_dict`, which holds aggregates only, so
nothing written can identify a household. Plots are drawn with matplotlib on its Agg
canvas (no display, no global pyplot state) and embedded in the HTML as base64 PNG:
the page needs no other file.

==========================  ==================================================
file                        what it holds
==========================  ==================================================
``report.json``             the whole report
``report.csv``              one row per run (base first), flattened keys, and
                            the differences against the base
``report.html``             the findings per run in plain words (Italian and
                            English), tables and the three plots, self-contained
``budget_vs_persons.png``   budget available against persons housed
``commute.png``             commute distribution of each run
``unplaced.png``            unplaced households by reason
==========================  ==================================================
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from scenarios.findings import report_findings
from scenarios.summary import HOUSEHOLD_TYPES, flatten
from sheets import csv_bytes

__all__ = [
    "PLOTS",
    "csv_text",
    "plot_budget_vs_persons",
    "plot_commute",
    "plot_unplaced",
    "render_html",
    "write_report",
]

PLOTS: dict[str, tuple[str, str]] = {
    "budget_vs_persons": (
        "Budget against persons housed",
        "Total budget of the funds for the round (x) against persons "
        "housed (y); the base is the square, sweeps are joined in order.",
    ),
    "commute": (
        "Commute distribution",
        "Households placed by commute (km, bins of 2.5 km), one line per run.",
    ),
    "unplaced": (
        "Unplaced households by reason",
        "Households left out, by their main reason (see matching/explain.py).",
    ),
}
MAX_LINES = 8
"""At most this many runs drawn in the commute plot (the base and the first others)."""
_DPI = 110


def _runs(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [report["base"], *report["variants"]]


def _ok(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [v for v in _runs(report) if v.get("status") != "ERROR"]


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def plot_budget_vs_persons(report: Mapping[str, Any]) -> bytes:
    """PNG: total budget (euro) against persons housed, one point per run."""
    fig = Figure(figsize=(7.5, 4.6))
    ax = fig.add_subplot()
    runs = _ok(report)
    groups: dict[str, list[dict[str, Any]]] = {}
    for v in runs:
        groups.setdefault(v["group"], []).append(v)
    for g, vs in groups.items():
        x = [v["totals"]["budget_cents"] / 100 for v in vs]
        y = [v["housed"]["persons"] for v in vs]
        if g == "base":
            ax.scatter(x, y, marker="s", s=70, color="black", zorder=3, label="base")
        else:
            style = "o-" if len(vs) > 1 else "o"
            ax.plot(x, y, style, markersize=6, label=g)
        for k, (v, xi, yi) in enumerate(zip(vs, x, y, strict=True)):
            label = v["sweep"]["value"] if v.get("sweep") else v["name"]
            ax.annotate(
                str(label),
                (xi, yi),
                textcoords="offset points",
                xytext=(5, 5 if k % 2 == 0 or g == "base" else -12),
                fontsize=8,
            )
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("budget of the funds for the round (€)")
    ax.set_ylabel("persons housed")
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.grid(alpha=0.3)
    if runs:
        ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{report['scenario']['name']}: budget against persons housed", fontsize=10)
    return _png(fig)


def plot_commute(report: Mapping[str, Any]) -> bytes:
    """PNG: the commute histogram of each run (at most :data:`MAX_LINES`)."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    runs = _ok(report)[:MAX_LINES]
    for k, v in enumerate(runs):
        h = v["commute"]["histogram"]
        if not h["households"]:
            continue
        style: dict[str, Any] = (
            {"color": "black", "linewidth": 2.4}
            if v["group"] == "base"
            else {"color": f"C{k % 10}", "linewidth": 1.4}
        )
        ax.stairs(h["households"], h["edges_km"], label=v["name"], **style)
    ax.set_xlabel("commute (km)")
    ax.set_ylabel("households placed")
    ax.grid(alpha=0.3)
    if any(v["commute"]["histogram"]["households"] for v in runs):
        ax.legend(fontsize=8)
    shown = "" if len(_ok(report)) <= MAX_LINES else f" (first {MAX_LINES} runs)"
    ax.set_title(f"Commute distribution{shown}", fontsize=10)
    return _png(fig)


def plot_unplaced(report: Mapping[str, Any]) -> bytes:
    """PNG: unplaced households by main reason, grouped bars per run."""
    runs = _ok(report)
    reasons = sorted({r for v in runs for r in v["unplaced"]["by_reason"]})
    fig = Figure(
        figsize=(7.5, max(2.5, 0.45 * max(1, len(reasons)) * max(1, len(runs)) ** 0.5 + 1.5))
    )
    ax = fig.add_subplot()
    height = 0.8 / max(1, len(runs))
    for k, v in enumerate(runs):
        counts = [v["unplaced"]["by_reason"].get(r, 0) for r in reasons]
        ys = [i + k * height for i in range(len(reasons))]
        ax.barh(
            ys,
            counts,
            height=height,
            label=v["name"],
            color="black" if v["group"] == "base" else None,
        )
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(reasons))], reasons, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("households unplaced")
    ax.grid(alpha=0.3, axis="x")
    if runs:
        ax.legend(fontsize=8)
    ax.set_title("Unplaced households by main reason", fontsize=10)
    return _png(fig)


def plots(report: Mapping[str, Any]) -> dict[str, bytes]:
    """The three plots as PNG bytes, keyed as :data:`PLOTS`."""
    return {
        "budget_vs_persons": plot_budget_vs_persons(report),
        "commute": plot_commute(report),
        "unplaced": plot_unplaced(report),
    }


# --------------------------------------------------------------------------- CSV

_LEAD = (
    "name",
    "group",
    "sweep.key",
    "sweep.value",
    "status",
    "gap",
    "weight",
    "bound_weight",
    "housed.households",
    "housed.persons",
    "money.contribution_cents_per_month",
    "money.committed_cents",
    "totals.budget_cents",
    "commute.mean_km",
    "commute.p90_km",
    "unplaced.households",
    "unplaced.persons",
)


def _audit_columns(audit: Mapping[str, Any]) -> dict[str, Any]:
    """The audit's groups as columns: each group's rate, ratio to the best-served group
    and four-fifths flag (``audit.<dimension>.<group>.rate`` …)."""
    out: dict[str, Any] = {}
    for g in audit.get("groups", []):
        at = f"audit.{g['dimension']}.{g['group']}"
        out[f"{at}.waiting"] = g["waiting"]
        out[f"{at}.rate"] = g["rate"]
        out[f"{at}.ratio_to_best"] = g["ratio_to_best"]
        out[f"{at}.flagged"] = g["flagged"]
    return out


def _row(v: Mapping[str, Any]) -> dict[str, Any]:
    audit = v.get("audit") or {}
    flat = flatten({k: val for k, val in v.items() if k not in ("difference", "audit")})
    flat.update(flatten({k: x for k, x in audit.items() if k != "groups"}, "audit"))
    flat.update(_audit_columns(audit))
    row: dict[str, Any] = {}
    for k, val in flat.items():
        if k.startswith("commute.histogram"):
            continue
        row[k] = "; ".join(map(str, val)) if isinstance(val, list) else val
    for k, val in (v.get("difference") or {}).items():
        row[f"difference.{k}"] = val
    return row


def csv_text(report: Mapping[str, Any]) -> str:
    """One row per run (base first): flattened aggregates and differences from the base."""
    rows = [_row(v) for v in _runs(report)]
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    lead = [k for k in _LEAD if k in keys]
    rest = sorted(k for k in keys if k not in lead and not k.startswith("difference."))
    diffs = sorted(k for k in keys if k.startswith("difference."))
    fields = lead + rest + diffs
    # a variant's name and description come from the planner's file: neutralised cells
    return csv_bytes(
        fields,
        ([("" if r.get(k) is None else r[k]) for k in fields] for r in rows),
        bom=False,
        lineterminator="\n",
    ).decode()


# --------------------------------------------------------------------------- HTML


def _eur(cents: int | None) -> str:
    return "–" if cents is None else f"{cents / 100:,.0f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _km(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _base_text(base: Mapping[str, Any]) -> str:
    if base["kind"] == "generate":
        return f"a generated round (scale {base['scale']}, seed {base['seed']})"
    if base["kind"] == "instance":
        return f"the instance file {base['path']}"
    return "the agency's current data, pseudonymised"


def render_html(report: Mapping[str, Any], images: Mapping[str, bytes] | None = None) -> str:
    """The self-contained HTML page of a report (plots embedded as base64 PNG).

    Parameters
    ----------
    report
        :meth:`scenarios.runner.ScenarioReport.to_dict`.
    images
        The plots (:func:`plots`); drawn here when omitted.
    """
    images = plots(report) if images is None else images
    env = Environment(
        loader=PackageLoader("scenarios", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    runs = _runs(report)
    ok_runs = _ok(report)

    def delta(v: Mapping[str, Any], key: str, money: bool = False) -> str:
        if v["group"] == "base" or "difference" not in v:
            return ""
        d = v["difference"].get(key, 0)
        text = _eur(d) if money else f"{d:g}"
        return f"+{text}" if d > 0 else text if d < 0 else "0"

    def lookup(v: Mapping[str, Any], path: str) -> Mapping[str, Any]:
        node: Any = v
        for k in path.split("."):
            node = node.get(k, {})
        return node if isinstance(node, Mapping) else {}

    tags = sorted({t for v in ok_runs for t in v["totals"]["persons_by_tag"]})
    reasons = sorted({r for v in ok_runs for r in v["unplaced"]["by_reason"]})
    breakdowns: Sequence[tuple[str, str, Sequence[str]]] = (
        ("Persons housed by gender", "housed.persons_by_gender", ("F", "M", "X")),
        ("Persons housed by household type", "housed.persons_by_household_type", HOUSEHOLD_TYPES),
        ("Persons housed by tag", "housed.persons_by_tag", tags),
        ("Households unplaced by main reason", "unplaced.by_reason", reasons),
    )
    fund_ids: list[str] = []
    for v in ok_runs:
        fund_ids += [f for f in v["money"]["funds"] if f not in fund_ids]
    line_ids: list[str] = []
    for v in ok_runs:
        by_line = v.get("housed", {}).get("households_by_line") or {}
        line_ids += [x for x in by_line if x not in line_ids]
    template = env.get_template("report.html.j2")
    return template.render(
        r=report,
        line_ids=line_ids,
        runs=runs,
        ok_runs=ok_runs,
        fund_ids=fund_ids,
        breakdowns=breakdowns,
        base_text=_base_text(report["scenario"]["base"]),
        plots=[
            {
                "title": PLOTS[k][0],
                "caption": PLOTS[k][1],
                "data": base64.b64encode(images[k]).decode("ascii"),
            }
            for k in PLOTS
            if k in images
        ],
        eur=_eur,
        pct=_pct,
        km=_km,
        delta=delta,
        lookup=lookup,
        findings={lang: report_findings(report, lang) for lang in ("it", "en")},
        cut=[v["name"] for v in runs if v.get("status") not in ("OPTIMAL", "ERROR")],
    )


def write_report(report: Mapping[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.csv``, ``report.html`` and the plots' PNG files.

    Parameters
    ----------
    report
        :meth:`scenarios.runner.ScenarioReport.to_dict`.
    out_dir
        The folder (created if needed).

    Returns
    -------
    dict
        The paths written, keyed ``json``, ``csv``, ``html`` and each plot's name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = plots(report)
    paths: dict[str, Path] = {}
    paths["json"] = out / "report.json"
    paths["json"].write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["csv"] = out / "report.csv"
    paths["csv"].write_text(csv_text(report), encoding="utf-8")
    paths["html"] = out / "report.html"
    paths["html"].write_text(render_html(report, images), encoding="utf-8")
    for name, data in images.items():
        paths[name] = out / f"{name}.png"
        paths[name].write_bytes(data)
    return paths
