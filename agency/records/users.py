"""Staff users: argon2id password hashes, roles, and the office a caseworker belongs to.

- A password is at least 10 characters, not a common one, not the username, not a few
  characters repeated (:mod:`agency.passwords`).
- Deactivating a user revokes their sessions; the last active admin cannot be
  deactivated (by themself or another), and a deactivated user can be reactivated. Both
  are audited.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from agency import passwords
from agency.audit import Actor, record
from agency.errors import DuplicateError, NotFoundError, RecordError
from agency.models import AuthSession, Role, User
from agency.records.common import checked, now, office_of
from agency.schemas import UserCreate

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The password's argon2id hash (with its own random salt)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (never raises on a bad hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    full_name: str,
    password: str,
    role: Role | str,
    office_id: int | None,
) -> User:
    """A staff user with an argon2-hashed password; a caseworker needs an office."""
    data = checked(
        UserCreate,
        {"username": username, "full_name": full_name, "password": password, "role": role},
    )
    if office_id is not None:
        office_of(session, office_id)
    elif data.role is Role.caseworker:
        raise RecordError("office", "a caseworker belongs to an office")
    weak = passwords.problem(data.password, data.username)
    if weak:
        raise RecordError("password", weak)
    if user_by_username(session, data.username) is not None:
        raise DuplicateError("username", f"user {data.username!r} exists")
    user = User(
        username=data.username,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        role=data.role,
        office_id=office_id,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", user.username, detail={"role": data.role.value})
    return user


def user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def _user(session: Session, username: str) -> User:
    user = user_by_username(session, username)
    if user is None:
        raise NotFoundError("user", username)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))))


def _active_admins(session: Session) -> int:
    # locks the active admins' rows (PostgreSQL): two admins deactivating each other at
    # once cannot both succeed; SQLite holds the database's write lock already
    ids = session.exec(
        select(User.id)
        .where(User.role == Role.admin.value, col(User.active).is_(True))
        .order_by(col(User.id))
        .with_for_update()
    ).all()
    return len(ids)


def deactivate_user(session: Session, actor: Actor, username: str) -> User:
    """The user can no longer log in, and every session of theirs is revoked; never the
    last active admin."""
    user = _user(session, username)
    if user.active and user.role == Role.admin.value and _active_admins(session) <= 1:
        record(
            session,
            actor,
            "user.deactivate",
            "user",
            username,
            outcome="denied",
            detail={"reason": "last active admin"},
        )
        raise RecordError(
            "username", f"{username} is the last active admin: make another admin first"
        )
    user.active = False
    session.add(user)
    at = now()
    for s in session.exec(
        select(AuthSession).where(
            AuthSession.user_id == user.id, col(AuthSession.revoked_at).is_(None)
        )
    ):
        s.revoked_at = at
        session.add(s)
    session.flush()
    record(session, actor, "user.deactivate", "user", username)
    return user


def reactivate_user(session: Session, actor: Actor, username: str) -> User:
    """A deactivated user may log in again (with their password as it was)."""
    user = _user(session, username)
    if user.active:
        raise RecordError("username", f"{username} is already active")
    user.active = True
    session.add(user)
    session.flush()
    record(session, actor, "user.reactivate", "user", username)
    return user
