"""The agency's shuttle lines: seats month by month, and lines opened within the budget.

instance@2, "Shuttles": in every month, the adults of the placements that ride a line
and stay that month fill at most its seats. A line that does not run yet opens when a
placement rides it, at its cost for every month of the round; the opened lines' costs
add up to at most the transport budget.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from matching.instance import month_text
from matching.model.columns import Columns
from matching.model.space import Activity, RowBlock, Touch, Universe
from matching.result import Assignment


class ShuttleSeats:
    """A row per line and month a stay begins: ``sum(adults * x) <= seats``, or for a line
    not running ``sum(adults * x) - seats * open <= 0`` with ``open`` an auxiliary 0/1;
    and one row ``sum(cost * open) <= transport budget``. Each ``open`` costs its line's
    cost in the money objective."""

    name = "shuttle_seats"

    def declare(self, u: Universe) -> RowBlock:
        inst = u.inst
        lines = inst.shuttles
        nl, ns = len(lines), len(u.starts)
        adults = np.array([b.adults for b in inst.beneficiaries], dtype=np.int64)
        proposed = [k for k, x in enumerate(lines) if not x.running]
        aux_of = {k: a for a, k in enumerate(proposed)}
        n = nl * ns
        hi = np.array([0.0 if not x.running else float(x.seats) for x in lines for _ in range(ns)])
        budget_row = n
        budget = inst.policy.transport_budget_cents
        lo = np.full(n + 1, -np.inf)
        hi = np.append(hi, float(budget) if budget is not None else np.inf)
        col: list[int] = []
        row: list[int] = []
        coef: list[int] = []
        for k in proposed:
            a = aux_of[k]
            for m in range(ns):
                col.append(a)
                row.append(k * ns + m)
                coef.append(-lines[k].seats)
            col.append(a)
            row.append(budget_row)
            coef.append(inst.line_cost(lines[k]))
        seasonal = inst.policy.horizon is not None and ns > 1

        def touch(cols: Columns) -> Touch:
            jr = np.flatnonzero(cols.line >= 0)
            if jr.size == 0:
                return Touch.empty()
            pos, k = u.stay_starts(cols.beneficiary[jr])
            j = jr[pos]
            return Touch(j, cols.line[j].astype(np.int64) * ns + k, adults[cols.beneficiary[j]])

        def name(r: int) -> str:
            if r == budget_row:
                return "transport budget"
            k, m = divmod(r, ns)
            when = f" in {month_text(int(u.starts[m]))}" if seasonal else ""
            return f"seats of line {lines[k].id}{when}"

        def blocker(r: int, act: Activity) -> str:
            if r == budget_row:
                return "transport_budget_exhausted"
            k = r // ns
            if not lines[k].running and act.aux[aux_of[k]] == 0:
                return "transport_budget_exhausted"  # closed, and opening it is beyond it
            return "no_seat_on_line"

        line_index = {x.id: k for k, x in enumerate(lines)}

        def encode(placed: Sequence[Assignment]) -> npt.NDArray[np.int64]:
            """The lines an allocation opens: those not running that some placement rides."""
            out = np.zeros(len(proposed), dtype=np.int64)
            for a in placed:
                k = line_index.get(a.shuttle, -1) if a.shuttle is not None else -1
                if k in aux_of:
                    out[aux_of[k]] = 1
            return out

        return RowBlock(
            rule=self.name,
            lo=lo,
            hi=hi,
            names=name,
            touch=touch,
            aux_upper=np.ones(len(proposed), dtype=np.int64),
            aux_touch=Touch(
                np.asarray(col, dtype=np.int64),
                np.asarray(row, dtype=np.int64),
                np.asarray(coef, dtype=np.int64),
            ),
            blocker=blocker,
            encode=encode,
            aux_money=np.array([inst.line_cost(lines[k]) for k in proposed], dtype=np.int64),
        )
