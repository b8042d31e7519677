"""What an objective term provides."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from matching.instance import Instance
from matching.model.columns import Columns
from matching.model.space import RowSpace

IntArray = npt.NDArray[np.int64]


class ObjectiveTerm:
    """One term of the lexicographic objective: integer coefficients and a sense."""

    name: str = ""
    sense: Literal["max", "min"] = "max"
    role: int = 0
    """Which of the contract's three objectives the term is, or a part of (0: weight,
    1: money, 2: commute): stages share time and methods by role."""

    def coefficients(self, cols: Columns, inst: Instance) -> IntArray:
        """The coefficient of each column."""
        raise NotImplementedError

    def aux_coefficients(self, space: RowSpace) -> IntArray:
        """The coefficient of each auxiliary variable (none count by default)."""
        return np.zeros(space.n_aux, dtype=np.int64)
