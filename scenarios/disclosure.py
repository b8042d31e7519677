"""No small counts about the agency's own people in a planner's report.

A report on the agency's data (an ``agency`` base) says how many persons or households
were housed, left out, by tag, gender, household type, reason or commute band. A count
of 1 to 4 can point at a person ("the one exploitation victim of San Severo was left
out"); such counts are *suppressed* (shown as ``null``, the report saying
``"suppressed_below": 5``), and so is any difference from the base that involves one.
Zero stays: it points at nobody. Money, units and beds are not counts of persons.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

THRESHOLD = 5
COUNT_SECTIONS = ("housed", "unplaced")
COUNT_TOTALS = ("households", "persons", "persons_by_tag")
COUNT_TOP = ("weight", "bound_weight")
AUDIT_COUNTS = ("inversion_counts", "inversions_total")


def _small(v: Any, threshold: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 < v < threshold


def _scrub(node: Any, threshold: int, hidden: set[str], path: str) -> Any:
    if isinstance(node, Mapping):
        return {
            k: _scrub(v, threshold, hidden, f"{path}.{k}" if path else str(k))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_scrub(v, threshold, hidden, path) for v in node]
    if _small(node, threshold):
        hidden.add(path)
        return None
    return node


def _run(run: dict[str, Any], threshold: int, hidden: set[str]) -> dict[str, Any]:
    out = dict(run)
    for key in COUNT_SECTIONS:
        if key in out:
            out[key] = _scrub(out[key], threshold, hidden, key)
    if isinstance(out.get("totals"), Mapping):
        totals = dict(out["totals"])
        for key in COUNT_TOTALS:
            if key in totals:
                totals[key] = _scrub(totals[key], threshold, hidden, f"totals.{key}")
        out["totals"] = totals
    commute = out.get("commute")
    if isinstance(commute, Mapping) and isinstance(commute.get("histogram"), Mapping):
        hist = dict(commute["histogram"])
        hist["households"] = _scrub(
            hist.get("households", []), threshold, hidden, "commute.histogram.households"
        )
        out["commute"] = {**commute, "histogram": hist}
    audit = out.get("audit")
    if isinstance(audit, Mapping):
        # the groups are already shown as "<5" by the audit; the inversions are counts
        # of pairs of households
        out["audit"] = {
            **audit,
            **{
                k: _scrub(audit[k], threshold, hidden, f"audit.{k}")
                for k in AUDIT_COUNTS
                if k in audit
            },
        }
    for key in COUNT_TOP:
        if _small(out.get(key), threshold):
            out[key] = None
            hidden.add(key)
    return out


def suppress_small_counts(report: Mapping[str, Any], threshold: int = THRESHOLD) -> dict[str, Any]:
    """The report with every count of persons or households from 1 to ``threshold - 1``
    replaced by None, and the differences that involve one removed."""
    out = copy.deepcopy(dict(report))
    hidden: set[str] = set()
    runs = [out["base"], *out.get("variants", [])]
    scrubbed = [_run(r, threshold, hidden) for r in runs]
    for r in scrubbed:
        diff = r.get("difference")
        if isinstance(diff, Mapping):
            r["difference"] = {
                k: v
                for k, v in diff.items()
                if not any(k == h or k.startswith(h + ".") for h in hidden)
                and not (
                    _small(abs(v), threshold)
                    and k.split(".")[0] in (*COUNT_SECTIONS, *COUNT_TOP, "audit")
                )
            }
    out["base"], out["variants"] = scrubbed[0], scrubbed[1:]
    out["suppressed_below"] = threshold
    return out
