"""The rules' rows as a running state: placements made one at a time, each checked.

Greedy (:mod:`matching.greedy`), the pin checks and the explanations
(:mod:`matching.explain`) place columns one after another. :class:`Packing` keeps every
row's activity and every auxiliary variable's value as they go, and says whether one
more column fits: it fits when every row it touches stays within its upper limit,
possibly after raising auxiliary variables that relieve a row (a free room given to a
gender, which makes room for its placements), and the first row it would break
otherwise. It reads only the rows the rules declared (:class:`~matching.model.space.RowSpace`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.model.space import Activity, RowSpace

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Fit:
    """Whether a column fits: the auxiliary raises it needs, or the row that stops it."""

    ok: bool
    raises: tuple[int, ...] = ()
    blocking: int = -1


class Packing:
    """Row activities and auxiliary values of an allocation built one column at a time."""

    def __init__(self, space: RowSpace) -> None:
        self.space = space
        self.act = np.zeros(space.n_rows, dtype=np.int64)
        self.aux = np.zeros(space.n_aux, dtype=np.int64)
        self.hi = space.hi
        a = space.aux
        self._aux_rows: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self._relief: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for col, row, coef in zip(a.col.tolist(), a.row.tolist(), a.coef.tolist(), strict=True):
            self._aux_rows[col].append((row, coef))
            if coef < 0:
                self._relief[row].append((-coef, col))
        for row in self._relief:
            self._relief[row].sort()

    @property
    def activity(self) -> Activity:
        return Activity(row=self.act, aux=self.aux)

    def relieves(self, row: int) -> bool:
        """Whether raising some auxiliary variable relieves ``row``."""
        return bool(self._relief.get(row))

    def fits(self, rows: list[int], coefs: list[int]) -> Fit:
        """Whether a column touching ``rows`` with ``coefs`` fits now.

        A row it would break is relieved, if the rule allows, by raising auxiliary
        variables whose own rows stay within their limits: the smallest relief that
        covers the shortfall first (a one-bed room before a two-bed one), so that no
        more capacity is opened than needed.
        """
        over = [(r, c) for r, c in zip(rows, coefs, strict=True) if self.act[r] + c > self.hi[r]]
        if not over:
            return Fit(True)
        extra: dict[int, int] = {}
        raises: list[int] = []
        for r, c in over:
            short = self.act[r] + c + extra.get(r, 0) - self.hi[r]
            for amount, a in self._relief.get(r, ()):
                while short > 0 and self._can_raise(a, extra, raises):
                    raises.append(a)
                    for rr, cc in self._aux_rows[a]:
                        extra[rr] = extra.get(rr, 0) + cc
                    short -= amount
                if short <= 0:
                    break
            if short > 0:
                return Fit(False, blocking=r)
        return Fit(True, tuple(raises))

    def _can_raise(self, a: int, extra: dict[int, int], raises: list[int]) -> bool:
        if self.aux[a] + raises.count(a) + 1 > self.space.aux_upper[a]:
            return False
        return all(
            self.act[r] + extra.get(r, 0) + c <= self.hi[r] for r, c in self._aux_rows[a] if c > 0
        )

    def place(self, rows: list[int], coefs: list[int], fit: Fit) -> None:
        """Make a placement that fits (as :meth:`fits` said, nothing placed since)."""
        for a in fit.raises:
            self.aux[a] += 1
            for r, c in self._aux_rows[a]:
                self.act[r] += c
        for r, c in zip(rows, coefs, strict=True):
            self.act[r] += c

    def raise_aux(self, a: int, by: int) -> None:
        """Raise auxiliary variable ``a`` by ``by`` (e.g. rooms an allocation names)."""
        self.aux[a] += by
        for r, c in self._aux_rows[a]:
            self.act[r] += c * by

    def round_aux(self, x: npt.NDArray[np.float64]) -> None:
        """Start the auxiliary variables from a relaxation's values ``x``: each rounded
        down, then up, largest fraction first, wherever its own rows still allow (a room
        the LP shares between genders goes to the one it gives the most of; a floor's
        "whole group placed" only once it is)."""
        base = np.floor(x + 1e-6).astype(np.int64)
        for a in np.flatnonzero(base > 0).tolist():
            # never past what its own rows allow with nothing placed yet: a floor's
            # "whole group placed" raised from the LP's value would let a household of
            # another group in, and stay raised when the group is not all placed
            for _ in range(int(base[a])):
                if not self._can_raise(a, {}, []):
                    break
                self.raise_aux(a, 1)
        frac = x - base
        for a in np.argsort(-frac, kind="stable").tolist():
            if frac[a] <= 1e-6:
                break
            if self._can_raise(a, {}, []):
                self.raise_aux(a, 1)
