"""What a planner may see of a solved variant: aggregates only, never identities.

:func:`summarize` turns an instance and its result into counts, sums and
distributions: households and persons housed (by gender, household type and tag),
money per month and committed, budget used per fund, commute mean, 90th percentile and
histogram, unplaced households by reason, solve status and gap. No beneficiary id,
unit id or per-person row ever enters a summary, so the planner role can be given
it as it is. :func:`difference` compares two summaries key by key.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from matching.audit import audit
from matching.instance import Beneficiary, Instance, dumps, instance_to_dict
from matching.result import Result
from matching.validate import Violation

__all__ = [
    "COMMUTE_BIN_KM",
    "HOUSEHOLD_TYPES",
    "difference",
    "flatten",
    "household_type",
    "instance_sha256",
    "summarize",
]

HOUSEHOLD_TYPES = ("single_adult", "couple", "single_parent", "family")
"""``single_adult`` (1 adult), ``couple`` (2+ adults, no minors), ``single_parent`` (at
most one adult, with minors), ``family`` (2+ adults with minors)."""
COMMUTE_BIN_KM = 2.5
"""Width of the commute histogram's bins."""
NOT_COMPARED = ("solve_seconds", "commute.histogram")
"""Keys :func:`difference` leaves out (timings, and distributions shown as plots)."""


def instance_sha256(inst: Instance) -> str:
    """SHA-256 of the instance's canonical JSON (``dumps(instance_to_dict(inst))``)."""
    return hashlib.sha256(dumps(instance_to_dict(inst)).encode("utf-8")).hexdigest()


def household_type(b: Beneficiary) -> str:
    """One of :data:`HOUSEHOLD_TYPES`."""
    if b.minors == 0:
        return "single_adult" if b.adults <= 1 else "couple"
    return "single_parent" if b.adults <= 1 else "family"


def _tags(inst: Instance) -> list[str]:
    tags = sorted(
        {t for b in inst.beneficiaries for t in b.tags}
        | {t for f in inst.funds for t in f.eligible_tags}
    )
    return [*tags, "untagged"]


def _persons_by(bens: list[Beneficiary], keys: list[str], key_of: Any) -> dict[str, int]:
    out = dict.fromkeys(keys, 0)
    for b in bens:
        for k in key_of(b):
            out[k] = out.get(k, 0) + b.persons
    return out


def summarize(
    inst: Instance, result: Result, violations: list[Violation] | tuple[()] = ()
) -> dict[str, Any]:
    """Aggregates of one solved variant (JSON-ready; no identities).

    Parameters
    ----------
    inst
        The variant's instance.
    result
        Its result.
    violations
        What :func:`matching.validate.validate` found (only their codes are kept).

    Returns
    -------
    dict
        ``status``, ``gap``, ``weight``, ``bound_weight``, ``solve_seconds``,
        ``violations`` (count by code), ``totals`` (the round's households, persons,
        units, beds and budget), ``housed``, ``money``, ``commute``, ``unplaced`` and
        ``audit`` (:meth:`matching.audit.RoundAudit.to_dict` without names: each group's
        rates with small counts as ``"<5"``, and the priority inversions counted by why
        they stand, never listed).
    """
    placed_ids = {a.beneficiary for a in result.assignments}
    placed = [b for b in inst.beneficiaries if b.id in placed_ids]
    unplaced = [b for b in inst.beneficiaries if b.id not in placed_ids]
    months = inst.policy.contribution_months
    genders = ["F", "M", "X"]
    tags = _tags(inst)

    def tag_keys(b: Beneficiary) -> tuple[str, ...]:
        return b.tags or ("untagged",)

    in_dwellings = sum(1 for a in result.assignments if a.room is None)
    per_month = sum(a.contribution_cents for a in result.assignments)
    funds: dict[str, dict[str, Any]] = {}
    for f in inst.funds:
        used = sum(a.contribution_cents for a in result.assignments if a.fund == f.id) * months
        funds[f.id] = {
            "budget_cents": f.budget_cents,
            "used_cents": used,
            "share_used": round(used / f.budget_cents, 4) if f.budget_cents else 0.0,
        }

    km = np.array(sorted(a.commute_km for a in result.assignments), dtype=float)
    top = max(
        COMMUTE_BIN_KM, math.ceil(float(km.max(initial=0.0)) / COMMUTE_BIN_KM) * COMMUTE_BIN_KM
    )
    edges = np.arange(0.0, top + COMMUTE_BIN_KM / 2, COMMUTE_BIN_KM)
    counts, _ = np.histogram(km, bins=edges)

    reasons = Counter(u.reasons[0] if u.reasons else "unknown" for u in result.unassigned)
    by_id = {b.id: b for b in inst.beneficiaries}
    reason_persons: Counter[str] = Counter()
    for u in result.unassigned:
        reason_persons[u.reasons[0] if u.reasons else "unknown"] += by_id[u.beneficiary].persons
    gap = result.gap
    out: dict[str, Any] = {
        "status": result.status,
        "gap": None if gap is None else round(gap, 6),
        "weight": result.objective.weight,
        "bound_weight": result.bound_weight,
        "solve_seconds": round(result.solve_seconds, 3),
        "violations": dict(sorted(Counter(v.code for v in violations).items())),
        "totals": {
            "households": len(inst.beneficiaries),
            "persons": sum(b.persons for b in inst.beneficiaries),
            "dwellings": len(inst.dwellings),
            "shared_flats": len(inst.shared_flats),
            "beds": sum(f.beds for f in inst.shared_flats),
            "budget_cents": sum(f.budget_cents for f in inst.funds),
            "persons_by_tag": _persons_by(list(inst.beneficiaries), tags, tag_keys),
        },
        "housed": {
            "households": len(placed),
            "persons": sum(b.persons for b in placed),
            "households_in_dwellings": in_dwellings,
            "households_in_beds": len(result.assignments) - in_dwellings,
            "persons_by_gender": _persons_by(placed, genders, lambda b: (b.gender,)),
            "persons_by_household_type": _persons_by(
                placed, list(HOUSEHOLD_TYPES), lambda b: (household_type(b),)
            ),
            "persons_by_tag": _persons_by(placed, tags, tag_keys),
        },
        "money": {
            "contribution_cents_per_month": per_month,
            "contribution_months": months,
            "committed_cents": per_month * months,
            "funds": funds,
        },
        "commute": {
            "mean_km": round(float(km.mean()), 3) if km.size else None,
            "p90_km": round(float(np.percentile(km, 90)), 3) if km.size else None,
            "histogram": {
                "edges_km": [round(float(e), 3) for e in edges],
                "households": [int(c) for c in counts],
            },
        },
        "unplaced": {
            "households": len(unplaced),
            "persons": sum(b.persons for b in unplaced),
            "by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "persons_by_reason": dict(
                sorted(reason_persons.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
        },
        "audit": audit(inst, result).to_dict(named=False),
    }
    if inst.v2:
        # a stay's months, not contribution_months, is what a placement commits
        committed = sum(a.contribution_cents * a.months for a in result.assignments)
        out["money"]["committed_cents"] = committed
        for f in inst.funds:
            used = sum(a.cost_cents for a in result.assignments if a.fund == f.id)
            out["money"]["funds"][f.id].update(
                used_cents=used,
                share_used=round(used / f.budget_cents, 4) if f.budget_cents else 0.0,
            )
    if inst.shuttles:
        riders = Counter(a.shuttle for a in result.assignments if a.shuttle)
        costs = inst.line_costs
        opened = list(result.lines_opened)
        out["housed"]["households_riding"] = sum(riders.values())
        out["housed"]["households_by_line"] = {x.id: riders.get(x.id, 0) for x in inst.shuttles}
        out["transport"] = {
            "budget_cents": inst.policy.transport_budget_cents or 0,
            "spent_cents": sum(costs.get(x, 0) for x in opened),
            "lines_running": [x.id for x in inst.shuttles if x.running],
            "lines_proposed": [x.id for x in inst.shuttles if not x.running],
            "lines_opened": opened,
        }
    return out


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested summary to ``{"housed.persons": 12, ...}`` (lists are kept as they are)."""
    out: dict[str, Any] = {}
    for k, v in summary.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def difference(variant: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """Numeric differences ``variant - base``, key by key (flattened keys).

    Counts by reason, tag or fund missing on one side count as 0 there; keys in
    :data:`NOT_COMPARED`, text and lists are left out, and so are zero differences.
    """
    fv, fb = flatten(variant), flatten(base)
    prefixes = ("unplaced.by_reason.", "unplaced.persons_by_reason.")
    out: dict[str, Any] = {}
    for key in sorted(set(fv) | set(fb)):
        if any(key == n or key.startswith(n + ".") for n in NOT_COMPARED):
            continue
        a, b = fv.get(key), fb.get(key)
        if a is None and key.startswith(prefixes):
            a = 0
        if b is None and key.startswith(prefixes):
            b = 0
        if isinstance(a, bool) or isinstance(b, bool):
            continue
        if isinstance(a, int | float) and isinstance(b, int | float):
            d = a - b
            if isinstance(d, float):
                d = round(d, 6)
            if d != 0:
                out[key] = d
    return out
