"""Each room holds at most ``beds`` beneficiaries, all of the same gender."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matching.instance import Instance
from matching.model.variables import Variables


class BedsAndSingleGenderRooms:
    """Gender-wise bed capacity of each shared flat.

    With one gender among a flat's candidates, the flat's beds cap its placements.
    Otherwise each gender ``g`` gets ``rooms[f, k, g]`` free rooms of ``k`` beds (no more
    rooms of a size than the flat has), plus the rooms pinned to ``g``, and
    ``placements of g in f <= sum(k * rooms[f, k, g]) + beds of rooms pinned to g``.
    Any counts meeting these can be turned into named rooms, so the rule is exact.
    """

    name = "beds_and_single_gender_rooms"

    def build(self, model: cp_model.CpModel, v: Variables, inst: Instance) -> None:
        nd = len(inst.dwellings)
        for fi, fr in v.flats.items():
            flat = inst.shared_flats[fi]
            cols = v.by_unit[nd + fi]
            if len(fr.genders) <= 1:
                if len(cols) > flat.beds:
                    model.add(sum(v.x[j] for j in cols) <= flat.beds)
                continue
            for beds, count in fr.free_sizes.items():
                model.add(sum(v.rooms[fi, beds, g] for g in fr.genders) <= count)
            room_beds = {r.id: r.beds for r in flat.rooms}
            for g in fr.genders:
                mine = [j for j in cols if inst.beneficiaries[v.columns.beneficiary[j]].gender == g]
                fixed = sum(room_beds[r] for r, rg in fr.fixed.items() if rg == g)
                model.add(sum(v.x[j] for j in mine)
                          <= fixed + sum(beds * v.rooms[fi, beds, g] for beds in fr.free_sizes))
