"""Who is who: the normalised identity of a household's head, and the rule the database
enforces with it.

A person is identified within an office by their names and birth date, normalised
(accents, case, spaces and punctuation do not count: ``N'Diaye Fatou`` is ``ndiaye
fatou``). ``Beneficiary.identity_key`` holds the SHA-256 of that identity (no birth date:
no key, and no uniqueness), and the unique index ``uq_beneficiary_office_identity``
over ``(office_id, identity_key)`` refuses a second record of the same person in the
same office whatever the code does: two imports of one file at once, a double-clicked
form, a repeated API call.

**A person known to two offices** is two cases, one per office (each office follows its
own case, with its own tutor and plan); the rule and every duplicate check apply within
an office only, so no check ever tells a caseworker anything about another office's
records. An admin, who sees every office, can find both.

The key is set on every insert and update by a mapper event (so no code path forgets
it), and cleared when the record is pseudonymised (GDPR Art. 17).
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from agency.models import Beneficiary


def normalise(text: str) -> str:
    """Letters and digits only, without accents, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(
        ch for ch in decomposed.casefold() if ch.isalnum() and not unicodedata.combining(ch)
    )


def identity_key(given_name: str, family_name: str, birth_date: date | None) -> str | None:
    """The SHA-256 of a person's normalised identity (None without a birth date)."""
    if birth_date is None:
        return None
    text = f"{normalise(given_name)}|{normalise(family_name)}|{birth_date.isoformat()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def key_of(b: Beneficiary) -> str | None:
    if b.pseudonymised_at is not None:
        return None
    return identity_key(b.given_name, b.family_name, b.birth_date)


@event.listens_for(Beneficiary, "before_insert")
@event.listens_for(Beneficiary, "before_update")
def _set_key(mapper: Any, connection: Any, target: Beneficiary) -> None:
    target.identity_key = key_of(target)


def same_person_in_office(
    session: Session, office_id: int, key: str | None, exclude_id: int | None = None
) -> str | None:
    """The ref of the record of this person in this office, if there is one."""
    if key is None:
        return None
    q = select(Beneficiary.ref).where(
        Beneficiary.office_id == office_id, Beneficiary.identity_key == key
    )
    if exclude_id is not None:
        q = q.where(Beneficiary.id != exclude_id)
    return session.exec(q).first()


class SamePersonError(ValueError):
    """The person already has a record in this office (``ref``)."""

    def __init__(self, ref: str | None) -> None:
        super().__init__(f"already registered in this office as {ref or 'another record'}")
        self.ref = ref


def insert_once(session: Session, b: Beneficiary) -> None:
    """Add or update ``b`` and flush, refused with :class:`SamePersonError` when the same
    person already has a record in its office: checked first, and enforced by the unique
    index when two transactions race (the loser's savepoint is rolled back)."""
    key = key_of(b)
    ref = same_person_in_office(session, b.office_id, key, b.id)
    if ref is not None:
        raise SamePersonError(ref)
    try:
        with session.begin_nested():
            session.add(b)
            session.flush()
    except IntegrityError:
        raise SamePersonError(same_person_in_office(session, b.office_id, key, b.id)) from None
