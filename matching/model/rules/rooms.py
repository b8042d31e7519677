"""Each room holds at most ``beds`` beneficiaries, all of the same gender."""

from __future__ import annotations

import numpy as np

from matching.instance import Instance
from matching.model.rows import Rows
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

    def build(self, rows: Rows, v: Variables, inst: Instance) -> None:
        nd = len(inst.dwellings)
        for fi, fr in v.flats.items():
            flat = inst.shared_flats[fi]
            cols = v.by_unit[nd + fi]
            if len(fr.genders) <= 1:
                if len(cols) > flat.beds:
                    rows.linear(cols, [1] * len(cols), -np.inf, flat.beds, f"beds f{fi}")
                continue
            for beds, count in fr.free_sizes.items():
                idx = [v.rooms[fi, beds, g] for g in fr.genders]
                rows.linear(idx, [1] * len(idx), -np.inf, count, f"rooms of {beds} f{fi}")
            room_beds = {r.id: r.beds for r in flat.rooms}
            for g in fr.genders:
                mine = [j for j in cols if inst.beneficiaries[v.columns.beneficiary[j]].gender == g]
                fixed = sum(room_beds[r] for r, rg in fr.fixed.items() if rg == g)
                room_idx = [v.rooms[fi, beds, g] for beds in fr.free_sizes]
                rows.linear(mine + room_idx, [1] * len(mine) + [-b for b in fr.free_sizes],
                            -np.inf, fixed, f"beds {g} f{fi}")
