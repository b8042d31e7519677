"""The time budget of a run: one deadline that every part of the engine shares out.

A :class:`Budget` starts when the run starts (the command line starts it before reading
the file), so reading, eligibility, the stages and the explanations all count against
the one limit. Parts take a share of what is left (:meth:`Budget.share`), never a share
of the original limit, so that a part that finishes early leaves its time to the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """A deadline on ``time.perf_counter()``, with the moment the run began."""

    started: float
    deadline: float

    @staticmethod
    def start(limit: float, started: float | None = None) -> Budget:
        """A budget of ``limit`` seconds from ``started`` (now when None)."""
        t0 = time.perf_counter() if started is None else started
        return Budget(started=t0, deadline=t0 + limit)

    @property
    def limit(self) -> float:
        return self.deadline - self.started

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.deadline - time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the run began."""
        return time.perf_counter() - self.started

    def expired(self, margin: float = 0.0) -> bool:
        return self.left() <= margin

    def share(self, fraction: float) -> Budget:
        """A part's budget: ``fraction`` of the time left now (same start)."""
        now = time.perf_counter()
        return Budget(self.started, min(self.deadline, now + fraction * max(0.0, self.left())))

    def keep(self, fraction: float) -> Budget:
        """This budget less ``fraction`` of its whole limit, kept back for later work."""
        return Budget(self.started, self.deadline - fraction * self.limit)

    def seconds(self, floor: float = 0.01) -> float:
        """What is left, at least ``floor`` (a solver always needs a positive limit)."""
        return max(floor, self.left())
