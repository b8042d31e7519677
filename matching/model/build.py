"""The formulation of a round, its CP-SAT model, and allocations read back out."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from matching.eligibility import Pairs
from matching.instance import Gender, Instance
from matching.model.objectives import OBJECTIVES, ObjectiveTerm
from matching.model.rows import Rows
from matching.model.rules import RULES
from matching.model.variables import Columns, Variables
from matching.result import Assignment

RoomCounts = dict[tuple[int, int, Gender], int]


@dataclass(frozen=True)
class Hold:
    """An objective term held at a value in later stages (``==`` once proven)."""

    term: int
    sense: Literal["==", ">=", "<="]
    value: int


@dataclass
class Formulation:
    """Columns, the index space of variables, every rule's rows, the objective terms."""

    inst: Instance
    vars: Variables
    rows: Rows
    objectives: tuple[ObjectiveTerm, ...]
    coefficients: tuple[npt.NDArray[np.int64], ...]
    """Per objective term, the coefficient of each column."""
    seconds: float

    @property
    def columns(self) -> Columns:
        return self.vars.columns

    @property
    def trivial_bound(self) -> int:
        """The weight of every beneficiary with a column: no allocation beats it."""
        inst = self.inst
        return sum(inst.weight(inst.beneficiaries[bi]) for bi in self.vars.by_beneficiary)

    def value(self, term: int, chosen: Iterable[int]) -> int:
        """Objective term ``term`` of an allocation given by its chosen columns."""
        idx = np.fromiter(chosen, dtype=np.int64)
        return int(self.coefficients[term][idx].sum()) if idx.size else 0

    def subset(self, keep: npt.NDArray[np.bool_]) -> tuple[Formulation, npt.NDArray[np.int64]]:
        """The formulation on the kept columns, and old column index -> new (or -1)."""
        new_index = np.full(len(keep), -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        return formulate(self.inst, self.columns.subset(keep)), new_index


def satisfies(form: Formulation, chosen: Sequence[int],
              rooms: Mapping[tuple[int, int, Gender], int], holds: Sequence[Hold] = ()) -> bool:
    """Whether an allocation meets every row and hold exactly, in integers."""
    v, rows = form.vars, form.rows
    x = np.zeros(v.size, dtype=np.int64)
    x[list(chosen)] = 1
    for key, i in v.rooms.items():
        x[i] = rooms.get(key, 0)
    if np.any(x[v.n:] > np.asarray(v.room_upper, dtype=np.int64)) or np.any(x < 0):
        return False
    start, index, _ = rows.csr()
    coef = np.asarray(rows.coef, dtype=np.int64)
    act = np.add.reduceat(coef * x[index], start[:-1]) if len(index) else np.zeros(len(rows))
    nonempty = start[1:] > start[:-1]
    act = np.where(nonempty, act, 0)
    if np.any(act < np.asarray(rows.lo)) or np.any(act > np.asarray(rows.hi)):
        return False
    for h in holds:
        val = form.value(h.term, chosen)
        if (h.sense == "==" and val != h.value) or (h.sense == ">=" and val < h.value) \
                or (h.sense == "<=" and val > h.value):
            return False
    return True


def formulate(inst: Instance, columns: Columns) -> Formulation:
    """Every rule's rows and the objective coefficients over ``columns``."""
    t0 = time.perf_counter()
    v = Variables(inst, columns)
    rows = Rows()
    for rule in RULES:
        rule.build(rows, v, inst)
    coefficients = tuple(np.asarray(term.coefficients(v, inst), dtype=np.int64)
                         for term in OBJECTIVES)
    return Formulation(inst=inst, vars=v, rows=rows, objectives=OBJECTIVES,
                       coefficients=coefficients, seconds=time.perf_counter() - t0)


def build_formulation(inst: Instance, pairs: Pairs) -> Formulation:
    """The formulation over all eligible pairs (see :class:`Columns`)."""
    return formulate(inst, Columns.of(inst, pairs))


@dataclass
class CpSatModel:
    """A CP-SAT model of a formulation: ``var[i]`` is variable ``i`` of the index space."""

    model: cp_model.CpModel
    var: list[cp_model.IntVar]
    form: Formulation

    def objective(self, term: int) -> cp_model.LinearExprT:
        n = self.form.vars.n
        return cp_model.LinearExpr.weighted_sum(self.var[:n],
                                                self.form.coefficients[term].tolist())

    def set_objective(self, term: int) -> None:
        if self.form.objectives[term].sense == "max":
            self.model.maximize(self.objective(term))
        else:
            self.model.minimize(self.objective(term))

    def hint(self, chosen: Sequence[int], rooms: Mapping[tuple[int, int, Gender], int]) -> None:
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        on = np.zeros(self.form.vars.n, dtype=bool)
        on[list(chosen)] = True
        for var, val in zip(self.var, on.tolist(), strict=False):
            self.model.add_hint(var, val)
        for key, i in self.form.vars.rooms.items():
            self.model.add_hint(self.var[i], rooms.get(key, 0))


def to_cpsat(form: Formulation, holds: Sequence[Hold] = ()) -> CpSatModel:
    """The CP-SAT model of the formulation, with objective terms held as given."""
    v = form.vars
    model = cp_model.CpModel()
    model.name = form.inst.name
    var: list[cp_model.IntVar] = [model.new_bool_var(f"x{j}") for j in range(v.n)]
    var += [model.new_int_var(0, ub, f"r{k}") for k, ub in enumerate(v.room_upper)]
    rows = form.rows
    for r, kind in enumerate(rows.kind):
        idx, coef = rows.row(r)
        if kind == "at_most_one":
            model.add_at_most_one(var[i] for i in idx)
        elif kind == "exactly_one":
            model.add_exactly_one(var[i] for i in idx)
        else:
            lo = -cp_model.INT_MAX if rows.lo[r] == -np.inf else int(rows.lo[r])
            hi = cp_model.INT_MAX if rows.hi[r] == np.inf else int(rows.hi[r])
            model.add_linear_constraint(
                cp_model.LinearExpr.weighted_sum([var[i] for i in idx], coef), lo, hi)
    cm = CpSatModel(model=model, var=var, form=form)
    for h in holds:
        expr = cm.objective(h.term)
        if h.sense == "==":
            model.add(expr == h.value)
        elif h.sense == ">=":
            model.add(expr >= h.value)
        else:
            model.add(expr <= h.value)
    return cm


def room_counts(inst: Instance, v: Variables,
                occupied: Mapping[int, Mapping[str, Gender]]) -> RoomCounts:
    """Room-count values that fit an allocation whose occupied rooms are named.

    ``occupied`` gives, per flat, the gender of each occupied room (a greedy allocation
    names rooms); used to hint the room-count variables.
    """
    counts: RoomCounts = defaultdict(int)
    for fi, rooms in occupied.items():
        fr = v.flats.get(fi)
        if fr is None:
            continue
        beds = {r.id: r.beds for r in inst.shared_flats[fi].rooms}
        for room_id, g in rooms.items():
            if room_id not in fr.fixed and (fi, beds[room_id], g) in v.rooms:
                counts[fi, beds[room_id], g] += 1
    return dict(counts)


def decode_rooms(inst: Instance, v: Variables, chosen: Iterable[int],
                 counts: Mapping[tuple[int, int, Gender], int]) -> dict[int, str]:
    """Name a room for every bed placement: column -> room id.

    Pinned rooms take their pinned beneficiaries first; the other placements of a
    gender fill, in room order, the rooms pinned to that gender, then the free rooms
    the model gave to the gender (``counts``), then any room still empty.
    """
    nd = len(inst.dwellings)
    pin_room = {inst.beneficiary_index[p.beneficiary]: p.room for p in inst.pinned if p.room}
    by_flat: dict[int, list[int]] = defaultdict(list)
    for j in chosen:
        ui = int(v.columns.unit[j])
        if ui >= nd:
            by_flat[ui - nd].append(j)
    out: dict[int, str] = {}
    for fi, cols in sorted(by_flat.items()):
        flat = inst.shared_flats[fi]
        fr = v.flats[fi]
        free_left = {r.id: r.beds for r in flat.rooms}
        gender_of: dict[str, Gender] = dict(fr.fixed)
        quota = dict(counts)
        for room in flat.rooms:
            if room.id in gender_of:
                continue
            for g in fr.genders:
                if quota.get((fi, room.beds, g), 0) > 0:
                    quota[fi, room.beds, g] -= 1
                    gender_of[room.id] = g
                    break
        people = [(inst.beneficiaries[int(v.columns.beneficiary[j])], j) for j in cols]
        people.sort(key=lambda bj: (inst.beneficiary_index[bj[0].id] not in pin_room, bj[0].id))
        for ben, j in people:
            bi = inst.beneficiary_index[ben.id]
            room_id = pin_room.get(bi)
            if room_id is None:
                room_id = next((r.id for r in flat.rooms
                                if gender_of.get(r.id) == ben.gender and free_left[r.id] > 0),
                               None)
            if room_id is None:  # an empty room nobody claimed
                room_id = next(r.id for r in flat.rooms
                               if r.id not in gender_of and free_left[r.id] > 0)
                gender_of[room_id] = ben.gender
            free_left[room_id] -= 1
            out[j] = room_id
    return out


def allocation(form: Formulation, pairs: Pairs, chosen: Sequence[int],
               counts: Mapping[tuple[int, int, Gender], int]) -> list[Assignment]:
    """The assignments of an allocation given by its chosen columns."""
    inst, v = form.inst, form.vars
    rooms = decode_rooms(inst, v, chosen, counts)
    out = []
    for j in sorted(chosen, key=lambda j: int(v.columns.beneficiary[j])):
        p = int(v.columns.pair[j])
        fk = int(v.columns.fund[j])
        out.append(Assignment(
            beneficiary=inst.beneficiaries[int(v.columns.beneficiary[j])].id,
            unit=inst.unit_id(int(v.columns.unit[j])),
            room=rooms.get(j),
            fund=inst.funds[fk].id if fk >= 0 else None,
            contribution_cents=int(pairs.contribution_cents[p]),
            commute_km=float(pairs.commute_km[p]),
            commute_m=int(pairs.commute_m[p]),
        ))
    return out


def columns_of(form: Formulation, assignments: Sequence[Assignment]
               ) -> tuple[list[int], RoomCounts]:
    """An allocation's columns in the formulation (and its room counts), e.g. for hints.

    Placements whose column is not in the formulation are skipped.
    """
    inst, v = form.inst, form.vars
    key_of = {(b, u, f): j for j, (b, u, f) in enumerate(zip(
        v.columns.beneficiary.tolist(), v.columns.unit.tolist(), v.columns.fund.tolist(),
        strict=True))}
    fund_index = {f.id: k for k, f in enumerate(inst.funds)}
    chosen: list[int] = []
    occupied: dict[int, dict[str, Gender]] = {}
    nd = len(inst.dwellings)
    for a in assignments:
        bi, ui = inst.beneficiary_index[a.beneficiary], inst.unit_index[a.unit]
        j = key_of.get((bi, ui, fund_index[a.fund] if a.fund else -1))
        if j is None:
            continue
        chosen.append(j)
        if a.room is not None:
            occupied.setdefault(ui - nd, {})[a.room] = inst.beneficiaries[bi].gender
    return chosen, room_counts(inst, v, occupied)
