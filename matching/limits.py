"""What the engine can optimise exactly, checked before it starts.

The contract allows integers up to 2^53 - 1 (priorities, budgets, months). The engine
works in 64-bit integers and its LP in doubles, exact below 2^53: a round whose sums
could pass these limits (a total weight beyond 2^53, a fund whose possible payments
add up beyond 2^62) is refused with an error naming the record and the field, rather
than optimised wrongly. Rounds of any real agency are many orders of magnitude below.
"""

from __future__ import annotations

from matching.instance import MAX_INT, FieldError, Instance, InstanceError

SUM_LIMIT = 2**62
"""The largest a row's or an objective's possible sum may be (CP-SAT's 64-bit linear
expressions, with room to spare)."""
LONGEST_GEODESIC_KM = 20_004.0
"""Half the meridian: no two points on the ellipsoid are farther apart."""


class EngineLimitError(InstanceError):
    """A round within the contract whose numbers the engine cannot optimise exactly."""


def check_engine_limits(inst: Instance) -> None:
    """Raise :class:`EngineLimitError` naming each record and field beyond the limits."""
    errors: list[FieldError] = []
    nb = max(1, len(inst.beneficiaries))
    total = sum(inst.weight(b) for b in inst.beneficiaries)
    if total > MAX_INT:
        top = max(inst.beneficiaries, key=lambda b: b.priority)
        errors.append(
            FieldError(
                f"beneficiary {top.id}",
                "priority",
                f"the round's weights (priority x persons) add up to {total}, beyond the "
                f"{MAX_INT} the engine optimises exactly: use a smaller scale of priorities",
            )
        )
    pol = inst.policy
    most = pol.max_contribution_cents * pol.contribution_months
    for f in inst.funds:
        if min(f.budget_cents, most) * nb >= SUM_LIMIT:
            errors.append(
                FieldError(
                    f"fund {f.id}",
                    "budget_cents",
                    f"with max_contribution_cents {pol.max_contribution_cents} over "
                    f"{pol.contribution_months} months, the payments this fund may make could "
                    f"add up beyond 2^62 cents, which the engine cannot sum exactly",
                )
            )
    reach = max((b.max_commute_km for b in inst.beneficiaries), default=0.0)
    if min(reach, pol.circuity * LONGEST_GEODESIC_KM) * 1000 * nb >= SUM_LIMIT:
        errors.append(
            FieldError(
                "policy",
                "circuity",
                f"commutes of up to {reach:g} km (circuity {pol.circuity:g}) could add up "
                f"beyond 2^62 metres, which the engine cannot sum exactly",
            )
        )
    if errors:
        raise EngineLimitError(errors, inst.name)
