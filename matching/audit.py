"""A round's accountability: who it served, who it did not, and every inversion of priority.

Two parts, both computed from the instance and the result alone:

* **The group audit** (:func:`group_audit`): for each group of households (gender,
  household type, each tag, and any attribute the caller adds, such as nationality), the
  households waiting, placed and left out, the placement rate and its ratio to the
  best-served group of the same dimension (flagged under 0.8, the four-fifths rule), the
  mean contribution and commute of the placed, and the reasons the unplaced share. Counts
  under 5 are never shown as such (:meth:`RoundAudit.to_dict`).

* **Priority inversions** (:func:`inversions`). The objective maximises priority x persons
  (or households), so a household may be left out, or placed farther from work, while a
  household of *lower priority* holds a unit the first was eligible for. Every such pair
  is listed with why the allocation still stands, found by trying the swap against the
  rules' own rows (:mod:`matching.model.rules`, through :class:`~matching.packing.Packing`)
  and the objective's own terms (:mod:`matching.model.objectives`):

  - the swap breaks a rule: the reason code of the row that stops it
    (``funds_exhausted``, ``rooms_taken_by_other_gender``, ``no_seat_on_line``,
    ``transport_budget_exhausted``, ``guarantee_exhausted``, ``units_taken``),
    ``group_floor`` when the swap would take a group under its floor (a policy option),
    or ``pinned`` when a pin keeps either household where it is;
  - the best valid swap is worse on an objective term: ``weight`` (the weight it would
    lose), then ``contribution_cents`` / ``money_cents``, then ``commute_m`` (how much
    more it would cost or how much longer the commutes would be);
  - ``tie``: the swap is exactly as good on all three terms (the engine chose one of
    equal optima);
  - ``improves``: the swap is better; only possible when the result is not proven
    optimal (a time limit, or a round solved in parts).

  A swap moves the higher-priority household into the holder's unit (any of its options
  there: room, fund, terms, line) and either leaves the holder out or, when the first
  household was placed, moves the holder into the unit the first one leaves; the better
  of the two counts. Everyone else keeps their placement.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.eligibility import Pairs, eligible_pairs
from matching.explain import placement_column, replay
from matching.instance import Beneficiary, Instance, household_type
from matching.model.columns import Columns
from matching.model.objectives import ObjectiveTerm, objectives_of
from matching.model.rules import GroupFloors, declare
from matching.model.space import RowSpace, Universe
from matching.packing import Fit, Packing
from matching.result import Assignment, Result

IntArray = npt.NDArray[np.int64]

SMALL = 5
"""Groups and counts under this are shown as ``"<5"``: no person can be recognised."""
FOUR_FIFTHS = 0.8
# -- priority inversions --------------------------------------------------------------


@dataclass(frozen=True)
class Inversion:
    """A household ``left`` (unplaced, or placed farther from work) while ``holder``, of
    lower priority, holds ``unit``, which ``left`` was eligible for."""

    left: str
    left_priority: int
    left_unit: str | None
    """Where ``left`` is placed (None: left out)."""
    holder: str
    holder_priority: int
    unit: str
    why: str
    """The rule the swap breaks, the objective term it loses on, ``tie`` or ``improves``."""
    lost: int = 0
    """For an objective term: how much the best swap loses on it (weight, cents, metres)."""
    swap: Mapping[str, str | None] = field(default_factory=dict)
    """The best valid swap: ``left``'s new placement (``room``, ``fund``, ``term``,
    ``line``) and whether ``holder`` moves to ``left``'s unit (``holder_to``)."""
    commute_saved_m: int = 0
    """For a household placed farther from work: how many metres shorter its commute to
    ``unit`` would be."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "left_priority": self.left_priority,
            "left_unit": self.left_unit,
            "holder": self.holder,
            "holder_priority": self.holder_priority,
            "unit": self.unit,
            "why": self.why,
            "lost": self.lost,
            "swap": dict(self.swap),
            "commute_saved_m": self.commute_saved_m,
        }


class _Swapper:
    """Tries swaps on the allocation's packing: removes placements, fits columns, then
    puts everything back, so that each try costs only the rows it touches."""

    def __init__(self, space: RowSpace, pairs: Pairs, assignments: Sequence[Assignment]) -> None:
        self.space = space
        self.pairs = pairs
        self.inst = space.inst
        self.assignments = list(assignments)
        self.pack = replay(space, pairs, self.assignments)
        self.terms: tuple[ObjectiveTerm, ...] = objectives_of(self.inst)
        self.aux_coef = [t.aux_coefficients(space) for t in self.terms]
        self.column: dict[str, Columns | None] = {
            a.beneficiary: placement_column(space, pairs, a) for a in self.assignments
        }
        self._touches: dict[str, tuple[list[int], list[int]]] = {}
        self._options: dict[tuple[int, int], Columns] = {}
        # who shares a unit or a line: the only placements whose rules' auxiliary values
        # (rooms per gender, lines opened) change when one of them leaves
        self.by_unit: dict[str, list[Assignment]] = defaultdict(list)
        self.by_line: dict[str, list[Assignment]] = defaultdict(list)
        for a in self.assignments:
            self.by_unit[a.unit].append(a)
            if a.shuttle is not None:
                self.by_line[a.shuttle].append(a)
        self.encoders = [
            (int(space.aux_start[i]), b.encode)
            for i, b in enumerate(space.blocks)
            if b.encode is not None and b.n_aux and b.rule != GroupFloors.name
        ]
        self._floors_init(space)

    def _floors_init(self, space: RowSpace) -> None:
        """Group floors hold over the whole allocation, not unit by unit: their rows are
        emptied in the packing (each floor's ``all`` raised) and a swap is checked by its
        counts instead (:meth:`floors_hold`)."""
        inst = self.inst
        floors = inst.policy.group_floors
        nb = len(inst.beneficiaries)
        self.member = np.array(
            [[f.holds(b) for b in inst.beneficiaries] for f in floors], dtype=bool
        ).reshape(len(floors), nb)
        has_option = np.zeros(nb, dtype=bool)
        if floors:
            u = space.universe
            has_option[u.columns(np.flatnonzero(u.allowed), ordered=False).beneficiary] = True
        self.reach = (self.member & has_option).sum(axis=1)
        shares = [Fraction(f.share) for f in floors]
        self.num = np.array([x.numerator for x in shares], dtype=np.int64)
        self.den = np.array([x.denominator for x in shares], dtype=np.int64)
        idx = [inst.beneficiary_index[a.beneficiary] for a in self.assignments]
        self.n_placed = len(idx)
        self.placed_in = self.member[:, idx].sum(axis=1)
        for i, b in enumerate(space.blocks):
            if b.rule == GroupFloors.name:
                act = self.pack.activity.aux
                for k in range(b.n_aux):
                    a = int(space.aux_start[i]) + k
                    if act[a] == 0:
                        self.pack.raise_aux(a, 1)

    def floors_hold(self, joins: Sequence[int], leaves: Sequence[int]) -> bool:
        """Whether every group floor holds once households ``joins`` are placed and
        ``leaves`` left out (beneficiary indices)."""
        if not len(self.num):
            return True
        n = self.n_placed + len(joins) - len(leaves)
        got = self.placed_in + self.member[:, list(joins)].sum(axis=1)
        got = got - self.member[:, list(leaves)].sum(axis=1)
        return bool(np.all((self.num * n <= self.den * got) | (got >= self.reach)))

    def gains(self, cols: Columns) -> npt.NDArray[np.int64]:
        """Each term's value of ``cols`` (a column per row), signed so that more is better."""
        out = np.zeros((len(cols), len(self.terms)), dtype=np.int64)
        for k, t in enumerate(self.terms):
            c = t.coefficients(cols, self.inst)
            out[:, k] = c if t.sense == "max" else -c
        return out

    def aux_gain(self, delta: dict[int, int]) -> npt.NDArray[np.int64]:
        out = np.zeros(len(self.terms), dtype=np.int64)
        for k, t in enumerate(self.terms):
            v = sum(int(self.aux_coef[k][a]) * d for a, d in delta.items())
            out[k] = v if t.sense == "max" else -v
        return out

    def remove(
        self, gone: Sequence[Assignment]
    ) -> tuple[list[tuple[list[int], list[int]]], dict[int, int]]:
        """Take ``gone`` out of the packing; returns what :meth:`restore` needs."""
        names = {a.beneficiary for a in gone}
        near: dict[str, Assignment] = {}
        for a in gone:
            for x in self.by_unit[a.unit]:
                near[x.beneficiary] = x
            if a.shuttle is not None:
                for x in self.by_line[a.shuttle]:
                    near[x.beneficiary] = x
        kept = [x for x in near.values() if x.beneficiary not in names]
        delta: dict[int, int] = {}
        for start, encode in self.encoders:
            d = encode(kept) - encode(list(near.values()))
            for k in np.flatnonzero(d).tolist():
                delta[start + k] = int(d[k])
        touched = []
        for a in gone:
            col = self.column[a.beneficiary]
            if col is None:
                continue
            if a.beneficiary not in self._touches:
                t = self.space.touch(col)
                self._touches[a.beneficiary] = (t.row.tolist(), (-t.coef).tolist())
            rows, coefs = self._touches[a.beneficiary]
            self.pack.place(rows, coefs, Fit(True))
            touched.append((rows, coefs))
        for aux, by in delta.items():
            self.pack.raise_aux(aux, by)
        return touched, delta

    def restore(self, touched: list[tuple[list[int], list[int]]], delta: dict[int, int]) -> None:
        for a, d in delta.items():
            self.pack.raise_aux(a, -d)
        for rows, coefs in touched:
            self.pack.place(rows, [-c for c in coefs], Fit(True))

    def options(self, b: int, u: int) -> Columns:
        """Household ``b``'s columns in unit ``u`` (none when a pin keeps it elsewhere)."""
        got = self._options.get((b, u))
        if got is None:
            sl = self.pairs.of_beneficiary(b)
            idx = sl.start + np.flatnonzero(self.pairs.unit[sl] == u)
            got = self._options[b, u] = self.space.universe.columns(idx.astype(np.int64))
        return got

    def fitting(self, cols: Columns) -> tuple[list[tuple[int, Fit, list[int], list[int]]], str]:
        """The columns of ``cols`` that fit now, and the reason of the first that does not
        (any rule over ``funds_exhausted``, as :mod:`matching.explain` words it)."""
        if len(cols) == 0:
            return [], "pinned"
        t = self.space.touch(cols)
        order = np.argsort(t.col, kind="stable")
        starts = np.searchsorted(t.col[order], np.arange(len(cols) + 1))
        ok: list[tuple[int, Fit, list[int], list[int]]] = []
        code = ""
        for j in range(len(cols)):
            sel = order[starts[j] : starts[j + 1]]
            rows, coefs = t.row[sel].tolist(), t.coef[sel].tolist()
            fit = self.pack.fits(rows, coefs)
            if fit.ok:
                ok.append((j, fit, rows, coefs))
            else:
                this = self.space.reason(fit.blocking, self.pack.activity)
                code = this if not code or code == "funds_exhausted" else code
        return ok, code

    def raise_gain(self, fit: Fit) -> npt.NDArray[np.int64]:
        return self.aux_gain(dict(Counter(fit.raises)))


def _better(x: npt.NDArray[np.int64], y: npt.NDArray[np.int64] | None) -> bool:
    return y is None or tuple(x.tolist()) > tuple(y.tolist())


NOT_EXAMINED = "not_examined"
"""The why of a placed-worse inversion beyond the examination limit (counted, not tried)."""


def inversions(
    inst: Instance,
    result: Result,
    pairs: Pairs | None = None,
    space: RowSpace | None = None,
    examine: int | None = None,
) -> list[Inversion]:
    """Every priority inversion of ``result``, with why the allocation still stands.

    Households left out come first, then those placed farther from work; each kind by
    the priority gap (largest first), then the commute the swap would save, then ids.
    Every left-out inversion is examined; of the placed-worse ones (on a large round,
    tens of thousands of near-equal commutes), the first ``examine`` (all when None), the
    rest listed with why ``not_examined``.
    """
    if not result.assignments:
        return []
    pairs = eligible_pairs(inst) if pairs is None else pairs
    space = declare(Universe.of(inst, pairs)) if space is None else space
    placed = {a.beneficiary: a for a in result.assignments}
    holders: dict[int, list[Assignment]] = defaultdict(list)
    for a in result.assignments:
        holders[inst.unit_index[a.unit]].append(a)
    prio = np.array([b.priority for b in inst.beneficiaries], dtype=np.int64)
    # each eligible (household, unit), with the household's shortest commute to the unit
    n_units = max(inst.n_units, 1)
    key = pairs.beneficiary * n_units + pairs.unit
    order = np.argsort(key, kind="stable")
    uniq, starts = np.unique(key[order], return_index=True)
    shortest = np.minimum.reduceat(pairs.commute_m[order], starts) if starts.size else starts
    found: list[tuple[tuple[int, int, int, str, str], int, int, Assignment, int]] = []
    for k, code in enumerate(uniq.tolist()):
        bi, ui = divmod(code, n_units)
        ben = inst.beneficiaries[bi]
        mine = placed.get(ben.id)
        saved = 0
        if mine is not None:
            saved = mine.commute_m - int(shortest[k])
            if inst.unit_index[mine.unit] == ui or saved <= 0:
                continue
        for h in holders.get(ui, ()):
            hb = inst.beneficiary_index[h.beneficiary]
            if prio[hb] >= prio[bi]:
                continue
            rank = (int(mine is not None), int(prio[hb] - prio[bi]), -saved, ben.id, h.beneficiary)
            found.append((rank, bi, ui, h, hb))
    found.sort(key=lambda x: x[0])
    sw = _Swapper(space, pairs, result.assignments)
    term_names = [t.name for t in sw.terms]
    pinned = {p.beneficiary for p in inst.pinned}
    out: list[Inversion] = []
    worse = 0
    for rank, bi, ui, h, hb in found:
        ben = inst.beneficiaries[bi]
        mine = placed.get(ben.id)
        if mine is not None:
            worse += 1
        if mine is not None and examine is not None and worse > examine:
            out.append(_inversion(inst, ben, mine, h, hb, NOT_EXAMINED, -rank[2]))
        else:
            out.append(_explain_swap(sw, inst, ben, bi, mine, h, hb, ui, pinned, term_names))
    return out


def _inversion(
    inst: Instance,
    ben: Beneficiary,
    mine: Assignment | None,
    h: Assignment,
    hb: int,
    why: str,
    saved: int,
    lost: int = 0,
    swap: Mapping[str, str | None] | None = None,
) -> Inversion:
    return Inversion(
        left=ben.id,
        left_priority=ben.priority,
        left_unit=mine.unit if mine is not None else None,
        holder=h.beneficiary,
        holder_priority=inst.beneficiaries[hb].priority,
        unit=h.unit,
        why=why,
        lost=lost,
        swap=swap or {},
        commute_saved_m=saved,
    )


def _explain_swap(
    sw: _Swapper,
    inst: Instance,
    ben: Beneficiary,
    bi: int,
    mine: Assignment | None,
    h: Assignment,
    hb: int,
    ui: int,
    pinned: set[str],
    term_names: list[str],
) -> Inversion:
    saved = 0
    if mine is not None:
        saved = mine.commute_m - int(sw.options(bi, ui).commute_m.min(initial=mine.commute_m))

    def inv(why: str, lost: int = 0, swap: Mapping[str, str | None] | None = None) -> Inversion:
        return _inversion(inst, ben, mine, h, hb, why, saved, lost, swap)

    if h.beneficiary in pinned or ben.id in pinned:
        return inv("pinned")
    gone = [h] if mine is None else [h, mine]
    base = -sum(
        (sw.gains(c) for c in (sw.column[a.beneficiary] for a in gone) if c is not None),
        start=np.zeros((1, len(sw.terms)), dtype=np.int64),
    )[0]
    touched, delta = sw.remove(gone)
    try:
        base = base + sw.aux_gain(delta)
        mine_cols = sw.options(bi, ui)
        fits, code = sw.fitting(mine_cols)
        if not fits:
            return inv(code or "units_taken")
        g = sw.gains(mine_cols)
        best: npt.NDArray[np.int64] | None = None
        best_swap: dict[str, str | None] = {}
        # the holder left out: the first household joins (unless it only moves)
        alone = sw.floors_hold([bi] if mine is None else [], [hb])
        for j, fit, rows, coefs in fits:
            here = base + g[j] + sw.raise_gain(fit)
            swap = _named(inst, mine_cols, j)
            if alone and _better(here, best):
                best, best_swap = here, {**swap, "holder_to": None}
            if mine is None:
                continue
            # the holder into the unit the first household leaves
            sw.pack.place(rows, coefs, fit)
            try:
                back = sw.options(hb, inst.unit_index[mine.unit])
                b_fits, _ = sw.fitting(back)
                gb = sw.gains(back)
                for jb, fitb, _, _ in b_fits:
                    there = here + gb[jb] + sw.raise_gain(fitb)
                    if _better(there, best):
                        best, best_swap = there, {**swap, "holder_to": mine.unit}
            finally:
                _unplace(sw.pack, rows, coefs, fit)
    finally:
        sw.restore(touched, delta)
    if best is None:
        return inv("group_floor")
    nz = np.flatnonzero(best)
    if nz.size == 0:
        return inv("tie", 0, best_swap)
    first = int(nz[0])
    if best[first] > 0:
        return inv("improves", int(best[first]), best_swap)
    return inv(term_names[first], int(-best[first]), best_swap)


def _unplace(pack: Packing, rows: list[int], coefs: list[int], fit: Fit) -> None:
    pack.place(rows, [-c for c in coefs], Fit(True))
    for a in fit.raises:
        pack.raise_aux(a, -1)


def _named(inst: Instance, cols: Columns, j: int) -> dict[str, str | None]:
    u, t, line, f, r = (
        int(cols.unit[j]),
        int(cols.term[j]),
        int(cols.line[j]),
        int(cols.fund[j]),
        int(cols.room[j]),
    )
    nd = len(inst.dwellings)
    return {
        "term": inst.dwellings[u].terms[t].id if t >= 0 else None,
        "line": inst.shuttles[line].id if line >= 0 else None,
        "fund": inst.funds[f].id if f >= 0 else None,
        "room": inst.shared_flats[u - nd].rooms[r].id if r >= 0 else None,
    }


# -- the group audit --------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    """One group's figures (exact; :meth:`RoundAudit.to_dict` suppresses small counts)."""

    dimension: str
    group: str
    waiting: int
    placed: int
    contribution_cents: int
    """Sum over the placed."""
    commute_m: int
    """Sum over the placed."""
    reasons: Mapping[str, int]
    """The unplaced's first reasons, counted."""

    @property
    def left_out(self) -> int:
        return self.waiting - self.placed

    @property
    def rate(self) -> float:
        return self.placed / self.waiting if self.waiting else 0.0


def groups_of(
    inst: Instance, extra: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, dict[str, list[str]]]:
    """dimension -> group -> the households in it: gender, household type, each tag (a
    household may carry several), and the caller's ``extra`` attributes (beneficiary id
    -> dimension -> value, e.g. nationality or age band)."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for b in inst.beneficiaries:
        out["gender"][b.gender].append(b.id)
        out["household"][household_type(b)].append(b.id)
        for tag in sorted(set(b.tags)):
            out["tag"][tag].append(b.id)
        for dim, value in sorted((extra or {}).get(b.id, {}).items()):
            if value:
                out[dim][value].append(b.id)
    return {d: dict(g) for d, g in out.items()}


def group_audit(
    inst: Instance, result: Result, extra: Mapping[str, Mapping[str, str]] | None = None
) -> list[GroupRow]:
    """Every group's figures, by dimension then group."""
    placed = {a.beneficiary: a for a in result.assignments}
    first_reason = {u.beneficiary: (u.reasons[0] if u.reasons else "") for u in result.unassigned}
    rows = []
    for dim, groups in groups_of(inst, extra).items():
        for name, ids in sorted(groups.items()):
            got = [placed[i] for i in ids if i in placed]
            reasons = Counter(first_reason.get(i, "") for i in ids if i not in placed)
            rows.append(
                GroupRow(
                    dimension=dim,
                    group=name,
                    waiting=len(ids),
                    placed=len(got),
                    contribution_cents=sum(a.contribution_cents for a in got),
                    commute_m=sum(a.commute_m for a in got),
                    reasons=dict(reasons.most_common()),
                )
            )
    return rows


def _shown(n: int, small: int) -> int | str:
    return n if n == 0 or n >= small else f"<{small}"


@dataclass(frozen=True)
class FloorRow:
    """How one group floor is met by an allocation."""

    group: str
    share: Decimal
    placed_in_group: int
    placed: int
    met: str
    """``share``, ``whole_group`` or ``unmet``."""


def floor_rows(inst: Instance, result: Result, pairs: Pairs | None = None) -> list[FloorRow]:
    """Each group floor of the policy against ``result``."""
    floors = inst.policy.group_floors
    if not floors:
        return []
    pairs = eligible_pairs(inst) if pairs is None else pairs
    u = Universe.of(inst, pairs)
    has_option = set(u.columns(np.flatnonzero(u.allowed), ordered=False).beneficiary.tolist())
    placed = {inst.beneficiary_index[a.beneficiary] for a in result.assignments}
    out = []
    for f in floors:
        group = {i for i, b in enumerate(inst.beneficiaries) if f.holds(b)}
        got = len(group & placed)
        if got >= f.share * len(placed):
            met = "share"
        elif not (group & has_option) - placed:
            met = "whole_group"
        else:
            met = "unmet"
        out.append(FloorRow(f.group, f.share, got, len(placed), met))
    return out


@dataclass(frozen=True)
class RoundAudit:
    """The group audit and the priority inversions of one solved round."""

    groups: tuple[GroupRow, ...]
    inversions: tuple[Inversion, ...]
    proven: bool
    """Whether the result is proven optimal (an ``improves`` inversion is then impossible)."""
    floors: tuple[FloorRow, ...] = ()
    """How each group floor of the policy is met (none without floors)."""

    def floor_dicts(self, small: int = SMALL) -> list[dict[str, Any]]:
        """Each floor: the share it asks, the group's placed (``"<5"`` when few) and the
        share reached (shown for 5 or more), and how it is met: ``share``, ``whole_group``
        (every one of the group who could be placed is) or ``unmet``."""
        return [
            {
                "group": f.group,
                "share": str(f.share),
                "placed": _shown(f.placed_in_group, small),
                "of_placed": f.placed,
                "reached": round(f.placed_in_group / f.placed, 4)
                if f.placed and f.placed_in_group >= small
                else None,
                "met": f.met,
            }
            for f in self.floors
        ]

    def group_dicts(self, small: int = SMALL) -> list[dict[str, Any]]:
        """The groups as shown to anyone: counts under ``small`` as ``"<5"``, a rate only
        for groups of ``small`` or more, means only over ``small`` placements or more; the
        ratio to the best-served group of the dimension (among groups whose rate is shown)
        and the four-fifths flag."""
        best: dict[str, float] = {}
        for g in self.groups:
            if g.waiting >= small:
                best[g.dimension] = max(best.get(g.dimension, 0.0), g.rate)
        out = []
        for g in self.groups:
            shown = g.waiting >= small
            top = best.get(g.dimension, 0.0)
            ratio = g.rate / top if shown and top > 0 else None
            out.append(
                {
                    "dimension": g.dimension,
                    "group": g.group,
                    "waiting": _shown(g.waiting, small),
                    "placed": _shown(g.placed, small),
                    "left_out": _shown(g.left_out, small),
                    "rate": round(g.rate, 4) if shown else None,
                    "ratio_to_best": round(ratio, 4) if ratio is not None else None,
                    "flagged": ratio is not None and ratio < FOUR_FIFTHS,
                    "mean_contribution_cents": g.contribution_cents // g.placed
                    if g.placed >= small
                    else None,
                    "mean_commute_km": round(g.commute_m / g.placed / 1000, 1)
                    if g.placed >= small
                    else None,
                    "reasons": {k: _shown(v, small) for k, v in g.reasons.items()},
                }
            )
        return out

    def inversion_counts(self) -> dict[str, dict[str, int]]:
        """How many inversions each explanation covers, for households left out and for
        households placed farther from work (what a planner may see)."""
        out: dict[str, Counter[str]] = {"left_out": Counter(), "placed_worse": Counter()}
        for x in self.inversions:
            out["left_out" if x.left_unit is None else "placed_worse"][x.why] += 1
        return {k: dict(v.most_common()) for k, v in out.items()}

    def to_dict(self, small: int = SMALL, named: bool = True) -> dict[str, Any]:
        """The audit as stored and shown: ``named`` lists each examined inversion with the
        households' ids (for staff of the round's office); otherwise counts only."""
        out: dict[str, Any] = {
            "proven": self.proven,
            "groups": self.group_dicts(small),
            "inversion_counts": self.inversion_counts(),
            "inversions_total": len(self.inversions),
        }
        if self.floors:
            out["floors"] = self.floor_dicts(small)
        if named:
            out["inversions"] = [x.to_dict() for x in self.inversions if x.why != NOT_EXAMINED]
        return out


EXAMINE = 2000
"""How many placed-worse inversions a round's audit examines (every left-out one is)."""


def audit(
    inst: Instance,
    result: Result,
    extra: Mapping[str, Mapping[str, str]] | None = None,
    pairs: Pairs | None = None,
    examine: int | None = EXAMINE,
) -> RoundAudit:
    """The group audit and the priority inversions of ``result`` (of the households
    placed farther from work, the first ``examine`` examined: see :func:`inversions`)."""
    return RoundAudit(
        groups=tuple(group_audit(inst, result, extra)),
        inversions=tuple(inversions(inst, result, pairs, examine=examine)),
        proven=result.status == "OPTIMAL",
        floors=tuple(floor_rows(inst, result, pairs)),
    )
