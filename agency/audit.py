"""The audit log: who did what to which record, when, and the outcome.

Entries name records by their opaque ``ref`` only, never by a person's name or any other
personal data, and the table is append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from agency.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, or a named system process (``cli``, ``system``)."""

    username: str
    user_id: int | None = None
    office_id: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(username=name)


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_ref: str | None = None,
    outcome: str = "ok",
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the log, in the caller's transaction.

    ``detail`` must carry no personal data (refs, counts and codes only).
    """
    entry = AuditEntry(
        user_id=actor.user_id,
        actor=actor.username,
        action=action,
        entity=entity,
        entity_ref=entity_ref,
        outcome=outcome,
        detail=dict(detail or {}),
    )
    session.add(entry)
    return entry


def entries(
    session: Session,
    *,
    entity_ref: str | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """The most recent entries first, optionally for one record or one action."""
    q = select(AuditEntry)
    if entity_ref is not None:
        q = q.where(AuditEntry.entity_ref == entity_ref)
    if action is not None:
        q = q.where(AuditEntry.action == action)
    q = q.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)
    return list(session.exec(q))
