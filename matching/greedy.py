"""The greedy baseline: what an agency does by hand.

Pinned placements first; then households in order of priority (highest first, then
larger weight, then id), each taking its cheapest eligible unit where it still fits
(least contribution, then shortest commute), paid by a fund that can still pay: funds
reserved to a tag before general ones, then the one with most left. Whether a placement
fits is asked of the rules' rows (:class:`~matching.packing.Packing`), so greedy knows
every rule the solvers know.

It is the comparison point of the benchmarks and the first hint of the solver.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.eligibility import Pairs, eligible_pairs
from matching.explain import explain_unassigned, infeasible_result
from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.formulation import assignments
from matching.model.rules import declare
from matching.model.space import RowSpace, Universe
from matching.packing import Packing
from matching.result import Assignment, Result, lines_opened, objective_of, result_format

ENGINE = "greedy"

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Greedy:
    """A greedy allocation: its columns and the rules' auxiliary values."""

    columns: Columns
    aux: IntArray
    packing: Packing

    def assignments(self) -> list[Assignment]:
        return assignments(self.packing.space, self.columns, self.aux)


class _Household:
    """Columns and how they touch the rows, for trying them in turn: one household's,
    or (:meth:`batch`) those of many options at once, cut per option by :meth:`part`."""

    def __init__(self, space: RowSpace, sl: slice) -> None:
        self._of(space, np.arange(sl.start, sl.stop, dtype=np.int64))

    def _of(self, space: RowSpace, idx: IntArray) -> None:
        self.cols = space.universe.columns(idx)
        t = space.touch(self.cols)
        order = np.argsort(t.col, kind="stable")
        col, self.row, self.coef = t.col[order], t.row[order], t.coef[order]
        self.start = np.searchsorted(col, np.arange(len(self.cols) + 1))

    @classmethod
    def batch(cls, space: RowSpace, idx: IntArray) -> _Household:
        """The columns of the options ``idx`` (sorted), listed and touched at once:
        tens of thousands of placements made first (the stitch's occupants) took
        seconds one by one."""
        out = cls.__new__(cls)
        out._of(space, idx)
        return out

    def part(self, lo: int, hi: int) -> _Household:
        """Columns ``lo`` to ``hi`` alone."""
        out = _Household.__new__(_Household)
        out.cols = self.cols.subset(np.arange(lo, hi, dtype=np.int64))
        a, b = int(self.start[lo]), int(self.start[hi])
        out.row, out.coef = self.row[a:b], self.coef[a:b]
        out.start = self.start[lo : hi + 1] - a
        return out

    def of_options(self, lo: int, hi: int) -> _Household:
        """The columns of options ``lo`` to ``hi - 1`` (indices into the pairs)."""
        a, b = np.searchsorted(self.cols.pair, [lo, hi])
        return self.part(int(a), int(b))

    def touch(self, j: int) -> tuple[list[int], list[int]]:
        a, b = int(self.start[j]), int(self.start[j + 1])
        return self.row[a:b].tolist(), self.coef[a:b].tolist()


Start = Sequence[tuple[int, int, int]]
"""Placements to make first: (option index, fund index or -1, room or -1), -1 meaning any."""


def start_from(
    inst: Instance, pairs: Pairs, previous: Sequence[Assignment]
) -> list[tuple[int, int, int]]:
    """The ``previous`` placements that ``inst`` still has an option for, as greedy's
    first placements (option, fund, room): a pair now forbidden, a unit gone or a line no
    longer within reach is skipped; greedy drops those the rules no longer let fit."""
    funds = {f.id: k for k, f in enumerate(inst.funds)}
    lines = {x.id: k for k, x in enumerate(inst.shuttles)}
    nd = len(inst.dwellings)
    out = []
    for a in previous:
        bi, ui = inst.beneficiary_index.get(a.beneficiary), inst.unit_index.get(a.unit)
        if bi is None or ui is None:
            continue
        sl = pairs.of_beneficiary(bi)
        idx = sl.start + np.flatnonzero(pairs.unit[sl] == ui)
        if a.term is not None and ui < nd:
            ids = [t.id for t in inst.dwellings[ui].terms]
            idx = idx[pairs.term[idx] == (ids.index(a.term) if a.term in ids else -2)]
        line = -1 if a.shuttle is None else lines.get(a.shuttle, -2)
        idx = idx[pairs.line[idx] == line]
        if idx.size == 0:
            continue
        room = -1
        if ui >= nd and a.room is not None:
            rooms = [r.id for r in inst.shared_flats[ui - nd].rooms]
            room = rooms.index(a.room) if a.room in rooms else -1
        out.append((int(idx[0]), funds.get(a.fund, -1) if a.fund else -1, room))
    return out


def greedy(
    space: RowSpace,
    first: Start = (),
    deadline: float | None = None,
    aux: npt.NDArray[np.float64] | None = None,
) -> Greedy | None:
    """The greedy allocation, or None when the pinned placements cannot all be made.

    ``first`` lists (option index, fund, room) placements to make right after the pinned
    ones, each kept if it still fits (with the fund and room given, or others): the
    solver completes a rounded LP solution this way. A ``deadline``
    (``time.perf_counter()`` seconds) ends the pass early: the allocation so far is
    valid, households not reached stay unplaced. ``aux`` gives the rules' auxiliary
    variables a start (the LP's room counts, for its rounding; see
    :meth:`Packing.round_aux`), raised further as placements need.
    """
    inst, pairs, funds = space.inst, space.universe.pairs, space.universe.funds
    pack = Packing(space)
    if aux is not None:
        pack.round_aux(aux)
    _, fund_row = space.block("fund_budgets")
    chosen: list[Columns] = []
    done: set[int] = set()

    def fund_order(cols: Columns, js: IntArray) -> list[int]:
        """Columns of one pair, reserved funds first, then the fund with most left."""

        def key(j: int) -> tuple[int, float, int]:
            k = int(cols.fund[j])
            if k < 0:
                return (0, 0.0, 0)
            left = float(space.hi[fund_row + k] - pack.act[fund_row + k])
            return (0 if funds.reserved[k] else 1, -left, k)

        return sorted(js.tolist(), key=key)

    # funds whose row no auxiliary variable relieves: a column costing more than such a
    # fund has left cannot fit
    plain = np.array([not pack.relieves(fund_row + k) for k in range(len(inst.funds))], dtype=bool)

    def affordable(cols: Columns) -> npt.NDArray[np.int64]:
        """The columns of ``cols`` that their fund may still pay (all when unpaid)."""
        if not plain.size:
            return np.arange(len(cols))
        k = np.maximum(cols.fund, 0)
        left = pack.hi[fund_row + k] - pack.act[fund_row + k]
        out = (cols.fund < 0) | ~plain[k] | (cols.cost_cents <= left)
        return np.flatnonzero(out)

    def take(h: _Household, js: list[int]) -> bool:
        for j in js:
            rows, coefs = h.touch(j)
            fit = pack.fits(rows, coefs)
            if fit.ok:
                pack.place(rows, coefs, fit)
                chosen.append(h.cols.subset(np.array([j])))
                done.add(int(h.cols.beneficiary[j]))
                return True
        return False

    # a pinned household the start places is placed as it says first (its room and
    # fund): pins placed one by one in the first room that fits may leave no room of
    # the right gender for a later one
    said = {int(pairs.beneficiary[p]): (p, fk, rk) for p, fk, rk in first}
    pinned = [inst.beneficiary_index[pin.beneficiary] for pin in inst.pinned]
    spans = [pairs.of_beneficiary(bi) for bi in pinned]
    every = _Household.batch(
        space,
        np.unique(
            np.concatenate(
                [np.arange(sl.start, sl.stop, dtype=np.int64) for sl in spans]
                + [np.array([p for p, _, _ in first], dtype=np.int64)]
            )
        ),
    )
    for bi, sl in zip(pinned, spans, strict=True):
        h = every.of_options(sl.start, sl.stop)
        ordered = fund_order(h.cols, np.arange(len(h.cols)))
        if bi in said:
            p, fk, rk = said[bi]
            ordered.sort(
                key=lambda j: (
                    int(h.cols.pair[j]) != p,
                    rk >= 0 and int(h.cols.room[j]) != rk,
                    fk >= 0 and int(h.cols.fund[j]) != fk,
                )
            )
        if not take(h, ordered):
            return None
    for p, fk, rk in first:
        bi = int(pairs.beneficiary[p])
        if bi in done:
            continue
        h = every.of_options(p, p + 1)
        js = np.arange(len(h.cols))
        ordered = fund_order(h.cols, js)
        # the room and fund given first
        ordered.sort(key=lambda j: (int(h.cols.room[j]) != rk, int(h.cols.fund[j]) != fk))
        take(h, ordered)
    order = sorted(
        (bi for bi in range(len(inst.beneficiaries)) if bi not in done),
        key=lambda bi: (
            -inst.beneficiaries[bi].priority,
            -inst.weight(inst.beneficiaries[bi]),
            inst.beneficiaries[bi].id,
        ),
    )
    for bi in order:
        if deadline is not None and time.perf_counter() > deadline:
            break
        sl = pairs.of_beneficiary(bi)
        if sl.start == sl.stop:
            continue
        h = _Household(space, sl)
        if len(h.cols) == 0:
            continue
        cols = h.cols
        # a column its fund can no longer pay never fits: not tried (where the money
        # runs out, every later household would try its hundreds of pairs in turn; at L
        # with budgets cut to a fifth the pass took 52 s)
        idx = affordable(cols)
        if idx.size == 0:
            continue
        by_pair = idx[
            np.lexsort(
                (
                    pairs.unit[cols.pair[idx]],
                    pairs.commute_km[cols.pair[idx]],
                    cols.contribution_cents[idx],
                )
            )
        ]
        bounds = np.flatnonzero(
            np.r_[True, cols.pair[by_pair][1:] != cols.pair[by_pair][:-1], True]
        ).tolist()
        for a, z in itertools.pairwise(bounds):
            if take(h, fund_order(cols, np.sort(by_pair[a:z]))):
                break
    allc = Columns.concat(chosen) if chosen else space.universe.columns(np.zeros(0, dtype=np.int64))
    return Greedy(columns=allc, aux=pack.aux.copy(), packing=pack)


def greedy_assignments(
    inst: Instance, pairs: Pairs, first: Start = (), space: RowSpace | None = None
) -> list[Assignment] | None:
    """The greedy allocation's placements (None when the pins cannot all be made)."""
    space = declare(Universe.of(inst, pairs)) if space is None else space
    out = greedy(space, first)
    return None if out is None else out.assignments()


def solve_greedy(inst: Instance, pairs: Pairs | None = None) -> Result:
    """The greedy baseline as a full :class:`~matching.result.Result` (with reasons)."""
    t0 = time.perf_counter()
    pairs = eligible_pairs(inst) if pairs is None else pairs
    space = declare(Universe.of(inst, pairs))
    out = greedy(space)
    if out is None:
        return infeasible_result(inst, pairs, time.perf_counter() - t0, engine=ENGINE, space=space)
    placed = out.assignments()
    elapsed = time.perf_counter() - t0
    return Result(
        instance=inst.name,
        status="FEASIBLE",
        objective=objective_of(placed, inst.weights, inst.line_costs),
        format=result_format(inst.v2),
        lines_opened=lines_opened(placed, inst.line_costs),
        bound_weight=None,
        assignments=tuple(placed),
        unassigned=tuple(explain_unassigned(inst, pairs, placed, proven=False, space=space)),
        solve_seconds=elapsed,
        engine={"name": ENGINE},
        timings={"eligibility": pairs.seconds, "total": elapsed},
    )


__all__ = ["Greedy", "greedy", "greedy_assignments", "solve_greedy"]
