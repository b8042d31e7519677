"""The round's rows, declared once by the rules and read by every solver.

Each rule of the round (:mod:`matching.model.rules`) declares a :class:`RowBlock`: its rows
``lo <= activity <= hi``, how any set of columns touches them (which row, with which
integer coefficient), and the auxiliary variables it owns (e.g. how many rooms of a size
each gender gets). :class:`RowSpace` stacks the blocks. From it:

- the formulation (:mod:`matching.model.formulation`) builds the sparse matrix that
  CP-SAT, the LP and SCIP are given;
- the column generation (:mod:`matching.pricing`) prices millions of columns, block by
  block, against the rows' duals, and bounds the round by Lagrangian duality;
- greedy, the pin checks and the explanations (:mod:`matching.packing`) keep the rows'
  activities as placements are made, and say which row stops a placement.

The rows do not depend on which columns a solver is given: they are declared over the
round's eligible pairs, so that any subset of columns (a pricing master, the columns
left after reduced-cost fixing) meets the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching.eligibility import Pairs
from matching.instance import Instance
from matching.model.columns import Columns, RoomChoice, allowed_pairs, columns_of
from matching.model.payers import FundTable
from matching.result import Assignment

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Touch:
    """Sparse entries ``(col, row, coef)``: column (or auxiliary variable) ``col`` adds
    ``coef`` to the activity of row ``row``."""

    col: IntArray
    row: IntArray
    coef: IntArray

    @staticmethod
    def empty() -> Touch:
        z = np.zeros(0, dtype=np.int64)
        return Touch(z, z, z)

    def shifted(self, rows: int, cols: int = 0) -> Touch:
        return Touch(self.col + cols, self.row + rows, self.coef)

    @staticmethod
    def concat(parts: Sequence[Touch]) -> Touch:
        if not parts:
            return Touch.empty()
        return Touch(
            np.concatenate([p.col for p in parts]),
            np.concatenate([p.row for p in parts]),
            np.concatenate([p.coef for p in parts]),
        )


@dataclass(frozen=True)
class Universe:
    """What a rule declares its rows over: the round, its eligible options, its funds."""

    inst: Instance
    pairs: Pairs
    allowed: BoolArray
    """Options that may have columns (pinned households keep their pinned unit only)."""
    funds: FundTable
    months: IntArray
    """Per household, ``months(b)``."""
    one_off: IntArray
    """Per option, the one-off payment of its terms."""
    rooms: RoomChoice
    first: IntArray
    last: IntArray
    """Per household, the first and last month of its stay (0 and 0 without a horizon)."""
    starts: IntArray
    """The months some stay begins, sorted: checking a month-by-month rule at these
    months is enough (whoever is present in a month is present at the latest start of a
    stay before it), so rules write their monthly rows for these months only."""

    def stay_starts(self, beneficiary: IntArray) -> tuple[IntArray, IntArray]:
        """Every (position, start index) such that month ``starts[k]`` lies within the
        stay of household ``beneficiary[position]``: the monthly rows it counts in."""
        lo = np.searchsorted(self.starts, self.first[beneficiary], "left")
        hi = np.searchsorted(self.starts, self.last[beneficiary], "right")
        n = np.maximum(hi - lo, 0)
        pos = np.repeat(np.arange(beneficiary.size, dtype=np.int64), n)
        k = lo[pos] + np.arange(pos.size, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        return pos, k

    @staticmethod
    def of(inst: Instance, pairs: Pairs) -> Universe:
        allowed = allowed_pairs(inst, pairs)
        one_off = np.zeros(len(pairs), dtype=np.int64)
        has_term = np.flatnonzero(pairs.term >= 0)
        if has_term.size:
            table = {
                (u, k): t.one_off_cents
                for u, d in enumerate(inst.dwellings)
                for k, t in enumerate(d.terms)
            }
            one_off[has_term] = [
                table[u, k]
                for u, k in zip(
                    pairs.unit[has_term].tolist(), pairs.term[has_term].tolist(), strict=True
                )
            ]
        stays = [inst.stay(b) for b in inst.beneficiaries]
        first = np.array([x.first for x in stays], dtype=np.int64)
        return Universe(
            inst=inst,
            pairs=pairs,
            allowed=allowed,
            funds=FundTable.of(inst),
            months=np.array([inst.months(b) for b in inst.beneficiaries], dtype=np.int64),
            one_off=one_off,
            rooms=_room_choice(inst, pairs, allowed),
            first=first,
            last=np.array([x.last for x in stays], dtype=np.int64),
            starts=np.unique(first) if first.size else np.zeros(1, np.int64),
        )

    def columns(self, idx: IntArray | None = None, ordered: bool = True) -> Columns:
        """The columns of the options ``idx`` (sorted indices; every option when None)."""
        return columns_of(
            self.inst,
            self.pairs,
            self.funds,
            self.allowed,
            self.months,
            self.one_off,
            self.rooms,
            idx,
            ordered,
        )


def _room_choice(inst: Instance, pairs: Pairs, allowed: BoolArray) -> RoomChoice:
    """Shared flats whose candidates' stays differ choose a room per column: room counts
    month by month are not enough to keep each person in one room for a whole stay."""
    nd, nf = len(inst.dwellings), len(inst.shared_flats)
    explicit = np.zeros(nf, dtype=bool)
    if inst.policy.horizon is not None and nf:
        bed = allowed & (pairs.unit >= nd)
        first = np.array([inst.stay(b).first for b in inst.beneficiaries], dtype=np.int64)
        last = np.array([inst.stay(b).last for b in inst.beneficiaries], dtype=np.int64)
        f = pairs.unit[bed] - nd
        b = pairs.beneficiary[bed]
        for which in (first, last):
            lo = np.full(nf, np.iinfo(np.int64).max)
            hi = np.full(nf, np.iinfo(np.int64).min)
            np.minimum.at(lo, f, which[b])
            np.maximum.at(hi, f, which[b])
            explicit |= hi > lo
    room_of_pin: dict[int, int] = {}
    for p in inst.pinned:
        if p.room is None or p.unit not in inst.unit_index:
            continue
        fi = inst.unit_index[p.unit] - nd
        if fi >= 0 and explicit[fi]:
            ids = [r.id for r in inst.shared_flats[fi].rooms]
            room_of_pin[inst.beneficiary_index[p.beneficiary]] = ids.index(p.room)
    return RoomChoice(explicit=explicit, n_dwellings=nd, room_of_pin=room_of_pin)


Blocker = Callable[[int, "Activity"], str]
"""Given a row of the block (local index) that stops a placement and the rows' current
activity, the reason code an explanation gives (:mod:`matching.explain`)."""


@dataclass
class Activity:
    """The rows' activities and the auxiliary variables' values of an allocation."""

    row: IntArray
    aux: IntArray


@dataclass(frozen=True)
class RowBlock:
    """The rows one rule declares (indices local to the block)."""

    rule: str
    lo: FloatArray
    hi: FloatArray
    names: Callable[[int], str]
    """A readable name of each row, for pin conflicts and logs."""
    touch: Callable[[Columns], Touch]
    """Which rows a block of columns touches (``col`` indexes the block of columns)."""
    aux_upper: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    aux_touch: Touch = field(default_factory=Touch.empty)
    """How the block's auxiliary variables touch its rows (``col``: the variable)."""
    convexity: bool = False
    """Each column touches exactly one row of the block with coefficient 1 (one row per
    household): the column generation keeps these rows and relaxes the others."""
    unit_capacity: IntArray | None = None
    """Per unit, the most households the rule lets it hold (a relaxation for the
    matching bound of :mod:`matching.pricing`), or None if it does not limit units."""
    conflicts: tuple[str, ...] = ()
    """What the pinned placements break in this rule, found when declaring it."""
    blocker: Blocker | None = None
    """The reason code when a row of this block stops a placement."""
    aux_money: IntArray | None = None
    """What each auxiliary variable costs, in cents, when it is 1 (a line opened): the
    money objective of instance@2 counts it."""
    decode: Callable[[Columns, IntArray], dict[int, str]] | None = None
    """Names what the model leaves anonymous (the rooms of bed placements): given the
    chosen columns and the block's auxiliary values, column index -> room id."""
    encode: Callable[[Sequence[Assignment]], IntArray] | None = None
    """The inverse: the block's auxiliary values that an allocation's named placements
    take (how many free rooms of each size each gender holds)."""

    @property
    def n_rows(self) -> int:
        return int(self.lo.shape[0])

    @property
    def n_aux(self) -> int:
        return int(self.aux_upper.shape[0])


class RowSpace:
    """Every rule's rows stacked, with global row and auxiliary-variable indices."""

    def __init__(self, universe: Universe, blocks: Sequence[RowBlock]) -> None:
        self.universe = universe
        self.blocks = tuple(blocks)
        self.row_start = np.cumsum([0] + [b.n_rows for b in self.blocks])
        self.aux_start = np.cumsum([0] + [b.n_aux for b in self.blocks])
        self.lo = np.concatenate([b.lo for b in self.blocks]) if self.blocks else np.zeros(0)
        self.hi = np.concatenate([b.hi for b in self.blocks]) if self.blocks else np.zeros(0)
        self.aux_upper = (
            np.concatenate([b.aux_upper for b in self.blocks])
            if self.blocks
            else np.zeros(0, dtype=np.int64)
        )
        self.aux = Touch.concat(
            [
                b.aux_touch.shifted(int(self.row_start[i]), int(self.aux_start[i]))
                for i, b in enumerate(self.blocks)
            ]
        )
        """How every auxiliary variable touches the rows (global indices)."""

    @property
    def inst(self) -> Instance:
        return self.universe.inst

    @property
    def n_rows(self) -> int:
        return int(self.row_start[-1])

    @property
    def max_rooms(self) -> int:
        """The most rooms of a shared flat (column codes count rooms up to it)."""
        return max((len(f.rooms) for f in self.inst.shared_flats), default=0)

    @property
    def n_aux(self) -> int:
        return int(self.aux_start[-1])

    @property
    def conflicts(self) -> list[str]:
        return [c for b in self.blocks for c in b.conflicts]

    def touch(self, cols: Columns) -> Touch:
        """How ``cols`` touch the rows (global row indices; ``col`` indexes ``cols``)."""
        return Touch.concat(
            [b.touch(cols).shifted(int(self.row_start[i])) for i, b in enumerate(self.blocks)]
        )

    def block(self, name: str) -> tuple[RowBlock, int]:
        """The block a rule declared, and its first global row."""
        for i, b in enumerate(self.blocks):
            if b.rule == name:
                return b, int(self.row_start[i])
        raise KeyError(name)

    def locate(self, row: int) -> tuple[RowBlock, int]:
        """The block holding global row ``row`` and the row's local index in it."""
        i = int(np.searchsorted(self.row_start, row, side="right")) - 1
        return self.blocks[i], row - int(self.row_start[i])

    def reason(self, row: int, act: Activity) -> str:
        """The reason code when global row ``row`` stops a placement, given the rows'
        activities (the block's ``blocker`` sees its own rows only)."""
        i = int(np.searchsorted(self.row_start, row, side="right")) - 1
        b = self.blocks[i]
        if b.blocker is None:
            return "units_taken"
        r0, a0 = int(self.row_start[i]), int(self.aux_start[i])
        local = Activity(row=act.row[r0 : r0 + b.n_rows], aux=act.aux[a0 : a0 + b.n_aux])
        return b.blocker(row - r0, local)

    def name(self, row: int) -> str:
        b, local = self.locate(row)
        return b.names(local)

    def convexity(self) -> tuple[RowBlock, int]:
        """The block with one row per household, and its first global row."""
        for i, b in enumerate(self.blocks):
            if b.convexity:
                return b, int(self.row_start[i])
        raise LookupError("no rule declares one row per household")

    def unit_capacity(self) -> IntArray:
        """Per unit, the most households any rule lets it hold (a relaxation)."""
        inst = self.inst
        cap = np.full(inst.n_units, len(inst.beneficiaries), dtype=np.int64)
        for b in self.blocks:
            if b.unit_capacity is not None:
                cap = np.minimum(cap, b.unit_capacity)
        return cap
