"""Solver parameters: a dataclass that checks itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SolveParams:
    """How :func:`matching.solve.solve` runs.

    Parameters
    ----------
    time_limit:
        Wall-clock seconds for the whole solve (all three stages), > 0.
    seed:
        CP-SAT's random seed. The same seed and worker count give the same result
        whenever no stage is cut by ``time_limit`` (the search is interleaved
        deterministically; only a wall-clock cut depends on the machine's speed).
    workers:
        CP-SAT search workers (>= 1). One by default: with the LP doing the bounding,
        a single CP-SAT worker proved S rounds 2-2.5x faster than two interleaved ones
        on this project's 2-core machines, and it is deterministic at no cost. With
        more, the subsolvers run interleaved (deterministic) with ``max_lp`` in them.
    stages:
        How many lexicographic stages to run (1: weight only; 2: then contribution;
        3: then commute, the full objective of the spec).
    hint_greedy:
        Warm-start stage 1 with the greedy baseline's allocation.
    relative_gap:
        Stop stage 1 once ``(bound - weight) / bound`` is at most this (0: prove it).
    log:
        Send CP-SAT's search log to the ``matching.solver`` logger (level DEBUG).
    pricing_min_pairs:
        Rounds with at least this many eligible pairs are solved by price-and-branch
        (:mod:`matching.pricing`): column generation bounds the weight over all pairs,
        and the staged engine searches the pairs it found worth pricing in. Smaller
        rounds are formulated whole. The default sits between M (0.23 million pairs)
        and L (24 million).
    decompose_min_cells:
        Rounds with at least this many (household, unit) combinations are solved in
        parts (:mod:`matching.decompose`) without ever listing all their pairs: by
        commute-separated components, and replicas of a component too dense to solve
        whole, with the funds shared out part by part. 0 turns decomposition off. The
        default sits between L (200 million combinations) and XL (20 billion).
    decompose_part_pairs:
        About how many eligible pairs a part of a decomposed round may hold.
    """

    time_limit: float = 30.0
    seed: int = 0
    workers: int = 1
    stages: int = 3
    hint_greedy: bool = True
    relative_gap: float = 0.0
    log: bool = False
    pricing_min_pairs: int = 2_000_000
    decompose_min_cells: int = 2_000_000_000
    decompose_part_pairs: int = 1_000_000

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"time_limit: must be positive seconds, got {self.time_limit}")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"workers: must be between 1 and 64, got {self.workers}")
        if self.stages not in (1, 2, 3):
            raise ValueError(f"stages: must be 1, 2 or 3, got {self.stages}")
        if not 0.0 <= self.relative_gap < 1.0:
            raise ValueError(f"relative_gap: must be in [0, 1), got {self.relative_gap}")
        if self.pricing_min_pairs < 0:
            raise ValueError("pricing_min_pairs: must be a non-negative number of pairs, "
                             f"got {self.pricing_min_pairs}")
        if self.decompose_min_cells < 0:
            raise ValueError("decompose_min_cells: must be a non-negative number of "
                             f"combinations, got {self.decompose_min_cells}")
        if self.decompose_part_pairs < 1:
            raise ValueError("decompose_part_pairs: must be a positive number of pairs, "
                             f"got {self.decompose_part_pairs}")
        if self.seed < 0:
            raise ValueError(f"seed: must be a non-negative integer, got {self.seed}")
