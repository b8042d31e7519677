"""The agency's typed errors get their HTTP status by their kind, in one place."""

from __future__ import annotations

import pytest

from agency.errors import (
    DuplicateError,
    NotFoundError,
    RecordError,
    RoundConflict,
    RoundInputError,
    RoundStateError,
)
from api.errors import AGENCY_ERRORS, agency_problem


@pytest.mark.parametrize(
    ("error", "status", "code", "fields"),
    [
        (NotFoundError("dwelling", "D-XXXX"), 404, "not_found", []),
        (NotFoundError("dwelling", "D-XXXX", denied=True), 404, "not_found", []),
        (
            RecordError("rent_cents", "at most 10000000"),
            422,
            "invalid",
            [{"field": "rent_cents", "message": "at most 10000000"}],
        ),
        (
            DuplicateError("code", "a fund with code 'x' exists"),
            409,
            "conflict",
            [{"field": "code", "message": "a fund with code 'x' exists"}],
        ),
        (
            RoundInputError("beneficiary_ref", "no household B-X"),
            422,
            "invalid",
            [{"field": "beneficiary_ref", "message": "no household B-X"}],
        ),
        (RoundStateError("round RND-X is closed: it can no longer be solved"), 409, "conflict", []),
        (
            RoundConflict("round RND-X cannot close", ["D-1 is let", "fund f is short"]),
            409,
            "conflict",
            [
                {"field": "conflict", "message": "D-1 is let"},
                {"field": "conflict", "message": "fund f is short"},
            ],
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None,
)
def test_each_kind_has_its_status(
    error: Exception, status: int, code: str, fields: list[dict[str, str]]
) -> None:
    assert isinstance(error, AGENCY_ERRORS)
    got = agency_problem(error)
    assert got[:2] == (status, code) and got[3] == fields
    assert got[2] == (
        f"no {error.entity} {error.ref}" if isinstance(error, NotFoundError) else str(error)
    )


def test_a_message_never_decides_the_status() -> None:
    # a state error whose message looks like "field: message" is still a 409 without a field
    assert agency_problem(RoundStateError("reason: looks like a field"))[:2] == (409, "conflict")
    with pytest.raises(TypeError):
        agency_problem(ValueError("name: not one of the agency's errors"))
