"""What an objective term provides."""

from __future__ import annotations

from typing import Literal

from matching.instance import Instance
from matching.model.variables import Variables


class ObjectiveTerm:
    """One term of the lexicographic objective: a linear expression and a sense."""

    name: str = ""
    sense: Literal["max", "min"] = "max"

    def coefficients(self, v: Variables, inst: Instance) -> list[int]:
        """The integer coefficient of each column's variable."""
        raise NotImplementedError
