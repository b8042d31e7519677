"""The priority policy audited: how each of its components falls across groups of the
households waiting, before the policy ranks anyone.

For the agency's priority file (:mod:`agency.priority`) and the households waiting now
(one office, or all), each household's priority is computed as a round would compute it,
component by component. Then, for each group of the round audit's dimensions (gender,
household type, nationality, each tag), the report gives the group's mean priority, and,
per component, the mean points it earns the group and the share of the group that gets
any. A component is **flagged** for a group when the group's mean points from it fall
under four fifths of the best-scored group of the same dimension (and, ``never``, when no
one of the group gets it while another group does): the component ranks that whole group
down, which may be the policy's intent (minors and single adults) or not.

Aggregates only, as a planner may read them: a group of fewer than 5 households is shown
as ``"<5"`` with no figure; a component that 1 to 4 households of a group get is shown
without its share or mean (``"<5"``), since it could point at them (health needs).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlmodel import Session

from agency.mapping import waiting
from agency.models import Beneficiary, utcnow
from agency.priority import PriorityPolicy, compute

SMALL = 5
FOUR_FIFTHS = 0.8
COMPONENTS = (
    "base",
    "exploitation_victim",
    "informal_settlement",
    "minors",
    "health",
    "days_waiting",
)
"""The components :func:`agency.priority.compute` scores, in its order."""
DIMENSIONS = ("gender", "household", "nationality", "tag")


def household_type(b: Beneficiary) -> str:
    """As the round audit (:func:`matching.audit.household_type`) names it."""
    if b.minors:
        return "family_with_minors"
    return {1: "single_adult", 2: "couple"}.get(b.adults, "adults_only")


def _groups_of(b: Beneficiary) -> list[tuple[str, str]]:
    out = [("gender", str(b.gender)), ("household", household_type(b))]
    if b.nationality:
        out.append(("nationality", b.nationality))
    out += [("tag", t) for t in sorted(set(b.tags or []))]
    return out


def _shown(n: int) -> int | str:
    return n if n == 0 or n >= SMALL else f"<{SMALL}"


@dataclass(frozen=True)
class PriorityAudit:
    """The audit of a priority policy on a waiting list (see the module)."""

    on: date
    policy: dict[str, int]
    households: int | str
    overall: dict[str, Any]
    groups: list[dict[str, Any]]
    flags: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "policy": self.policy,
            "households": self.households,
            "components": list(COMPONENTS),
            "overall": self.overall,
            "groups": self.groups,
            "flags": self.flags,
        }


def _figures(scores: list[dict[str, int]]) -> dict[str, Any]:
    """A set of households' figures: the mean total, and per component the mean points
    and the share that gets any (hidden when 1 to 4 get it)."""
    n = len(scores)
    out: dict[str, Any] = {
        "households": _shown(n),
        "mean_priority": round(sum(s["total"] for s in scores) / n, 2) if n >= SMALL else None,
        "components": {},
    }
    for c in COMPONENTS:
        got = sum(1 for s in scores if s.get(c, 0) > 0)
        if n < SMALL:  # not even whether anyone of it gets a component
            out["components"][c] = {"mean_points": None, "share": None, "households": None}
        elif 0 < got < SMALL:
            out["components"][c] = {"mean_points": None, "share": None, "households": _shown(got)}
        else:
            out["components"][c] = {
                "mean_points": round(sum(s.get(c, 0) for s in scores) / n, 2),
                "share": round(got / n, 4),
                "households": got,
            }
    return out


def priority_audit(
    session: Session,
    office_id: int | None = None,
    policy: PriorityPolicy | None = None,
    on: date | None = None,
) -> PriorityAudit:
    """How ``policy`` (the agency's file by default) scores the households waiting now
    (in ``office_id``, or all), group by group; nothing is written."""
    policy = policy or PriorityPolicy.load()
    on = on or utcnow().date()
    scores: list[tuple[Beneficiary, dict[str, int]]] = []
    for b in waiting(session, office_id):
        total, lines = compute(b, policy, on)
        s: dict[str, int] = defaultdict(int)
        for line in lines:
            s[str(line["component"])] += int(line["points"])
        s["total"] = total
        scores.append((b, dict(s)))
    members: dict[tuple[str, str], list[dict[str, int]]] = defaultdict(list)
    for b, s in scores:
        for key in _groups_of(b):
            members[key].append(s)
    order = sorted(members, key=lambda k: (DIMENSIONS.index(k[0]), k[1]))
    # exact means per group (for the flags), over groups large enough to be shown
    exact: dict[tuple[str, str], dict[str, float]] = {
        key: {c: sum(x.get(c, 0) for x in members[key]) / len(members[key]) for c in COMPONENTS}
        for key in order
        if len(members[key]) >= SMALL
    }
    best: dict[tuple[str, str], float] = {}
    for (dim, _g), group_means in exact.items():
        for c, m in group_means.items():
            best[dim, c] = max(best.get((dim, c), 0.0), m)
    groups, flags = [], []
    for dim, g in order:
        row = {"dimension": dim, "group": g, **_figures(members[dim, g]), "flagged": []}
        means = exact.get((dim, g))
        if means is not None:
            for c in COMPONENTS:
                top = best[dim, c]
                if top > 0 and means[c] < FOUR_FIFTHS * top:
                    flag = {
                        "dimension": dim,
                        "group": g,
                        "component": c,
                        "ratio_to_best": round(means[c] / top, 4),
                        "never": means[c] == 0,
                    }
                    row["flagged"].append(c)
                    flags.append(flag)
        groups.append(row)
    return PriorityAudit(
        on=on,
        policy={f.name: getattr(policy, f.name) for f in fields(policy)},
        households=_shown(len(scores)),
        overall=_figures([s for _b, s in scores]),
        groups=groups,
        flags=flags,
    )
