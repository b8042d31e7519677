"""Staff users (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from agency import records
from agency.schemas import UserCreate, UserPublic
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.routes.common import ERRORS, target_office

router = APIRouter(prefix="/users", tags=["users"], responses=ERRORS)

Admin = Annotated[Principal, require(perms.USERS_ADMIN)]


@router.get("")
def list_users(me: Admin, session: SessionDep) -> list[UserPublic]:
    return [UserPublic.model_validate(u) for u in records.list_users(session)]


@router.post("", status_code=201)
def create_user(me: Admin, session: SessionDep, body: UserCreate) -> UserPublic:
    office = target_office(session, me, body.office_code) if body.office_code else None
    return UserPublic.model_validate(
        records.create_user(
            session, me.actor, body.username, body.full_name, body.password, body.role, office
        )
    )


@router.delete("/{username}", status_code=204)
def deactivate_user(me: Admin, session: SessionDep, username: str) -> None:
    """The user can no longer log in; their sessions are revoked. The last active admin
    cannot be deactivated (422)."""
    records.deactivate_user(session, me.actor, username)


@router.post("/{username}/reactivate")
def reactivate_user(me: Admin, session: SessionDep, username: str) -> UserPublic:
    """A deactivated user may log in again."""
    return UserPublic.model_validate(records.reactivate_user(session, me.actor, username))
