"""The model's columns: an eligible pair together with one way of paying for it.

A pair with zero contribution has one column (no fund); a pair with a positive one has
a column per fund that may pay it (:class:`~matching.model.payers.FundTable`). Choosing
column ``j`` places the household in the unit, charged to that fund. Every fund is then
a plain knapsack over booleans, with a tight linear relaxation, instead of a big-M split
of amounts.

Columns are built for any slice of the round's pairs, so that the whole formulation, a
pricing block of millions of pairs and greedy's look at one household all make them the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.eligibility import Pairs
from matching.instance import Instance
from matching.model.payers import FundTable, cost_cents

IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int16]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Columns:
    """Columns as parallel arrays, sorted by pair, room, then fund."""

    pair: IntArray
    """Index into the round's :class:`~matching.eligibility.Pairs` (an option)."""
    beneficiary: IntArray
    unit: IntArray
    term: SmallArray
    """The dwelling's terms (-1: a plain rent)."""
    line: SmallArray
    """The shuttle line ridden to work (-1: none)."""
    room: SmallArray
    """The room, for a shared flat whose rooms are chosen per column (-1: chosen by the
    room counts of :mod:`matching.model.rules.rooms`, or not a bed)."""
    fund: IntArray
    """Fund index, or -1 when the cost is zero."""
    contribution_cents: IntArray
    """Monthly contribution (instance@1's objective 2 sums it)."""
    cost_cents: IntArray
    """What the paying fund spends over the round: contribution x months + one-off."""
    commute_m: IntArray
    """Whole metres (objective 3 sums them)."""

    def __len__(self) -> int:
        return int(self.pair.shape[0])

    def subset(self, keep: BoolArray | IntArray) -> Columns:
        """The columns ``keep`` selects (a mask or sorted indices), in the same order."""
        return Columns(*(getattr(self, f)[keep] for f in COLUMN_FIELDS))

    @staticmethod
    def concat(parts: list[Columns]) -> Columns:
        return Columns(*(np.concatenate([getattr(c, f) for c in parts]) for f in COLUMN_FIELDS))

    def codes(self, n_funds: int, n_rooms: int) -> IntArray:
        """A code per column, unique in the round: its option, room and fund."""
        return np.asarray(
            (self.pair * (n_rooms + 1) + self.room + 1) * (n_funds + 1) + self.fund + 1,
            dtype=np.int64,
        )


COLUMN_FIELDS = (
    "pair",
    "beneficiary",
    "unit",
    "term",
    "line",
    "room",
    "fund",
    "contribution_cents",
    "cost_cents",
    "commute_m",
)


def allowed_pairs(inst: Instance, pairs: Pairs) -> BoolArray:
    """Which options may have columns: a pinned household keeps its pinned unit only."""
    allowed = np.ones(len(pairs), dtype=bool)
    for pin in inst.pinned:
        sl = pairs.of_beneficiary(inst.beneficiary_index[pin.beneficiary])
        allowed[sl] = pairs.unit[sl] == inst.unit_index[pin.unit]
    return allowed


def columns_of(
    inst: Instance,
    pairs: Pairs,
    funds: FundTable,
    allowed: BoolArray,
    months: IntArray,
    one_off: IntArray,
    rooms: RoomChoice,
    idx: IntArray | None = None,
    ordered: bool = True,
) -> Columns:
    """Every column of the options ``idx`` (sorted indices; all options when None),
    sorted by option, room and fund unless ``ordered`` is False (a pricing block needs
    no order).

    ``months`` is each household's months, ``one_off`` each option's one-off payment,
    and ``rooms`` says which shared flats choose a room per column (each of their bed
    options becomes one column per room it may take).
    """
    if idx is None:
        idx = np.arange(len(pairs), dtype=np.int64)
    idx = idx[allowed[idx]]
    room = np.full(idx.shape, -1, dtype=np.int16)
    if rooms.any:
        idx, room = rooms.expand(inst, pairs, idx)
    b = pairs.beneficiary[idx]
    c = pairs.contribution_cents[idx]
    cost = cost_cents(c, months[b], one_off[idx])
    parts = [np.flatnonzero(cost == 0)]
    fund_parts = [np.full(parts[0].shape, -1, dtype=np.int64)]
    for k in range(funds.n):
        sel = np.flatnonzero(funds.may_pay(k, b, cost))
        parts.append(sel)
        fund_parts.append(np.full(sel.shape, k, dtype=np.int64))
    local = np.concatenate(parts)
    fund = np.concatenate(fund_parts)
    if ordered:
        order = np.lexsort((fund, room[local], idx[local]))
        local, fund = local[order], fund[order]
    pair = idx[local]
    return Columns(
        pair=pair,
        beneficiary=b[local],
        unit=pairs.unit[pair],
        term=pairs.term[pair],
        line=pairs.line[pair],
        room=room[local],
        fund=fund,
        contribution_cents=c[local],
        cost_cents=cost[local],
        commute_m=pairs.commute_m[pair],
    )


@dataclass(frozen=True)
class RoomChoice:
    """Which shared flats choose the room of each placement in a column (their rooms'
    occupancy changes month by month, which room counts alone cannot follow)."""

    explicit: BoolArray
    """Per shared flat."""
    n_dwellings: int
    room_of_pin: dict[int, int]
    """Pinned household -> the room (index in its flat) it is pinned to."""

    @property
    def any(self) -> bool:
        return bool(self.explicit.any())

    def expand(self, inst: Instance, pairs: Pairs, idx: IntArray) -> tuple[IntArray, SmallArray]:
        """The options ``idx`` with each bed option of an explicit flat repeated per room
        (a pinned household's, only for its pinned room)."""
        nd = self.n_dwellings
        u = pairs.unit[idx]
        flat = np.where(u >= nd, u - nd, 0)
        explicit = (u >= nd) & self.explicit[flat]
        n_rooms = np.array([len(f.rooms) for f in inst.shared_flats] or [0], dtype=np.int64)
        reps = np.where(explicit, n_rooms[flat], 1)
        out = np.repeat(idx, reps)
        rank = np.arange(out.size) - np.repeat(np.cumsum(reps) - reps, reps)
        room = np.where(np.repeat(explicit, reps), rank, -1).astype(np.int16)
        if self.room_of_pin:
            b = pairs.beneficiary[out]
            want = np.array([self.room_of_pin.get(int(x), -1) for x in b.tolist()], dtype=np.int64)
            keep = (room < 0) | (want < 0) | (room == want)
            out, room = out[keep], room[keep]
        return out, room
