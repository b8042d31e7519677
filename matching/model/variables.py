"""The decision variables of the CP-SAT model, reached only through :class:`Variables`.

Columns
-------
A *column* is an eligible pair together with the fund that pays its contribution: a
pair with zero contribution has one column (no fund); a pair with a positive one has a
column per fund that may pay it (eligible tags, and a budget that covers it at all).
Choosing column ``j`` (``x[j] = 1``) places the beneficiary in the unit, charged to
that fund. This makes every fund a plain knapsack over booleans, with a tight linear
relaxation, instead of a big-M split of amounts.

Rooms
-----
Beds in a room, and rooms of the same size in a flat, are interchangeable: modelling
individual beds would let the solver permute them for nothing. The model therefore
only decides *how many* rooms of each size each gender gets in each flat
(``rooms[flat, beds, gender]``, an integer) and caps the gender's placements in the
flat by the beds of those rooms. Rooms are then named after the solve
(:func:`matching.model.build.decode_rooms`). Rooms fixed by a pinned placement keep
their pinned gender.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching.eligibility import Pairs
from matching.instance import Gender, Instance

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Columns:
    """The model's columns as parallel arrays (see the module docstring)."""

    pair: IntArray
    beneficiary: IntArray
    unit: IntArray
    fund: IntArray
    """Fund index, or -1 when the contribution is zero."""
    contribution_cents: IntArray
    commute_m: IntArray
    """Commute in whole metres (objective 3 is minimised in metres)."""

    def __len__(self) -> int:
        return int(self.pair.shape[0])

    def subset(self, keep: npt.NDArray[np.bool_]) -> Columns:
        """The columns where ``keep`` is True, in the same order."""
        return Columns(pair=self.pair[keep], beneficiary=self.beneficiary[keep],
                       unit=self.unit[keep], fund=self.fund[keep],
                       contribution_cents=self.contribution_cents[keep],
                       commute_m=self.commute_m[keep])

    @staticmethod
    def of(inst: Instance, pairs: Pairs) -> Columns:
        """Columns of all eligible pairs; a pinned beneficiary keeps only its pinned unit."""
        b, u, c = pairs.beneficiary, pairs.unit, pairs.contribution_cents
        keep = np.ones(len(pairs), dtype=bool)
        for pin in inst.pinned:
            sl = pairs.of_beneficiary(inst.beneficiary_index[pin.beneficiary])
            keep[sl] = u[sl] == inst.unit_index[pin.unit]
        idx = np.flatnonzero(keep)
        months = inst.policy.contribution_months
        parts_pair = [idx[c[idx] == 0]]
        parts_fund = [np.full(parts_pair[0].shape, -1, dtype=np.int64)]
        for k, fund in enumerate(inst.funds):
            eligible_b = np.array([fund.eligible(x.tags) for x in inst.beneficiaries], dtype=bool)
            sel = idx[(c[idx] > 0) & (c[idx] * months <= fund.budget_cents)
                      & eligible_b[b[idx]]]
            parts_pair.append(sel)
            parts_fund.append(np.full(sel.shape, k, dtype=np.int64))
        pair = np.concatenate(parts_pair).astype(np.int64)
        fund_idx = np.concatenate(parts_fund).astype(np.int64)
        order = np.lexsort((fund_idx, pair))
        pair, fund_idx = pair[order], fund_idx[order]
        return Columns(pair=pair, beneficiary=b[pair], unit=u[pair], fund=fund_idx,
                       contribution_cents=c[pair],
                       commute_m=pairs.commute_m[pair])


@dataclass
class FlatRooms:
    """The rooms of one shared flat as the model sees them."""

    flat: int
    """Index into ``Instance.shared_flats``."""
    fixed: dict[str, Gender] = field(default_factory=dict)
    """Room id -> gender, for rooms holding a pinned placement."""
    free_sizes: dict[int, int] = field(default_factory=dict)
    """Beds per room -> how many free rooms of that size."""
    genders: tuple[Gender, ...] = ()
    """Genders of the beneficiaries who have a column in this flat."""


class Variables:
    """Index space of the model: column ``j`` is variable ``j``; room counts follow.

    The same indices serve the CP-SAT model (booleans and bounded integers) and the LP
    relaxation (continuous in the same bounds), so every rule is written once.
    """

    def __init__(self, inst: Instance, columns: Columns) -> None:
        self.columns = columns
        self.n = len(columns)
        self.by_beneficiary: dict[int, list[int]] = defaultdict(list)
        self.by_unit: dict[int, list[int]] = defaultdict(list)
        self.by_fund: dict[int, list[int]] = defaultdict(list)
        for j, (bi, ui, fk) in enumerate(zip(columns.beneficiary.tolist(), columns.unit.tolist(),
                                             columns.fund.tolist(), strict=True)):
            self.by_beneficiary[bi].append(j)
            self.by_unit[ui].append(j)
            if fk >= 0:
                self.by_fund[fk].append(j)
        self.flats: dict[int, FlatRooms] = {}
        self.rooms: dict[tuple[int, int, Gender], int] = {}
        """(flat, beds, gender) -> variable index of how many such rooms the gender gets."""
        self.room_upper: list[int] = []
        nd = len(inst.dwellings)
        pinned_room = {(p.unit, p.room): inst.beneficiary(p.beneficiary).gender
                       for p in inst.pinned if p.room is not None}
        for fi, flat in enumerate(inst.shared_flats):
            cols = self.by_unit.get(nd + fi, [])
            if not cols:
                continue
            genders = sorted({inst.beneficiaries[columns.beneficiary[j]].gender for j in cols})
            fr = FlatRooms(flat=fi, genders=tuple(genders))
            for room in flat.rooms:
                g = pinned_room.get((flat.id, room.id))
                if g is not None:
                    fr.fixed[room.id] = g
                else:
                    fr.free_sizes[room.beds] = fr.free_sizes.get(room.beds, 0) + 1
            self.flats[fi] = fr
            if len(genders) > 1:
                for beds, count in sorted(fr.free_sizes.items()):
                    for g in genders:
                        self.rooms[fi, beds, g] = self.n + len(self.room_upper)
                        self.room_upper.append(count)

    @property
    def size(self) -> int:
        """How many variables: columns then room counts."""
        return self.n + len(self.room_upper)
