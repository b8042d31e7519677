"""Each room holds at most ``beds`` single adults, all of the same gender.

Beds in a room, and rooms of the same size in a flat, are interchangeable: modelling
each bed would let a solver permute them for nothing. The rule therefore decides only
*how many* free rooms of each size each gender gets in each flat (an auxiliary integer
``rooms[flat, beds, gender]``), and caps the gender's placements in the flat by the beds
of those rooms, plus the beds of the rooms a pinned placement already gives that gender.
Any counts meeting these rows can be turned into named rooms (:func:`name_rooms`, the
block's ``decode``), so the rule is exact.

A flat whose candidates are all of one gender needs no room counts: one row caps its
placements by its beds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching.instance import GENDERS, Gender, month_text
from matching.model.columns import Columns
from matching.model.space import Activity, RowBlock, Touch, Universe
from matching.result import Assignment

IntArray = npt.NDArray[np.int64]


@dataclass
class _Flat:
    """One shared flat as the rule sees it."""

    index: int
    genders: tuple[int, ...]
    """Gender codes (indices into ``GENDERS``) of the households with a pair here."""
    fixed: dict[str, int] = field(default_factory=dict)
    """Room id -> gender code, for rooms holding a pinned placement."""
    free_sizes: dict[int, int] = field(default_factory=dict)
    """Beds per room -> how many rooms of that size no pin fixes."""
    bed_row: dict[int, int] = field(default_factory=dict)
    """Gender code -> the row capping its placements (one shared row if one gender)."""
    size_row: dict[int, int] = field(default_factory=dict)
    aux: dict[tuple[int, int], int] = field(default_factory=dict)
    """(beds, gender code) -> auxiliary variable: how many such free rooms it gets."""


class BedsAndSingleGenderRooms:
    """Gender-wise bed capacity of each shared flat (see the module docstring)."""

    name = "beds_and_single_gender_rooms"

    def declare(self, u: Universe) -> RowBlock:
        inst, pairs = u.inst, u.pairs
        nd, ng = len(inst.dwellings), len(GENDERS)
        gcode = np.array([GENDERS.index(b.gender) for b in inst.beneficiaries], dtype=np.int64)
        bed = u.allowed & (pairs.unit >= nd)
        present = np.zeros((len(inst.shared_flats), ng), dtype=bool)
        present[pairs.unit[bed] - nd, gcode[pairs.beneficiary[bed]]] = True
        pinned_room: dict[tuple[str, str], list[str]] = defaultdict(list)
        pinned_flat: dict[str, list[str]] = defaultdict(list)
        for p in inst.pinned:
            pinned_flat[p.unit].append(p.beneficiary)
            if p.room is not None:
                pinned_room[p.unit, p.room].append(p.beneficiary)

        lo: list[float] = []
        hi: list[float] = []
        names: list[str] = []
        aux_upper: list[int] = []
        aux_row: list[int] = []
        aux_col: list[int] = []
        aux_coef: list[int] = []
        conflicts: list[str] = []
        flats: dict[int, _Flat] = {}
        row_of = np.full((len(inst.shared_flats), ng), -1, dtype=np.int64)

        def row(name: str, cap: float) -> int:
            lo.append(-np.inf)
            hi.append(cap)
            names.append(name)
            return len(hi) - 1

        explicit = u.rooms.explicit
        for fi, flat in enumerate(inst.shared_flats):
            if explicit[fi]:
                continue  # its rooms are chosen per column: see _explicit_rows
            who = pinned_flat.get(flat.id, [])
            if len(who) > flat.beds:
                conflicts.append(
                    f"shared flat {flat.id} has {flat.beds} beds but {len(who)} "
                    f"pinned beneficiaries"
                )
            genders = tuple(np.flatnonzero(present[fi]).tolist())
            if not genders:
                continue
            fr = _Flat(index=fi, genders=genders)
            for room in flat.rooms:
                holders = pinned_room.get((flat.id, room.id), [])
                if len(holders) > room.beds:
                    conflicts.append(
                        f"room {room.id} of {flat.id} has {room.beds} beds but "
                        f"{len(holders)} pinned"
                    )
                kinds = {inst.beneficiary(x).gender for x in holders}
                if len(kinds) > 1:
                    conflicts.append(f"room {room.id} of {flat.id} is pinned to mixed genders")
                if holders:
                    fr.fixed[room.id] = GENDERS.index(inst.beneficiary(holders[0]).gender)
                else:
                    fr.free_sizes[room.beds] = fr.free_sizes.get(room.beds, 0) + 1
            flats[fi] = fr
            if len(genders) == 1:
                r = row(f"beds of shared flat {flat.id}", float(flat.beds))
                fr.bed_row = dict.fromkeys(range(ng), r)
                row_of[fi, :] = r
                continue
            beds_of = {r.id: r.beds for r in flat.rooms}
            for g in genders:
                fixed = sum(beds_of[rid] for rid, rg in fr.fixed.items() if rg == g)
                r = row(f"beds for {GENDERS[g]} in shared flat {flat.id}", float(fixed))
                fr.bed_row[g] = r
                row_of[fi, g] = r
            for beds, count in sorted(fr.free_sizes.items()):
                size_row = row(f"rooms of {beds} bed(s) in shared flat {flat.id}", float(count))
                fr.size_row[beds] = size_row
                for g in genders:
                    a = len(aux_upper)
                    fr.aux[beds, g] = a
                    aux_upper.append(count)
                    aux_col += [a, a]
                    aux_row += [size_row, fr.bed_row[g]]
                    aux_coef += [1, -beds]

        ex = _explicit_rows(u, present, row, conflicts, aux_upper, aux_col, aux_row, aux_coef)
        capacity = np.full(inst.n_units, len(inst.beneficiaries), dtype=np.int64)
        capacity[nd:] = [
            f.beds * (len(u.starts) if explicit[fi] else 1)
            for fi, f in enumerate(inst.shared_flats)
        ]

        def touch(cols: Columns) -> Touch:
            j = np.flatnonzero((cols.unit >= nd) & (cols.room < 0))
            rows = row_of[cols.unit[j] - nd, gcode[cols.beneficiary[j]]]
            parts = [Touch(j, rows, np.ones(j.size, dtype=np.int64))]
            if ex.table.size:
                jj = np.flatnonzero(cols.room >= 0)
                at, k = u.stay_starts(cols.beneficiary[jj])
                j = jj[at]
                r = ex.table[
                    ex.position[cols.unit[j] - nd],
                    cols.room[j].astype(np.int64),
                    k,
                    gcode[cols.beneficiary[j]],
                ]
                sel = r >= 0
                parts.append(Touch(j[sel], r[sel], np.ones(int(sel.sum()), dtype=np.int64)))
            return Touch.concat(parts)

        flat_of_row = {r: fr for fr in flats.values() for r in fr.bed_row.values()}

        def blocker(r: int, act: Activity) -> str:
            fr = flat_of_row.get(r)
            if fr is not None and len(fr.genders) > 1:
                others = [x for g, x in fr.bed_row.items() if x != r and g in fr.genders]
                if any(hi[x] - act.row[x] > 0 for x in others):
                    return "rooms_taken_by_other_gender"
            # a room chosen per column, given to another gender
            if r in ex.other_genders and any(act.aux[a] > 0 for a in ex.other_genders[r]):
                return "rooms_taken_by_other_gender"
            return "units_taken"

        block = RowBlock(
            rule=self.name,
            lo=np.asarray(lo, dtype=np.float64),
            hi=np.asarray(hi, dtype=np.float64),
            names=lambda r: names[r],
            touch=touch,
            aux_upper=np.asarray(aux_upper, dtype=np.int64),
            aux_touch=Touch(
                np.asarray(aux_col, dtype=np.int64),
                np.asarray(aux_row, dtype=np.int64),
                np.asarray(aux_coef, dtype=np.int64),
            ),
            unit_capacity=capacity,
            conflicts=tuple(conflicts),
            blocker=blocker,
            decode=lambda cols, aux: {**name_rooms(u, flats, cols, aux), **ex.named(u, cols)},
            encode=lambda placed: (
                count_rooms(u, flats, len(aux_upper), placed) + ex.encode(u, placed, len(aux_upper))
            ),
        )
        return block


def count_rooms(
    u: Universe, flats: dict[int, _Flat], n_aux: int, placed: Sequence[Assignment]
) -> IntArray:
    """The room counts of an allocation whose bed placements name their rooms."""
    inst = u.inst
    nd = len(inst.dwellings)
    gender_of: dict[tuple[int, str], int] = {}
    for a in placed:
        if a.room is None:
            continue
        fi = inst.unit_index[a.unit] - nd
        gender_of[fi, a.room] = GENDERS.index(inst.beneficiary(a.beneficiary).gender)
    out = np.zeros(n_aux, dtype=np.int64)
    for (fi, room), g in gender_of.items():
        fr = flats.get(fi)
        if fr is None or room in fr.fixed:
            continue
        beds = next(r.beds for r in inst.shared_flats[fi].rooms if r.id == room)
        a_idx = fr.aux.get((beds, g))
        if a_idx is not None:
            out[a_idx] += 1
    return out


def name_rooms(
    u: Universe, flats: dict[int, _Flat], cols: Columns, aux: IntArray
) -> dict[int, str]:
    """A room for every bed placement of ``cols`` (column index -> room id).

    Pinned rooms take their pinned households first; the other placements of a gender
    fill, in room order, the rooms pinned to that gender, then the free rooms the counts
    ``aux`` give the gender, then any room still empty.
    """
    inst = u.inst
    nd = len(inst.dwellings)
    pin_room = {inst.beneficiary_index[p.beneficiary]: p.room for p in inst.pinned if p.room}
    by_flat: dict[int, list[int]] = defaultdict(list)
    for j in np.flatnonzero((cols.unit >= nd) & (cols.room < 0)).tolist():
        by_flat[int(cols.unit[j]) - nd].append(j)
    out: dict[int, str] = {}
    for fi, js in sorted(by_flat.items()):
        flat = inst.shared_flats[fi]
        fr = flats[fi]
        free_left = {r.id: r.beds for r in flat.rooms}
        gender_of: dict[str, Gender] = {rid: GENDERS[g] for rid, g in fr.fixed.items()}
        quota = {key: int(aux[a]) for key, a in fr.aux.items()}
        for room in flat.rooms:
            if room.id in gender_of:
                continue
            for g in fr.genders:
                if quota.get((room.beds, g), 0) > 0:
                    quota[room.beds, g] -= 1
                    gender_of[room.id] = GENDERS[g]
                    break
        people = sorted(
            js,
            key=lambda j: (
                int(cols.beneficiary[j]) not in pin_room,
                inst.beneficiaries[int(cols.beneficiary[j])].id,
            ),
        )
        for j in people:
            bi = int(cols.beneficiary[j])
            gender = inst.beneficiaries[bi].gender
            room_id = pin_room.get(bi)
            if room_id is None:
                room_id = next(
                    (
                        r.id
                        for r in flat.rooms
                        if gender_of.get(r.id) == gender and free_left[r.id] > 0
                    ),
                    None,
                )
            if room_id is None:  # an empty room nobody claimed
                room_id = next(
                    r.id for r in flat.rooms if r.id not in gender_of and free_left[r.id] > 0
                )
                gender_of[room_id] = gender
            free_left[room_id] -= 1
            out[j] = room_id
    return out


@dataclass
class _Explicit:
    """The rows of the shared flats whose rooms are chosen per column (their candidates'
    stays differ): per room and month a stay begins, its beds, and when more than one
    gender may come, which gender holds it that month (an auxiliary 0/1 per gender)."""

    position: IntArray
    """Per shared flat, its position among the explicit ones (-1: not explicit)."""
    table: IntArray
    """(explicit flat, room, month of ``starts``, gender) -> the row a placement of that
    gender in that room in that month counts in (-1: none)."""
    gender_aux: dict[tuple[int, int, int, int], int]
    """(flat, room, month index, gender) -> the auxiliary 0/1 giving the room to it."""
    other_genders: dict[int, list[int]] = field(default_factory=dict)
    """A gender's row -> the auxiliaries giving that room and month to another gender."""

    def named(self, u: Universe, cols: Columns) -> dict[int, str]:
        nd = len(u.inst.dwellings)
        return {
            j: u.inst.shared_flats[int(cols.unit[j]) - nd].rooms[int(cols.room[j])].id
            for j in np.flatnonzero(cols.room >= 0).tolist()
        }

    def encode(self, u: Universe, placed: Sequence[Assignment], n_aux: int) -> IntArray:
        """The room-per-gender auxiliaries an allocation's named placements take."""
        out = np.zeros(n_aux, dtype=np.int64)
        inst = u.inst
        nd = len(inst.dwellings)
        for a in placed:
            if a.room is None:
                continue
            fi = inst.unit_index[a.unit] - nd
            if fi < 0 or self.position[fi] < 0:
                continue
            r = [x.id for x in inst.shared_flats[fi].rooms].index(a.room)
            b = inst.beneficiary(a.beneficiary)
            stay = inst.stay(b)
            g = GENDERS.index(b.gender)
            for k, month in enumerate(u.starts.tolist()):
                key = (fi, r, k, g)
                if stay.first <= month <= stay.last and key in self.gender_aux:
                    out[self.gender_aux[key]] = 1
        return out


def _explicit_rows(
    u: Universe,
    present: npt.NDArray[np.bool_],
    row: Callable[[str, float], int],
    conflicts: list[str],
    aux_upper: list[int],
    aux_col: list[int],
    aux_row: list[int],
    aux_coef: list[int],
) -> _Explicit:
    """Declare the rows of the explicit flats (see :class:`_Explicit`)."""
    inst, pairs = u.inst, u.pairs
    nd, ng, ns = len(inst.dwellings), len(GENDERS), len(u.starts)
    flats = np.flatnonzero(u.rooms.explicit)
    position = np.full(len(inst.shared_flats), -1, dtype=np.int64)
    position[flats] = np.arange(flats.size)
    max_rooms = max((len(inst.shared_flats[fi].rooms) for fi in flats.tolist()), default=0)
    table = np.full((flats.size, max_rooms, ns, ng), -1, dtype=np.int64)
    gender_aux: dict[tuple[int, int, int, int], int] = {}
    other: dict[int, list[int]] = defaultdict(list)
    bed = u.allowed & (pairs.unit >= nd)
    pins = [
        (inst.unit_index[p.unit] - nd, p.room, inst.beneficiary(p.beneficiary))
        for p in inst.pinned
        if p.room is not None and inst.unit_index[p.unit] >= nd
    ]
    for fi in flats.tolist():
        flat = inst.shared_flats[fi]
        who = np.unique(pairs.beneficiary[bed & (pairs.unit == nd + fi)])
        genders = np.flatnonzero(present[fi]).tolist()
        pos = int(position[fi])
        for k, month in enumerate(u.starts.tolist()):
            here = who[(u.first[who] <= month) & (month <= u.last[who])]
            if here.size == 0:
                continue
            when = month_text(month)
            for r, room in enumerate(flat.rooms):
                pinned_here = [
                    b
                    for f2, rid, b in pins
                    if f2 == fi
                    and rid == room.id
                    and inst.stay(b).first <= month <= inst.stay(b).last
                ]
                if len(pinned_here) > room.beds:
                    conflicts.append(
                        f"room {room.id} of {flat.id} has {room.beds} beds but "
                        f"{len(pinned_here)} pinned in {when}"
                    )
                if len({b.gender for b in pinned_here}) > 1:
                    conflicts.append(
                        f"room {room.id} of {flat.id} is pinned to mixed genders in {when}"
                    )
                if room.beds == 1 or len(genders) == 1:
                    one = row(f"beds of room {room.id} of {flat.id} in {when}", float(room.beds))
                    table[pos, r, k, :] = one
                    continue
                choice = row(f"one gender in room {room.id} of {flat.id} in {when}", 1.0)
                mine: dict[int, int] = {}
                for g in genders:
                    gr = row(f"beds for {GENDERS[g]} in room {room.id} of {flat.id} in {when}", 0.0)
                    table[pos, r, k, g] = gr
                    a = len(aux_upper)
                    aux_upper.append(1)
                    aux_col.extend([a, a])
                    aux_row.extend([choice, gr])
                    aux_coef.extend([1, -room.beds])
                    gender_aux[fi, r, k, g] = a
                    mine[g] = a
                for g in mine:
                    other[int(table[pos, r, k, g])] = [x for h, x in mine.items() if h != g]
    return _Explicit(
        position=position, table=table, gender_aux=gender_aux, other_genders=dict(other)
    )
