"""A round's formulation: columns, the rules' rows as one sparse matrix, the objective terms.

Variables are the columns (booleans), then the rules' auxiliary variables (bounded
integers). CP-SAT, the LP relaxation and SCIP are all built from :class:`Formulation`
(:mod:`matching.solvers`), so that each rule, declared once, reaches every solver alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

from matching.eligibility import Pairs
from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.objectives import ObjectiveTerm, objectives_of
from matching.model.space import RowSpace
from matching.result import Assignment

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Hold:
    """An objective term held at a value in later stages (``==`` once proven)."""

    term: int
    sense: Literal["==", ">=", "<="]
    value: int


@dataclass(frozen=True)
class Solution:
    """An allocation in a formulation: its chosen columns and the auxiliary values."""

    chosen: IntArray
    """Sorted column indices."""
    aux: IntArray

    @staticmethod
    def of(chosen: Sequence[int] | IntArray, aux: IntArray) -> Solution:
        return Solution(
            np.unique(np.asarray(chosen, dtype=np.int64)), np.asarray(aux, dtype=np.int64)
        )


@dataclass
class Formulation:
    """The columns of a round, every rule's rows over them, and the objective terms."""

    space: RowSpace
    columns: Columns
    objectives: tuple[ObjectiveTerm, ...]
    coefficients: tuple[IntArray, ...]
    """Per objective term, the coefficient of each variable (columns, then auxiliaries)."""
    matrix: sparse.csr_matrix
    """Rows x variables, integer coefficients."""
    seconds: float

    @property
    def n(self) -> int:
        """How many columns."""
        return len(self.columns)

    @property
    def size(self) -> int:
        """How many variables: columns, then auxiliary variables."""
        return self.n + self.space.n_aux

    @property
    def upper(self) -> IntArray:
        return np.concatenate([np.ones(self.n, dtype=np.int64), self.space.aux_upper])

    @property
    def trivial_bound(self) -> int:
        """The weight of every household with a column: no allocation beats it."""
        w = self.coefficients[0][: self.n]
        first = np.unique(self.columns.beneficiary, return_index=True)[1]
        return int(w[first].sum())

    def x(self, sol: Solution) -> IntArray:
        """The solution as a vector over every variable."""
        x = np.zeros(self.size, dtype=np.int64)
        x[sol.chosen] = 1
        x[self.n :] = sol.aux
        return x

    def value(self, term: int, sol: Solution) -> int:
        """Objective term ``term`` of a solution."""
        c = self.coefficients[term]
        return int(c[sol.chosen].sum() + np.dot(c[self.n :], sol.aux))

    def satisfies(self, sol: Solution, holds: Sequence[Hold] = ()) -> bool:
        """Whether a solution meets every row, bound and hold exactly, in integers."""
        if np.any(sol.aux < 0) or np.any(sol.aux > self.space.aux_upper):
            return False
        act = self.matrix @ self.x(sol)
        if np.any(act < self.space.lo) or np.any(act > self.space.hi):
            return False
        for h in holds:
            val = self.value(h.term, sol)
            if (
                (h.sense == "==" and val != h.value)
                or (h.sense == ">=" and val < h.value)
                or (h.sense == "<=" and val > h.value)
            ):
                return False
        return True

    def binding_rows(self) -> IntArray:
        """Rows some assignment of the variables within their bounds could break.

        A row whose largest possible activity is within ``hi`` and which has no lower
        limit cannot bind: solvers leave it out (a dwelling with one candidate, a fund
        that can pay all it may pay).
        """
        m = self.matrix
        up = self.upper.astype(np.float64)
        pos = m.multiply(m > 0) @ up
        neg = m.multiply(m < 0) @ up
        lo, hi = self.space.lo, self.space.hi
        return np.flatnonzero(
            (np.asarray(pos).ravel() > hi) | (np.asarray(neg).ravel() < lo) | np.isfinite(lo)
        )

    def subset(self, keep: BoolArray) -> tuple[Formulation, IntArray]:
        """The formulation on the kept columns, and old column index -> new (or -1)."""
        new_index = np.full(self.n, -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        cols = np.concatenate([np.flatnonzero(keep), self.n + np.arange(self.space.n_aux)])
        return Formulation(
            space=self.space,
            columns=self.columns.subset(keep),
            objectives=self.objectives,
            coefficients=tuple(c[cols] for c in self.coefficients),
            matrix=self.matrix[:, cols].tocsr(),
            seconds=self.seconds,
        ), new_index

    def lookup(self, cols: Columns) -> IntArray:
        """The index of each of ``cols`` in the formulation, or -1 where it has none."""
        nf, nr = self.space.universe.funds.n, self.space.max_rooms
        codes = self.columns.codes(nf, nr)
        want = cols.codes(nf, nr)
        if codes.size == 0:
            return np.full(want.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(codes, want), codes.size - 1)
        return np.where(codes[pos] == want, pos, -1)

    def assignments(self, sol: Solution) -> list[Assignment]:
        """The placements of a solution, rooms named, in household order."""
        return assignments(self.space, self.columns.subset(sol.chosen), sol.aux)


def formulate(space: RowSpace, columns: Columns) -> Formulation:
    """Every rule's rows and the objective coefficients over ``columns``."""
    t0 = time.perf_counter()
    inst = space.inst
    n = len(columns)
    t = space.touch(columns)
    a = space.aux
    matrix = sparse.csr_matrix(
        (
            np.concatenate([t.coef, a.coef]).astype(np.float64),
            (np.concatenate([t.row, a.row]), np.concatenate([t.col, n + a.col])),
        ),
        shape=(space.n_rows, n + space.n_aux),
    )
    objectives = objectives_of(inst)
    coefficients = tuple(
        np.concatenate([term.coefficients(columns, inst), term.aux_coefficients(space)])
        for term in objectives
    )
    return Formulation(
        space=space,
        columns=columns,
        objectives=objectives,
        coefficients=coefficients,
        matrix=matrix,
        seconds=time.perf_counter() - t0,
    )


def assignments(space: RowSpace, chosen: Columns, aux: IntArray) -> list[Assignment]:
    """The placements of the columns ``chosen``, with what the rules name (rooms)."""
    inst, pairs = space.inst, space.universe.pairs
    named: dict[int, str] = {}
    for i, b in enumerate(space.blocks):
        if b.decode is not None:
            lo = int(space.aux_start[i])
            named.update(b.decode(chosen, aux[lo : lo + b.n_aux]))
    out = []
    for j in np.argsort(chosen.beneficiary, kind="stable").tolist():
        p = int(chosen.pair[j])
        fk, u, t, line = (
            int(chosen.fund[j]),
            int(chosen.unit[j]),
            int(chosen.term[j]),
            int(chosen.line[j]),
        )
        ben = inst.beneficiaries[int(chosen.beneficiary[j])]
        out.append(
            Assignment(
                beneficiary=ben.id,
                unit=inst.unit_id(u),
                room=named.get(j),
                fund=inst.funds[fk].id if fk >= 0 else None,
                contribution_cents=int(chosen.contribution_cents[j]),
                commute_km=float(pairs.commute_km[p]),
                commute_m=int(chosen.commute_m[j]),
                months=inst.months(ben),
                term=inst.dwellings[u].terms[t].id if t >= 0 else None,
                one_off_cents=int(space.universe.one_off[p]),
                cost_cents=int(chosen.cost_cents[j]),
                shuttle=inst.shuttles[line].id if line >= 0 else None,
            )
        )
    return out


def option_index(inst: Instance, pairs: Pairs, a: Assignment) -> int:
    """The index in ``pairs`` of the option an assignment takes (its household, unit,
    terms and line), or -1."""
    bi, ui = inst.beneficiary_index[a.beneficiary], inst.unit_index[a.unit]
    sl = pairs.of_beneficiary(bi)
    term = -1
    if a.term is not None and ui < len(inst.dwellings):
        ids = [t.id for t in inst.dwellings[ui].terms]
        term = ids.index(a.term) if a.term in ids else -2
    line = (
        next((k for k, x in enumerate(inst.shuttles) if x.id == a.shuttle), -2)
        if a.shuttle is not None
        else -1
    )
    hit = np.flatnonzero(
        (pairs.unit[sl] == ui) & (pairs.term[sl] == term) & (pairs.line[sl] == line)
    )
    return int(sl.start + hit[0]) if hit.size else -1
