"""Solver parameters: dataclasses nested by component, each checking itself when made.

Every tuning constant of the engine lives here, so that a run's result records all of
them (``Result.engine["params"]``) and a benchmark can sweep any of them
(``housing bench --param pricing.share=0.5``). They load from a TOML file::

    time_limit = 60
    seed = 1

    [stage]
    lp_share = 0.3

    [pricing]
    min_pairs = 2_000_000
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

MIP_SOLVERS = ("highs", "scip")
"""The MIP solvers a stage may hand over to (both shipped with OR-Tools)."""


class ParamsError(ValueError):
    """A parameter out of its range, or unknown; the message names it."""


def _check(ok: bool, name: str, message: str, value: object) -> None:
    if not ok:
        raise ParamsError(f"{name}: {message}, got {value!r}")


def _share(name: str, value: float) -> None:
    _check(0.0 < value <= 1.0, name, "must be a share in (0, 1]", value)


@dataclass(frozen=True)
class StageParams:
    """How a lexicographic stage shares its time between its steps.

    Parameters
    ----------
    shares:
        Per number of stages run (1, 2 or 3), the share of the time still left that
        each stage may use.
    lp_share:
        At most this share of the time left goes to a stage's LP relaxation.
    reserve_share:
        Share of the time limit kept for explaining the unplaced and writing the result.
    rins_share:
        Share of a stage's CP-SAT time for the search around the incumbent and the LP.
    rins_min_columns:
        Below this many columns CP-SAT's own LP copes, and the neighbourhood search only
        costs time; above it (M: 370k columns) CP-SAT's root LP alone does not finish.
    rins_small_terms:
        On models below ``rins_min_columns``, the stages (by objective role) that still
        search around the incumbent and the LP first: the weight, where the rounded LP
        often misses the last households the LP bound promises and a search with the LP's
        agreed placements fixed finds them in a fraction of a second...
    rins_small_dtime:
        ...capped at this much of CP-SAT's deterministic time.
    lns_share:
        On such large models, the share of the CP-SAT time left after that search that
        goes to searching neighbourhoods of the incumbent one after the other (large
        neighbourhood search): CP-SAT's whole-model search there rarely improves on
        the incumbent (M seed 1: 11,542 after 300 s), small models near it often do.
    lns_units:
        How many homes a neighbourhood frees: the nearest to a centre, which is a home
        the LP uses fractionally or, every other time, any home.
    lns_unplaced:
        At most this many households the incumbent leaves unplaced, with an option
        among those homes, join each neighbourhood.
    lns_round_dtime:
        CP-SAT's deterministic time for each neighbourhood.
    mip_max_columns:
        Stages on at most this many columns that CP-SAT leaves open go on to a MIP solver...
    mip_solver:
        ...this one: ``highs`` (the default) or ``scip``, both shipped with OR-Tools, on
        the stage's rows with a placed variable per household added (:mod:`matching.solvers.mip`).
    mip_first_terms:
        Stages (by objective role) on which the MIP solver goes first, before CP-SAT: all
        three. The held weight and contribution are knapsack equalities whose LP
        relaxation is loose (S seed 10: the commute's LP 2.3% below its optimum), and
        branching on the households' placed variables closes them where CP-SAT is weak
        (S seeds 1-10: every seed proven within 4.5 s, median 1.9 s, with HiGHS first on
        all three; 8.5 s at most with it on the commute stage only, CP-SAT first on the
        others; 58 s with SCIP there).
    mip_first_share:
        Share of such a stage's time the MIP solver gets first; CP-SAT the rest.
    cpsat_first_share:
        When the MIP solver may follow, the share of the stage's time CP-SAT gets first...
    cpsat_first_dtime:
        ...and at most this much of CP-SAT's deterministic time (machine-independent, so
        the hand-over happens at the same point of the search on every machine)...
    cpsat_first_dtime_weight:
        ...and on the weight stage, this much: there, once the search around the LP has
        run, the MIP solver from CP-SAT's incumbent finds or rules out the last households the LP
        bound promises sooner than more CP-SAT does.
    """

    shares: tuple[tuple[float, ...], ...] = ((1.0,), (0.80, 1.0), (0.80, 0.60, 1.0))
    lp_share: float = 0.3
    reserve_share: float = 0.03
    rins_share: float = 0.3
    rins_min_columns: int = 20_000
    rins_small_terms: tuple[int, ...] = (0,)
    rins_small_dtime: float = 0.5
    lns_share: float = 0.85
    lns_units: int = 40
    lns_unplaced: int = 150
    lns_round_dtime: float = 2.0
    mip_max_columns: int = 50_000
    mip_solver: str = "highs"
    mip_first_terms: tuple[int, ...] = (0, 1, 2)
    mip_first_share: float = 0.5
    cpsat_first_share: float = 0.35
    cpsat_first_dtime: float = 3.0
    cpsat_first_dtime_weight: float = 1.0

    def __post_init__(self) -> None:
        _check(
            len(self.shares) == 3 and all(len(s) == k + 1 for k, s in enumerate(self.shares)),
            "stage.shares",
            "must give 1, 2 and 3 shares for 1, 2 and 3 stages",
            self.shares,
        )
        for k, per in enumerate(self.shares):
            for i, s in enumerate(per):
                _share(f"stage.shares[{k}][{i}]", s)
        for name in (
            "lp_share",
            "rins_share",
            "lns_share",
            "mip_first_share",
            "cpsat_first_share",
        ):
            _share(f"stage.{name}", getattr(self, name))
        _check(
            0.0 <= self.reserve_share < 0.5,
            "stage.reserve_share",
            "must be in [0, 0.5)",
            self.reserve_share,
        )
        _check(
            self.rins_min_columns >= 0,
            "stage.rins_min_columns",
            "must be >= 0",
            self.rins_min_columns,
        )
        _check(
            self.mip_max_columns >= 0, "stage.mip_max_columns", "must be >= 0", self.mip_max_columns
        )
        _check(
            self.mip_solver in MIP_SOLVERS,
            "stage.mip_solver",
            f"must be one of {', '.join(MIP_SOLVERS)}",
            self.mip_solver,
        )
        for name in ("lns_units", "lns_unplaced"):
            _check(getattr(self, name) >= 1, f"stage.{name}", "must be >= 1", getattr(self, name))
        for name in (
            "lns_round_dtime",
            "rins_small_dtime",
            "cpsat_first_dtime",
            "cpsat_first_dtime_weight",
        ):
            _check(getattr(self, name) > 0, f"stage.{name}", "must be > 0", getattr(self, name))
        for name in ("mip_first_terms", "rins_small_terms"):
            _check(
                all(t in (0, 1, 2) for t in getattr(self, name)),
                f"stage.{name}",
                "must list objective terms 0, 1 or 2",
                getattr(self, name),
            )


@dataclass(frozen=True)
class PricingParams:
    """Price-and-branch (:mod:`matching.pricing`), for rounds too large to formulate whole.

    Parameters
    ----------
    min_pairs:
        Rounds with at least this many eligible pairs are priced; smaller ones are
        formulated whole. The default sits between M (0.23 million pairs) and L (24 M).
    min_pairs_seasonal:
        The same for rounds whose stays begin in different months: their month-by-month
        rows make the whole LP far slower (M seasonal: 65 s with GLOP, against 6 s
        without seasons), while the priced master stays small.
    share:
        The share of the time column generation and the matching bounds get; the staged
        engine has the rest, on the pairs found.
    reserve_share:
        The share kept for explaining the unplaced over every pair.
    per_household, per_unit:
        Each household's cheapest pairs, and each unit's heaviest households, in the
        first master.
    add_per_household:
        Most new columns per household and pricing pass.
    drop_below, max_columns:
        Once the master holds more than ``max_columns`` columns, those at zero whose
        reduced cost is below ``-drop_below`` leave it.
    max_iterations:
        Most pricing passes.
    keep_rc:
        The last master's columns whose reduced cost is at least ``-keep_rc`` are kept
        for the integer search, with those in its solution.
    search_share:
        Share of the pricing time kept for the search of fund prices that tighten the
        matching bound (M seed 1: from 11,635 to 11,561, the LP's value being 11,560).
    money_share:
        Where the money binds (the matching with free budgets overspends a fund): the
        share of the whole time given, after the first pricing pass, to the search of
        fund prices from the master's fund duals (L, budgets cut to a fifth: each
        matching takes about 40 s). 0 turns it off.
    block_pairs:
        About how many pairs one pricing block holds.
    """

    min_pairs: int = 2_000_000
    min_pairs_seasonal: int = 100_000
    share: float = 0.4
    reserve_share: float = 0.06
    per_household: int = 8
    per_unit: int = 4
    add_per_household: int = 4
    drop_below: float = 1.0
    max_columns: int = 400_000
    max_iterations: int = 500
    keep_rc: float = 0.5
    search_share: float = 0.0
    money_share: float = 0.6
    block_pairs: int = 1 << 21

    def __post_init__(self) -> None:
        _check(self.min_pairs >= 0, "pricing.min_pairs", "must be >= 0", self.min_pairs)
        _check(
            self.min_pairs_seasonal >= 0,
            "pricing.min_pairs_seasonal",
            "must be >= 0",
            self.min_pairs_seasonal,
        )
        _share("pricing.share", self.share)
        _check(
            0.0 <= self.reserve_share < 0.5,
            "pricing.reserve_share",
            "must be in [0, 0.5)",
            self.reserve_share,
        )
        _check(
            0.0 <= self.search_share < 1.0,
            "pricing.search_share",
            "must be in [0, 1)",
            self.search_share,
        )
        _check(
            0.0 <= self.money_share < 1.0,
            "pricing.money_share",
            "must be in [0, 1)",
            self.money_share,
        )
        for name in (
            "per_household",
            "per_unit",
            "add_per_household",
            "max_columns",
            "max_iterations",
            "block_pairs",
        ):
            _check(
                getattr(self, name) >= (0 if name == "per_unit" else 1),
                f"pricing.{name}",
                "must be a positive number",
                getattr(self, name),
            )
        _check(
            self.drop_below >= 0 and self.keep_rc >= 0,
            "pricing.drop_below/keep_rc",
            "must be >= 0",
            (self.drop_below, self.keep_rc),
        )


@dataclass(frozen=True)
class DecomposeParams:
    """Rounds too large even to list their pairs, solved in parts (:mod:`matching.decompose`).

    Parameters
    ----------
    min_cells:
        Rounds with at least this many (household, unit) combinations are solved in
        parts; 0 turns decomposition off. The default sits between L (200 million
        combinations) and XL (20 billion).
    part_pairs:
        About how many eligible pairs a part may hold.
    cell_deg:
        Side of the grid cells that find the commute-separated components, in degrees.
    sample_households:
        Households per component whose pairs are listed to estimate its pairs.
    bound_share:
        Share of the time kept for the bound's check of households without a pair.
    stitch_share:
        Share of the time kept for the stitch (:func:`matching.decompose.stitch`): once
        the parts are solved, the households they left out are offered, across the
        parts' borders, the homes nobody took and the free beds of the shared flats
        (whose occupants keep their flat). It also has whatever the parts and the
        bound's check leave of theirs. 0 turns it off.
    stitch_moves:
        How many taken dwellings the stitch may also offer, their occupants free to
        move to another home of the stitch (a chain across the parts' borders): first
        those within reach of a left-out household for which no free home is found,
        whose occupant has one, then the others the left-out households reach most
        (:func:`matching.decompose._movable`, which checks each household against its
        nearest homes only: 5 s at XL). 0 offers only the homes nobody took. At XL seed
        1, on the same parts: 1,500 gave 6,635 more weight than the parts, 3,000 gave
        6,957, 6,000 gave 5,223 (the stitch's time ran out first), and none 5,327.
    workers:
        How many parts are solved at once, each as a task of the executor given to
        :func:`matching.solve.solve` (a Dask cluster's, from ``housing solve
        --part-workers`` or ``--scheduler``). Each part is given ``workers`` times the
        share of the time it would have alone, so that the parts together fill the
        workers; 1 solves them one after the other, in this process.
    money_bound:
        Also bound the weight with the funds' budgets (:mod:`matching.moneybound`):
        the round's households, each at the least a home within its reach could cost,
        as a knapsack over the funds. The weaker of the two bounds is never kept.
    """

    min_cells: int = 2_000_000_000
    part_pairs: int = 1_000_000
    cell_deg: float = 0.1
    sample_households: int = 300
    bound_share: float = 0.08
    stitch_share: float = 0.07
    stitch_moves: int = 3_000
    workers: int = 1
    money_bound: bool = True

    def __post_init__(self) -> None:
        _check(
            self.min_cells >= 0,
            "decompose.min_cells",
            "must be a non-negative number of combinations",
            self.min_cells,
        )
        _check(
            self.part_pairs >= 1,
            "decompose.part_pairs",
            "must be a positive number of pairs",
            self.part_pairs,
        )
        _check(
            0.001 <= self.cell_deg <= 5.0,
            "decompose.cell_deg",
            "must be in [0.001, 5]",
            self.cell_deg,
        )
        _check(
            self.sample_households >= 1,
            "decompose.sample_households",
            "must be >= 1",
            self.sample_households,
        )
        _check(
            0.0 <= self.bound_share < 0.5,
            "decompose.bound_share",
            "must be in [0, 0.5)",
            self.bound_share,
        )
        _check(
            0.0 <= self.stitch_share < 0.5,
            "decompose.stitch_share",
            "must be in [0, 0.5)",
            self.stitch_share,
        )
        _check(
            self.stitch_moves >= 0,
            "decompose.stitch_moves",
            "must be a non-negative number of dwellings",
            self.stitch_moves,
        )
        _check(
            1 <= self.workers <= 1024,
            "decompose.workers",
            "must be a number of parts at once in [1, 1024]",
            self.workers,
        )


@dataclass(frozen=True)
class SolveParams:
    """How :func:`matching.solve.solve` runs.

    Parameters
    ----------
    time_limit:
        Wall-clock seconds for the whole run, > 0: eligibility, every stage and the
        explanations count against it.
    seed:
        CP-SAT's random seed. The same seed and worker count give the same result
        whenever no stage is cut by ``time_limit``.
    workers:
        CP-SAT search workers (>= 1). One by default: with the LP doing the bounding, a
        single CP-SAT worker proved S rounds 2-2.5x faster than two interleaved ones on
        this project's 2-core machines, and it is deterministic at no cost.
    stages:
        How many lexicographic stages to run (1: weight only; 2: then contribution;
        3: then commute, the full objective of the contract).
    hint_greedy:
        Warm-start stage 1 with the greedy baseline's allocation.
    relative_gap:
        Stop stage 1 once ``(bound - weight) / bound`` is at most this (0: prove it).
    log:
        Send CP-SAT's search log to the ``matching.solver`` logger (level DEBUG).
    stage, pricing, decompose:
        Each component's own parameters.
    """

    time_limit: float = 30.0
    seed: int = 0
    workers: int = 1
    stages: int = 3
    hint_greedy: bool = True
    relative_gap: float = 0.0
    log: bool = False
    stage: StageParams = field(default_factory=StageParams)
    pricing: PricingParams = field(default_factory=PricingParams)
    decompose: DecomposeParams = field(default_factory=DecomposeParams)

    def __post_init__(self) -> None:
        _check(self.time_limit > 0, "time_limit", "must be positive seconds", self.time_limit)
        _check(1 <= self.workers <= 64, "workers", "must be between 1 and 64", self.workers)
        _check(self.stages in (1, 2, 3), "stages", "must be 1, 2 or 3", self.stages)
        _check(
            0.0 <= self.relative_gap < 1.0, "relative_gap", "must be in [0, 1)", self.relative_gap
        )
        _check(self.seed >= 0, "seed", "must be a non-negative integer", self.seed)

    def to_dict(self) -> dict[str, Any]:
        """Every parameter, nested as in a TOML file (for the result's engine record)."""
        out: dict[str, Any] = _plain(dataclasses.asdict(self))
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> SolveParams:
        """Parameters from a (TOML-shaped) mapping; unknown keys are an error."""
        out: SolveParams = _build(SolveParams, data, "")
        return out

    @staticmethod
    def from_toml(path: str | Path) -> SolveParams:
        """Parameters from a TOML file (see the module docstring)."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ParamsError(f"{path}: not valid TOML: {exc}") from None
        return SolveParams.from_dict(data)

    def with_values(self, assignments: dict[str, Any]) -> SolveParams:
        """A copy with dotted keys set, e.g. ``{"pricing.share": 0.5, "seed": 2}``."""
        data = self.to_dict()
        for key, value in assignments.items():
            *path, last = key.split(".")
            node = data
            for part in path:
                if not isinstance(node.get(part), dict):
                    raise ParamsError(f"{key}: unknown parameter")
                node = node[part]
            if last not in node or isinstance(node[last], dict):
                raise ParamsError(f"{key}: unknown parameter")
            node[last] = value
        return SolveParams.from_dict(data)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


_NESTED = {"stage": StageParams, "pricing": PricingParams, "decompose": DecomposeParams}


def _build(cls: type[Any], data: dict[str, Any], prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ParamsError(f"{prefix.rstrip('.') or 'parameters'}: must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ParamsError(f"{prefix}{unknown[0]}: unknown parameter")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if prefix == "" and name in _NESTED:
            kwargs[name] = _build(_NESTED[name], value, f"{name}.")
            continue
        default = getattr(cls(), name) if prefix else getattr(SolveParams(), name)
        kwargs[name] = _coerce(f"{prefix}{name}", default, value)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ParamsError(f"{prefix or 'parameters'}: {exc}") from None


def _coerce(name: str, default: Any, value: Any) -> Any:
    """``value`` in the type of the default (TOML and command lines give ints, lists...)."""
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        _check(isinstance(value, bool), name, "must be true or false", value)
        return value
    if isinstance(default, int):
        if isinstance(value, str):
            try:
                value = int(value.replace("_", ""))
            except ValueError:
                raise ParamsError(f"{name}: must be an integer, got {value!r}") from None
        _check(
            isinstance(value, int) and not isinstance(value, bool),
            name,
            "must be an integer",
            value,
        )
        return value
    if isinstance(default, float):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ParamsError(f"{name}: must be a number, got {value!r}") from None
        _check(
            isinstance(value, int | float) and not isinstance(value, bool),
            name,
            "must be a number",
            value,
        )
        return float(value)
    if isinstance(default, tuple):
        _check(isinstance(value, list | tuple), name, "must be a list", value)
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value
