"""The greedy baseline: what an agency does by hand.

Pinned placements first; then households in order of priority (highest first, then
larger weight, then id), each taking its cheapest eligible unit still free (least
contribution, then shortest commute), a bed in a room it may share, and a fund that
can still pay: funds reserved to a tag before general ones, then the one with most left.

It is the comparison point of the benchmarks and the first hint of the solver.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matching.eligibility import Pairs, eligible_pairs
from matching.instance import Gender, Instance
from matching.result import Assignment, Result, objective_of

ENGINE = "greedy"


@dataclass
class _State:
    """Who holds what while the greedy allocation is built."""

    inst: Instance
    dwelling_taken: set[int] = field(default_factory=set)
    room_gender: dict[tuple[int, str], Gender] = field(default_factory=dict)
    room_used: dict[tuple[int, str], int] = field(default_factory=dict)
    fund_left: list[int] = field(default_factory=list)

    def room_for(self, fi: int, gender: Gender, room_id: str | None = None) -> str | None:
        """A room of flat ``fi`` with a free bed for ``gender`` (the named one if given)."""
        flat = self.inst.shared_flats[fi]
        rooms = [r for r in flat.rooms if room_id is None or r.id == room_id]
        # rooms already shared with the same gender first, so empty rooms stay open
        for want_occupied in (True, False):
            for r in rooms:
                used = self.room_used.get((fi, r.id), 0)
                g = self.room_gender.get((fi, r.id))
                if used >= r.beds or (want_occupied and used == 0):
                    continue
                if used == 0 or g == gender:
                    return r.id
        return None

    def fund_for(self, b_tags: tuple[str, ...], amount: int) -> int | None:
        """Index of the fund to charge ``amount`` to, or None if none can."""
        best: tuple[int, int, int] | None = None
        for k, f in enumerate(self.inst.funds):
            if f.eligible(b_tags) and self.fund_left[k] >= amount:
                key = (0 if f.eligible_tags else 1, -self.fund_left[k], k)
                if best is None or key < best:
                    best = key
        return None if best is None else best[2]


def greedy_assignments(inst: Instance, pairs: Pairs,
                       first: Sequence[tuple[int, int]] = ()) -> list[Assignment] | None:
    """The greedy allocation, or None when the pinned placements cannot all be kept.

    ``first`` lists (pair index, fund index or -1) placements to make right after the
    pinned ones, each kept if it still fits (the fund given, or another that can pay):
    the solver completes a rounded LP solution this way.
    """
    st = _State(inst, fund_left=[f.budget_cents for f in inst.funds])
    nd = len(inst.dwellings)
    months = inst.policy.contribution_months
    out: list[Assignment] = []

    def take(bi: int, p: int, room: str | None = None, want_fund: int = -1) -> bool:
        b = inst.beneficiaries[bi]
        ui = int(pairs.unit[p])
        c = int(pairs.contribution_cents[p])
        fund = None
        if c > 0:
            if want_fund >= 0 and st.fund_left[want_fund] >= c * months:
                fund = want_fund
            else:
                fund = st.fund_for(b.tags, c * months)
            if fund is None:
                return False
        if ui < nd:
            if ui in st.dwelling_taken:
                return False
            st.dwelling_taken.add(ui)
        else:
            room = st.room_for(ui - nd, b.gender, room)
            if room is None:
                return False
            key = (ui - nd, room)
            st.room_used[key] = st.room_used.get(key, 0) + 1
            st.room_gender[key] = b.gender
        if fund is not None:
            st.fund_left[fund] -= c * months
        out.append(Assignment(beneficiary=b.id, unit=inst.unit_id(ui), room=room,
                              fund=inst.funds[fund].id if fund is not None else None,
                              contribution_cents=c, commute_km=float(pairs.commute_km[p]),
                              commute_m=int(pairs.commute_m[p])))
        return True

    pinned: set[int] = set()
    for pin in inst.pinned:
        bi, ui = inst.beneficiary_index[pin.beneficiary], inst.unit_index[pin.unit]
        pinned.add(bi)
        sl = pairs.of_beneficiary(bi)
        hit = np.flatnonzero(pairs.unit[sl] == ui)
        if hit.size == 0 or not take(bi, sl.start + int(hit[0]), pin.room):
            return None
    done = set(pinned)
    for p, fk in first:
        bi = int(pairs.beneficiary[p])
        if bi not in done and take(bi, p, want_fund=fk):
            done.add(bi)
    order = sorted((bi for bi in range(len(inst.beneficiaries)) if bi not in done),
                   key=lambda bi: (-inst.beneficiaries[bi].priority,
                                   -inst.weight(inst.beneficiaries[bi]),
                                   inst.beneficiaries[bi].id))
    for bi in order:
        sl = pairs.of_beneficiary(bi)
        if sl.start == sl.stop:
            continue
        cand = np.lexsort((pairs.unit[sl], pairs.commute_km[sl], pairs.contribution_cents[sl]))
        for k in cand.tolist():
            if take(bi, sl.start + k):
                break
    out.sort(key=lambda a: inst.beneficiary_index[a.beneficiary])
    return out


def solve_greedy(inst: Instance, pairs: Pairs | None = None) -> Result:
    """The greedy baseline as a full :class:`~matching.result.Result` (with reasons)."""
    from matching.explain import explain_unassigned, infeasible_result

    t0 = time.perf_counter()
    pairs = eligible_pairs(inst) if pairs is None else pairs
    assignments = greedy_assignments(inst, pairs)
    if assignments is None:
        return infeasible_result(inst, pairs, time.perf_counter() - t0, engine=ENGINE)
    weights = {b.id: inst.weight(b) for b in inst.beneficiaries}
    elapsed = time.perf_counter() - t0
    return Result(
        instance=inst.name, status="FEASIBLE", objective=objective_of(assignments, weights),
        bound_weight=None, assignments=tuple(assignments),
        unassigned=tuple(explain_unassigned(inst, pairs, assignments, proven=False)),
        solve_seconds=elapsed, engine={"name": ENGINE},
        timings={"eligibility": pairs.seconds, "total": elapsed},
    )


__all__ = ["greedy_assignments", "solve_greedy"]
