"""The model's constraints as sparse rows, shared by CP-SAT and the LP relaxation.

Rules write rows here once. :func:`matching.model.build.to_cpsat` turns them into CP-SAT
constraints (``at_most_one`` rows stay at-most-one constraints, which CP-SAT propagates
better than sums), and :mod:`matching.lp` into a sparse matrix for HiGHS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

RowKind = Literal["at_most_one", "exactly_one", "linear"]


@dataclass
class Rows:
    """Rows ``lo <= sum(coef * var) <= hi`` with a kind, stored as CSR triplets."""

    kind: list[RowKind] = field(default_factory=list)
    start: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    coef: list[int] = field(default_factory=list)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    name: list[str] = field(default_factory=list)

    def _add(self, kind: RowKind, idx: Sequence[int], coef: Sequence[int], lo: float,
             hi: float, name: str) -> None:
        self.kind.append(kind)
        self.index.extend(idx)
        self.coef.extend(coef)
        self.start.append(len(self.index))
        self.lo.append(lo)
        self.hi.append(hi)
        self.name.append(name)

    def at_most_one(self, idx: Sequence[int], name: str) -> None:
        self._add("at_most_one", idx, [1] * len(idx), -np.inf, 1, name)

    def exactly_one(self, idx: Sequence[int], name: str) -> None:
        self._add("exactly_one", idx, [1] * len(idx), 1, 1, name)

    def linear(self, idx: Sequence[int], coef: Sequence[int], lo: float, hi: float,
               name: str) -> None:
        self._add("linear", idx, coef, lo, hi, name)

    def __len__(self) -> int:
        return len(self.kind)

    def row(self, r: int) -> tuple[list[int], list[int]]:
        a, b = self.start[r], self.start[r + 1]
        return self.index[a:b], self.coef[a:b]

    def csr(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32],
                           npt.NDArray[np.float64]]:
        """``(start, index, value)`` arrays of the row-wise sparse matrix."""
        return (np.asarray(self.start, dtype=np.int32), np.asarray(self.index, dtype=np.int32),
                np.asarray(self.coef, dtype=np.float64))
