"""Staff accounts: an agency that always keeps an admin (passwords: :mod:`agency.passwords`).

- Deactivating a user revokes their sessions; the last active admin cannot be
  deactivated (by themself or another), and a deactivated user can be reactivated. Both
  are audited.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from agency import records
from agency.audit import Actor, record
from agency.models import Role, User


def _active_admins(session: Session) -> int:
    # locks the active admins' rows (PostgreSQL): two admins deactivating each other at
    # once cannot both succeed; SQLite holds the database's write lock already
    ids = session.exec(select(User.id).where(User.role == Role.admin.value,
                                             col(User.active).is_(True))
                       .order_by(col(User.id)).with_for_update()).all()
    return len(ids)


def deactivate_user(session: Session, actor: Actor, username: str) -> User:
    """Deactivate (and revoke the sessions of) a user; never the last active admin."""
    user = records.user_by_username(session, username)
    if user is None:
        raise records.NotFoundError("user", username)
    if user.active and user.role == Role.admin.value and _active_admins(session) <= 1:
        record(session, actor, "user.deactivate", "user", username, outcome="denied",
               detail={"reason": "last active admin"})
        raise records.RecordError("username", f"{username} is the last active admin: "
                                              "make another admin first")
    return records.deactivate_user(session, actor, username)


def reactivate_user(session: Session, actor: Actor, username: str) -> User:
    """A deactivated user may log in again (with their password as it was)."""
    user = records.user_by_username(session, username)
    if user is None:
        raise records.NotFoundError("user", username)
    if user.active:
        raise records.RecordError("username", f"{username} is already active")
    user.active = True
    session.add(user)
    session.flush()
    record(session, actor, "user.reactivate", "user", username)
    return user


def count_active_admins(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User).where(
        User.role == Role.admin.value, col(User.active).is_(True))).one())
