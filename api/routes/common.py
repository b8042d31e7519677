"""Helpers shared by the API's routers."""

from __future__ import annotations

from sqlmodel import Session

from agency import records
from agency.models import Role
from api.deps import Principal
from api.errors import ApiError


def target_office(session: Session, me: Principal, office_code: str | None) -> int:
    """The office a new record goes to: the caseworker's own, or the one an admin names."""
    if office_code:
        try:
            office = records.office_by_code(session, office_code)
        except records.NotFoundError:
            raise ApiError(
                422,
                f"office: no office {office_code!r}",
                fields=[{"field": "office", "message": "no such office"}],
            ) from None
        if me.role is not Role.admin and office.id != me.office_id:
            raise ApiError(403, "you may only add records to your own office")
        assert office.id is not None
        return office.id
    if me.office_id is None:
        raise ApiError(
            422,
            "office: give ?office=CODE (you belong to no office)",
            fields=[{"field": "office", "message": "required"}],
        )
    return me.office_id


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "not logged in"},
    403: {"description": "your role may not do this"},
    404: {"description": "no such record (or not in your office)"},
    422: {"description": "invalid input; `fields` names each field at fault"},
}
