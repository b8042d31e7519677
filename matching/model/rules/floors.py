"""Group floors, a policy option: a share of the placed reserved for a group.

``policy.group_floors`` (see ``docs/problem.md``, "Policy options"): for each floor, the
households placed from its group are at least ``share`` of all the households placed,
unless every household of the group that has an eligible unit is placed. With
``share = num / den`` in lowest terms, ``P`` the households placed, ``P_g`` those of the
group and ``E_g`` the group's households that could be placed on their own (a pair whose
rules hold, with a fund that may pay and has the money), each floor is two rows over
an auxiliary 0/1 ``all`` ("the whole group is placed"):

    num * P - den * P_g - M * all <= 0      (the share, unless ``all``)
    E_g * all - P_g               <= 0      (``all`` only when every one is placed)

``M = num * E - den * E_g``, with ``E`` the households that have an option, is the most
the share row can be short by once the whole group is placed: ``all = 1`` empties it. The empty
allocation meets every floor, so a floor never leaves a round without an allocation
unless its pinned placements already break it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from matching.model.columns import Columns
from matching.model.space import Activity, RowBlock, Touch, Universe
from matching.result import Assignment


class GroupFloors:
    """Two rows and one auxiliary variable per floor (none without floors)."""

    name = "group_floors"

    def declare(self, u: Universe) -> RowBlock:
        inst = u.inst
        floors = inst.policy.group_floors
        nb = len(inst.beneficiaries)
        n = len(floors)
        member = np.zeros((n, nb), dtype=bool)
        for k, f in enumerate(floors):
            member[k] = [f.holds(b) for b in inst.beneficiaries]
        # a household has an option when it has a column: a pair with a fund that may
        # pay for it and has the money (or nothing to pay)
        has_option = np.zeros(nb, dtype=bool)
        if n:
            has_option[u.columns(np.flatnonzero(u.allowed), ordered=False).beneficiary] = True
        reachable = (member & has_option).sum(axis=1)
        shares = [Fraction(f.share) for f in floors]
        num = np.array([s.numerator for s in shares], dtype=np.int64)
        den = np.array([s.denominator for s in shares], dtype=np.int64)

        def touch(cols: Columns) -> Touch:
            if n == 0 or len(cols) == 0:
                return Touch.empty()
            j = np.arange(len(cols), dtype=np.int64)
            inside = member[:, cols.beneficiary]  # floor x column
            share_coef = num[:, None] - den[:, None] * inside
            parts_col = [np.tile(j, n)]
            parts_row = [np.repeat(2 * np.arange(n, dtype=np.int64), len(cols))]
            parts_coef = [share_coef.ravel()]
            k, c = np.nonzero(inside)
            parts_col.append(c.astype(np.int64))
            parts_row.append(2 * k.astype(np.int64) + 1)
            parts_coef.append(np.full(c.size, -1, dtype=np.int64))
            col, row, coef = (np.concatenate(x) for x in (parts_col, parts_row, parts_coef))
            keep = coef != 0
            return Touch(col[keep], row[keep], coef[keep])

        # ``all`` need only empty the share row as far as it can go once the whole group
        # is placed: at most every household with an option, the group's all among them
        big = np.maximum(num * int(has_option.sum()) - den * reachable, 0)
        aux = np.arange(n, dtype=np.int64)
        coef = np.stack([-big, reachable], axis=1).ravel().astype(np.int64)
        keep = coef != 0
        aux_touch = Touch(
            np.repeat(aux, 2)[keep],
            np.stack([2 * aux, 2 * aux + 1], axis=1).ravel()[keep],
            coef[keep],
        )

        def name(r: int) -> str:
            k, second = divmod(r, 2)
            f = floors[k]
            return f"floor of {f.group}" + (" (all placed)" if second else f" ({f.share})")

        def blocker(r: int, act: Activity) -> str:
            return "group_floor"

        index = inst.beneficiary_index

        def encode(placed: Sequence[Assignment]) -> npt.NDArray[np.int64]:
            """``all`` is 1 for the floors whose group's households with an option are all
            placed."""
            got = np.zeros(nb, dtype=bool)
            got[[index[a.beneficiary] for a in placed]] = True
            out: npt.NDArray[np.int64] = (member & has_option & ~got).sum(axis=1) == 0
            return out.astype(np.int64)

        return RowBlock(
            rule=self.name,
            lo=np.full(2 * n, -np.inf),
            hi=np.zeros(2 * n),
            names=name,
            touch=touch,
            aux_upper=np.ones(n, dtype=np.int64),
            aux_touch=aux_touch,
            blocker=blocker,
            encode=encode,
        )
