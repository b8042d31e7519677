"""Build the CP-SAT model from the eligible pairs, and read allocations back out."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from matching.eligibility import Pairs
from matching.instance import Gender, Instance
from matching.model.objectives import OBJECTIVES, ObjectiveTerm
from matching.model.rules import RULES
from matching.model.variables import Columns, Variables
from matching.result import Assignment


@dataclass
class BuiltModel:
    """A model ready for the lexicographic stages."""

    model: cp_model.CpModel
    vars: Variables
    objectives: tuple[ObjectiveTerm, ...]
    coefficients: tuple[list[int], ...]
    """Per objective term, the coefficient of each column."""
    seconds: float

    def value(self, term: int, chosen: Iterable[int]) -> int:
        """Objective term ``term`` of an allocation given by its chosen columns."""
        coef = self.coefficients[term]
        return sum(coef[j] for j in chosen)


def build_model(inst: Instance, pairs: Pairs) -> BuiltModel:
    """The model of the round: columns, every rule, the objective terms (not yet set)."""
    t0 = time.perf_counter()
    model = cp_model.CpModel()
    model.name = inst.name
    v = Variables(model, inst, Columns.of(inst, pairs))
    for rule in RULES:
        rule.build(model, v, inst)
    coefficients = tuple(term.coefficients(v, inst) for term in OBJECTIVES)
    return BuiltModel(model=model, vars=v, objectives=OBJECTIVES, coefficients=coefficients,
                      seconds=time.perf_counter() - t0)


def room_counts(inst: Instance, v: Variables, chosen: Iterable[int],
                rooms_by_flat: Mapping[int, Mapping[str, Gender]] | None = None
                ) -> dict[tuple[int, int, Gender], int]:
    """Values for the room-count variables that fit an allocation (used for hints).

    ``rooms_by_flat`` gives, per flat, the gender of each occupied room when the
    allocation already names rooms (a greedy one does); otherwise rooms are counted
    as :func:`decode_rooms` would fill them.
    """
    counts: dict[tuple[int, int, Gender], int] = defaultdict(int)
    if rooms_by_flat is None:
        return counts
    for fi, occupied in rooms_by_flat.items():
        fr = v.flats.get(fi)
        if fr is None:
            continue
        beds = {r.id: r.beds for r in inst.shared_flats[fi].rooms}
        for room_id, g in occupied.items():
            if room_id not in fr.fixed and (fi, beds[room_id], g) in v.rooms:
                counts[fi, beds[room_id], g] += 1
    return counts


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
        # free rooms handed to each gender by the model, smallest room ids first
        quota = dict(counts)
        for room in flat.rooms:
            if room.id in gender_of:
                continue
            for g in fr.genders:
                if quota.get((fi, room.beds, g), 0) > 0:
                    quota[fi, room.beds, g] -= 1
                    gender_of[room.id] = g
                    break

        def person(j: int) -> tuple[int, Gender]:
            bi = int(v.columns.beneficiary[j])
            return bi, inst.beneficiaries[bi].gender

        ordered = sorted(cols, key=lambda j: (pin_room.get(person(j)[0]) is None,
                                              inst.beneficiaries[person(j)[0]].id))
        for j in ordered:
            bi, g = person(j)
            room_id = pin_room.get(bi)
            if room_id is None:
                room_id = next((r.id for r in flat.rooms
                                if gender_of.get(r.id) == g and free_left[r.id] > 0), None)
            if room_id is None:  # an empty room nobody claimed
                room_id = next(r.id for r in flat.rooms
                               if r.id not in gender_of and free_left[r.id] > 0)
                gender_of[room_id] = g
            free_left[room_id] -= 1
            out[j] = room_id
    return out


def allocation(inst: Instance, built: BuiltModel, pairs: Pairs, chosen: list[int],
               counts: Mapping[tuple[int, int, Gender], int]) -> list[Assignment]:
    """The assignments of an allocation given by its chosen columns."""
    v = built.vars
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
        ))
    return out
