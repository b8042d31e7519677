"""The agency's records: create, read, list, update and deactivate, each one audited.

One function per action on each kind of record (beneficiaries and their households,
landlords, dwellings, shared flats with their rooms, funds, offices, staff users). The
service, the importer and the command line all call these, so a rule is written once.

Conventions
-----------
- Every function takes the caller's :class:`~agency.audit.Actor`, adds its rows to the
  caller's session and flushes, and never commits: the caller owns the transaction.
- Every change, and every read of a person's record (a beneficiary, a landlord), writes an
  audit entry naming the record by its opaque ``ref`` only, never by a name.
- ``scope`` (an office id, or ``None`` for every office) restricts what a read or a change
  may reach: a record of another office is *not found* (its existence is never revealed);
  the :class:`NotFoundError` then says ``denied=True`` so the caller can log the attempt.
- Places are a municipality of Puglia, by name or ISTAT code, looked up in the offline
  gazetteer; the ISTAT code is stored, and the municipality's centre is used when no
  coordinates are given.
- Bad input raises :class:`RecordError`, whose message starts with the field's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from agency import identity, ledger, passwords
from agency.audit import Actor, record
from agency.models import (
    AuthSession,
    Beneficiary,
    BeneficiaryEvent,
    BeneficiaryStatus,
    Dwelling,
    Fund,
    Gender,
    HouseholdMember,
    Landlord,
    Office,
    Role,
    Room,
    SharedFlat,
    UnitStatus,
    User,
)
from agency.priority import PriorityPolicy, compute
from agency.schemas import (
    BeneficiaryCreate,
    DwellingCreate,
    FundCreate,
    LandlordCreate,
    SharedFlatCreate,
)

T = TypeVar("T")

MAX_PAGE = 200
"""The largest page a list returns."""

# --------------------------------------------------------------------------- errors


class RecordError(ValueError):
    """Input the records refuse; ``field`` names what to fix (the message starts with it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DuplicateError(RecordError):
    """A record with the same unique key (a fund code, a username) already exists."""


class NotFoundError(LookupError):
    """No such record within the caller's scope.

    ``denied`` is true when the record exists but belongs to another office: the caller
    must answer exactly as for a missing record, and may log the denied attempt.
    """

    def __init__(self, entity: str, ref: str, *, denied: bool = False) -> None:
        super().__init__(f"no {entity} {ref!r}")
        self.entity = entity
        self.ref = ref
        self.denied = denied


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and how many records the whole list holds."""

    items: list[T]
    total: int
    limit: int
    offset: int


def _page_bounds(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE:
        raise RecordError("limit", f"must be between 1 and {MAX_PAGE}, got {limit}")
    if offset < 0:
        raise RecordError("offset", f"must be 0 or more, got {offset}")
    return limit, offset


INT32_MAX = 2**31 - 1


def _int32(field: str, value: int) -> int:
    """A 32-bit column's value (monthly amounts in cents: €21 million at most)."""
    if value > INT32_MAX:
        raise RecordError(field, f"at most {INT32_MAX}, got {value}")
    return value


def _fits(field: str, value: str | None, limit: int) -> None:
    """A text within its column's length (the checked models may allow more)."""
    if value is not None and len(value) > limit:
        raise RecordError(field, f"at most {limit} characters, got {len(value)}")


def _now() -> datetime:
    return datetime.now(UTC)


def _check_scope(entity: str, ref: str, office_id: int, scope: int | None) -> None:
    if scope is not None and office_id != scope:
        raise NotFoundError(entity, ref, denied=True)


def _office(session: Session, office_id: int) -> Office:
    office = session.get(Office, office_id)
    if office is None:
        raise RecordError("office_id", f"no office with id {office_id}")
    return office


def resolve_municipality(field: str, value: str) -> tuple[str, float, float]:
    """``(ISTAT code, lat, lon)`` of a municipality of Puglia given by name or code."""
    from scenarios.gazetteer import load

    text = value.strip()
    g = load()
    try:
        m = g.by_code(text) if text.isdigit() else g.by_name(text)
    except KeyError as exc:
        raise RecordError(field, str(exc.args[0])) from None
    return m.istat_code, m.lat, m.lon


def municipality_name(code: str | None) -> str:
    """The municipality's official name for an ISTAT code (the code itself if unknown)."""
    from scenarios.gazetteer import load

    if not code:
        return ""
    try:
        return load().by_code(code).name
    except KeyError:
        return code


def _validate(model: type[BaseModel], data: Mapping[str, Any]) -> Any:
    """``model`` checked from ``data``: the first error as a :class:`RecordError`."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise RecordError(field, err["msg"]) from None


def _page_of(session: Session, model: Any, conds: list[Any], order: tuple[Any, ...],
             limit: int, offset: int) -> Page[Any]:
    """One page of ``model``'s rows meeting ``conds`` in ``order``, with their total."""
    query = select(model).where(*conds).order_by(*order)
    count = select(func.count()).select_from(model).where(*conds)
    return _paged(session, query, count, limit, offset)


def _search(q: str | None, *columns: Any) -> Any:
    if not q or not q.strip():
        return None
    pattern = "%" + q.strip().lower().replace("%", r"\%").replace("_", r"\_") + "%"
    return or_(*(func.lower(c).like(pattern, escape="\\") for c in columns))


def _paged(session: Session, query: Any, count_query: Any, limit: int,
           offset: int) -> Page[Any]:
    limit, offset = _page_bounds(limit, offset)
    total = int(session.exec(count_query).one())
    items = list(session.exec(query.offset(offset).limit(limit)))
    return Page(items=items, total=total, limit=limit, offset=offset)


# --------------------------------------------------------------------------- offices


def create_office(session: Session, actor: Actor, code: str, name: str,
                  province: str | None = None) -> Office:
    """A new office (the unit whose caseworkers share their cases)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        raise RecordError("code", "1 to 32 letters, digits, '-' or '_'")
    if not name.strip():
        raise RecordError("name", "must not be empty")
    _fits("name", name.strip(), 200)
    if session.exec(select(Office).where(Office.code == code)).first() is not None:
        raise DuplicateError("code", f"an office with code {code!r} exists")
    office = Office(code=code, name=name.strip(), province=province)
    session.add(office)
    session.flush()
    record(session, actor, "office.create", "office", code)
    return office


def office_by_code(session: Session, code: str) -> Office:
    office = session.exec(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFoundError("office", code)
    return office


def list_offices(session: Session) -> list[Office]:
    return list(session.exec(select(Office).order_by(col(Office.code))))


# --------------------------------------------------------------------------- users

_hasher = PasswordHasher()
MIN_PASSWORD = passwords.MIN_PASSWORD


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


def create_user(session: Session, actor: Actor, username: str, full_name: str,
                password: str, role: Role | str, office_id: int | None) -> User:
    """A staff user with an argon2-hashed password; a caseworker needs an office."""
    if not re.fullmatch(r"[a-z][a-z0-9._-]{1,63}", username):
        raise RecordError("username", "2 to 64 lowercase letters, digits, '.', '-' or '_', "
                                      "starting with a letter")
    if not full_name.strip():
        raise RecordError("full_name", "must not be empty")
    _fits("full_name", full_name.strip(), 200)
    weak = passwords.problem(password, username)
    if weak:
        raise RecordError("password", weak)
    try:
        role = Role(role)
    except ValueError:
        raise RecordError("role", f"unknown role {role!r} (one of: "
                                  f"{', '.join(r.value for r in Role)})") from None
    if office_id is not None:
        _office(session, office_id)
    elif role is Role.caseworker:
        raise RecordError("office", "a caseworker belongs to an office")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise DuplicateError("username", f"user {username!r} exists")
    user = User(username=username, full_name=full_name.strip(),
                password_hash=hash_password(password), role=role, office_id=office_id)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", username, detail={"role": role.value})
    return user


def user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))))


def deactivate_user(session: Session, actor: Actor, username: str) -> User:
    """The user can no longer log in, and every session of theirs is revoked."""
    user = user_by_username(session, username)
    if user is None:
        raise NotFoundError("user", username)
    user.active = False
    session.add(user)
    now = _now()
    for s in session.exec(select(AuthSession).where(AuthSession.user_id == user.id,
                                                    col(AuthSession.revoked_at).is_(None))):
        s.revoked_at = now
        session.add(s)
    session.flush()
    record(session, actor, "user.deactivate", "user", username)
    return user


# --------------------------------------------------------------------------- beneficiaries


class HouseholdMemberCreate(BaseModel):
    """Another member of a household (the head is the beneficiary itself)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    family_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    relation: Literal["partner", "child", "parent", "other"]
    birth_date: date | None = None
    gender: Gender


def _beneficiary_fields(data: BeneficiaryCreate) -> dict[str, Any]:
    _int32("income_cents", data.income_cents)
    code, lat, lon = resolve_municipality("work_municipality", data.work_municipality)
    values = data.model_dump()
    values["work_municipality"] = code
    if data.work_lat is None or data.work_lon is None:
        values["work_lat"], values["work_lon"] = lat, lon
    if values.get("registered_on") is None:
        values["registered_on"] = _now().date()
    return values


def _insert_once(session: Session, b: Beneficiary) -> None:
    """Flush ``b``, refused when the same person has a record in its office."""
    try:
        identity.insert_once(session, b)
    except identity.SamePersonError as exc:
        raise DuplicateError("given_name", str(exc)) from None


def _score(b: Beneficiary, on: date | None = None) -> None:
    total, lines = compute(b, PriorityPolicy.load(), on or _now().date())
    b.priority, b.priority_breakdown, b.priority_computed_at = total, lines, _now()


def create_beneficiary(session: Session, actor: Actor, office_id: int,
                       data: BeneficiaryCreate) -> Beneficiary:
    """A household taken in charge by ``office_id``: waiting, with its priority computed."""
    _office(session, office_id)
    b = Beneficiary(office_id=office_id, **_beneficiary_fields(data))
    _score(b)
    _insert_once(session, b)
    assert b.id is not None
    session.add(BeneficiaryEvent(beneficiary_id=b.id, kind="status",
                                 to_status=BeneficiaryStatus.waiting.value,
                                 user_id=actor.user_id))
    session.flush()
    record(session, actor, "beneficiary.create", "beneficiary", b.ref)
    return b


def _beneficiary(session: Session, ref: str, scope: int | None) -> Beneficiary:
    b = session.exec(select(Beneficiary).where(Beneficiary.ref == ref)).first()
    if b is None:
        raise NotFoundError("beneficiary", ref)
    _check_scope("beneficiary", ref, b.office_id, scope)
    return b


def get_beneficiary(session: Session, actor: Actor, ref: str, *,
                    scope: int | None = None) -> Beneficiary:
    """One household's record (an audited read)."""
    b = _beneficiary(session, ref, scope)
    record(session, actor, "beneficiary.read", "beneficiary", ref)
    return b


def list_beneficiaries(session: Session, actor: Actor, *, scope: int | None = None,
                       q: str | None = None, status: BeneficiaryStatus | str | None = None,
                       limit: int = 50, offset: int = 0) -> Page[Beneficiary]:
    """Households, highest priority first; ``q`` searches ref and names (an audited read)."""
    conds: list[Any] = []
    if scope is not None:
        conds.append(Beneficiary.office_id == scope)
    if status:
        try:
            conds.append(Beneficiary.status == BeneficiaryStatus(status).value)
        except ValueError:
            raise RecordError("status", f"unknown status {status!r}") from None
    match = _search(q, Beneficiary.ref, Beneficiary.given_name, Beneficiary.family_name)
    if match is not None:
        conds.append(match)
    order = (col(Beneficiary.priority).desc(), col(Beneficiary.registered_on),
             col(Beneficiary.id))
    page = _page_of(session, Beneficiary, conds, order, limit, offset)
    record(session, actor, "beneficiary.list", "beneficiary", None,
           detail={"count": len(page.items), "searched": match is not None})
    return page


def update_beneficiary(session: Session, actor: Actor, ref: str, changes: Mapping[str, Any],
                       *, scope: int | None = None) -> Beneficiary:
    """Change some fields; the whole record is checked again as on creation."""
    b = _beneficiary(session, ref, scope)
    base = {k: getattr(b, k) for k in BeneficiaryCreate.model_fields}
    if "work_municipality" in changes and not {"work_lat", "work_lon"} & set(changes):
        base["work_lat"] = base["work_lon"] = None  # the new place's centre
    data = _validate(BeneficiaryCreate, {**base, **changes})
    for k, v in _beneficiary_fields(data).items():
        setattr(b, k, v)
    b.updated_at = _now()
    _score(b)
    _insert_once(session, b)
    record(session, actor, "beneficiary.update", "beneficiary", ref,
           detail={"fields": sorted(changes)})
    return b


_STATUS_MOVES: dict[BeneficiaryStatus, set[BeneficiaryStatus]] = {
    BeneficiaryStatus.waiting: {BeneficiaryStatus.suspended, BeneficiaryStatus.closed},
    BeneficiaryStatus.suspended: {BeneficiaryStatus.waiting, BeneficiaryStatus.closed},
    BeneficiaryStatus.offered: {BeneficiaryStatus.closed},
    BeneficiaryStatus.housed: {BeneficiaryStatus.closed},
    BeneficiaryStatus.closed: {BeneficiaryStatus.waiting},
}
"""The moves staff may make by hand; ``offered`` and ``housed`` come from the rounds."""


def status_moves(status: BeneficiaryStatus | str) -> list[str]:
    """The statuses staff may move a case to by hand from ``status``."""
    return sorted(s.value for s in _STATUS_MOVES.get(BeneficiaryStatus(status), set()))


def change_beneficiary_status(session: Session, actor: Actor, ref: str,
                              to_status: BeneficiaryStatus | str, note: str | None = None,
                              *, scope: int | None = None) -> Beneficiary:
    """Move a case to another status, recorded as an event of its history."""
    b = _beneficiary(session, ref, scope)
    try:
        target = BeneficiaryStatus(to_status)
    except ValueError:
        raise RecordError("status", f"unknown status {to_status!r}") from None
    current = BeneficiaryStatus(b.status)
    if target not in _STATUS_MOVES.get(current, set()):
        raise RecordError("status", f"a case cannot go from {current.value} to "
                                    f"{target.value} by hand")
    assert b.id is not None
    session.add(BeneficiaryEvent(beneficiary_id=b.id, kind="status", from_status=current.value,
                                 to_status=target.value, note=note, user_id=actor.user_id))
    b.status = target
    b.updated_at = _now()
    session.add(b)
    session.flush()
    record(session, actor, "beneficiary.status", "beneficiary", ref,
           detail={"from": current.value, "to": target.value})
    return b


def deactivate_beneficiary(session: Session, actor: Actor, ref: str, note: str | None = None,
                           *, scope: int | None = None) -> Beneficiary:
    """Close the case (it leaves every future round; the record stays)."""
    return change_beneficiary_status(session, actor, ref, BeneficiaryStatus.closed, note,
                                     scope=scope)


def add_note(session: Session, actor: Actor, ref: str, note: str, *,
             scope: int | None = None) -> BeneficiaryEvent:
    """A note in the case's history."""
    b = _beneficiary(session, ref, scope)
    if not note.strip():
        raise RecordError("note", "must not be empty")
    assert b.id is not None
    ev = BeneficiaryEvent(beneficiary_id=b.id, kind="note", note=note.strip()[:4000],
                          user_id=actor.user_id)
    session.add(ev)
    session.flush()
    record(session, actor, "beneficiary.note", "beneficiary", ref)
    return ev


def beneficiary_events(session: Session, beneficiary: Beneficiary) -> list[BeneficiaryEvent]:
    return list(session.exec(select(BeneficiaryEvent)
                             .where(BeneficiaryEvent.beneficiary_id == beneficiary.id)
                             .order_by(col(BeneficiaryEvent.id))))


def add_household_member(session: Session, actor: Actor, ref: str,
                         data: HouseholdMemberCreate, *,
                         scope: int | None = None) -> HouseholdMember:
    b = _beneficiary(session, ref, scope)
    assert b.id is not None
    m = HouseholdMember(beneficiary_id=b.id, **data.model_dump())
    session.add(m)
    session.flush()
    record(session, actor, "beneficiary.member_add", "beneficiary", ref,
           detail={"member_id": m.id})
    return m


def remove_household_member(session: Session, actor: Actor, ref: str, member_id: int, *,
                            scope: int | None = None) -> None:
    b = _beneficiary(session, ref, scope)
    m = session.get(HouseholdMember, member_id)
    if m is None or m.beneficiary_id != b.id:
        raise NotFoundError("household member", str(member_id))
    session.delete(m)
    session.flush()
    record(session, actor, "beneficiary.member_remove", "beneficiary", ref,
           detail={"member_id": member_id})


def household_members(session: Session, beneficiary: Beneficiary) -> list[HouseholdMember]:
    return list(session.exec(select(HouseholdMember)
                             .where(HouseholdMember.beneficiary_id == beneficiary.id)
                             .order_by(col(HouseholdMember.id))))


# --------------------------------------------------------------------------- landlords


def create_landlord(session: Session, actor: Actor, office_id: int,
                    data: LandlordCreate) -> Landlord:
    _office(session, office_id)
    _fits("name", data.name, 200)
    landlord = Landlord(office_id=office_id, **data.model_dump())
    session.add(landlord)
    session.flush()
    record(session, actor, "landlord.create", "landlord", landlord.ref)
    return landlord


def _landlord(session: Session, ref: str, scope: int | None) -> Landlord:
    landlord = session.exec(select(Landlord).where(Landlord.ref == ref)).first()
    if landlord is None:
        raise NotFoundError("landlord", ref)
    _check_scope("landlord", ref, landlord.office_id, scope)
    return landlord


def get_landlord(session: Session, actor: Actor, ref: str, *,
                 scope: int | None = None) -> Landlord:
    """A landlord's record (may be a person: an audited read)."""
    landlord = _landlord(session, ref, scope)
    record(session, actor, "landlord.read", "landlord", ref)
    return landlord


def list_landlords(session: Session, actor: Actor, *, scope: int | None = None,
                   q: str | None = None, limit: int = 50, offset: int = 0) -> Page[Landlord]:
    conds: list[Any] = []
    if scope is not None:
        conds.append(Landlord.office_id == scope)
    match = _search(q, Landlord.ref, Landlord.name)
    if match is not None:
        conds.append(match)
    page = _page_of(session, Landlord, conds, (col(Landlord.name), col(Landlord.id)), limit,
                    offset)
    record(session, actor, "landlord.list", "landlord", None,
           detail={"count": len(page.items), "searched": match is not None})
    return page


def update_landlord(session: Session, actor: Actor, ref: str, changes: Mapping[str, Any], *,
                    scope: int | None = None) -> Landlord:
    landlord = _landlord(session, ref, scope)
    base = {k: getattr(landlord, k) for k in LandlordCreate.model_fields}
    data = _validate(LandlordCreate, {**base, **changes})
    _fits("name", data.name, 200)
    for k, v in data.model_dump().items():
        setattr(landlord, k, v)
    session.add(landlord)
    session.flush()
    record(session, actor, "landlord.update", "landlord", ref,
           detail={"fields": sorted(changes)})
    return landlord


def _landlord_id(session: Session, ref: str | None, office_id: int) -> int | None:
    if not ref:
        return None
    landlord = session.exec(select(Landlord).where(Landlord.ref == ref)).first()
    if landlord is None or landlord.office_id != office_id:
        raise RecordError("landlord_ref", f"no landlord {ref!r} in this office")
    return landlord.id


# --------------------------------------------------------------------------- dwellings


def _unit_place(data: DwellingCreate | SharedFlatCreate) -> tuple[str, float, float]:
    if isinstance(data, DwellingCreate):
        _int32("rent_cents", data.rent_cents)
    else:
        _int32("rent_per_bed_cents", data.rent_per_bed_cents)
    code, lat, lon = resolve_municipality("municipality", data.municipality)
    if data.lat is not None and data.lon is not None:
        lat, lon = data.lat, data.lon
    return code, lat, lon


def create_dwelling(session: Session, actor: Actor, office_id: int,
                    data: DwellingCreate) -> Dwelling:
    """A whole flat offered through ``office_id``, available."""
    _office(session, office_id)
    code, lat, lon = _unit_place(data)
    values = data.model_dump(exclude={"landlord_ref", "municipality", "lat", "lon"})
    d = Dwelling(office_id=office_id, landlord_id=_landlord_id(session, data.landlord_ref,
                                                                office_id),
                 municipality=code, lat=lat, lon=lon, **values)
    session.add(d)
    session.flush()
    record(session, actor, "dwelling.create", "dwelling", d.ref)
    return d


def _dwelling(session: Session, ref: str, scope: int | None) -> Dwelling:
    d = session.exec(select(Dwelling).where(Dwelling.ref == ref)).first()
    if d is None:
        raise NotFoundError("dwelling", ref)
    _check_scope("dwelling", ref, d.office_id, scope)
    return d


def get_dwelling(session: Session, actor: Actor, ref: str, *,
                 scope: int | None = None) -> Dwelling:
    return _dwelling(session, ref, scope)


def list_dwellings(session: Session, actor: Actor, *, scope: int | None = None,
                   q: str | None = None, status: UnitStatus | str | None = None,
                   municipality: str | None = None, limit: int = 50,
                   offset: int = 0) -> Page[Dwelling]:
    conds: list[Any] = []
    if scope is not None:
        conds.append(Dwelling.office_id == scope)
    if status:
        try:
            conds.append(Dwelling.status == UnitStatus(status).value)
        except ValueError:
            raise RecordError("status", f"unknown status {status!r}") from None
    if municipality:
        conds.append(Dwelling.municipality == resolve_municipality("municipality",
                                                                   municipality)[0])
    match = _search(q, Dwelling.ref, Dwelling.address)
    if match is not None:
        conds.append(match)
    return _page_of(session, Dwelling, conds, (col(Dwelling.id),), limit, offset)


def landlord_ref_of(session: Session, landlord_id: int | None) -> str | None:
    if landlord_id is None:
        return None
    landlord = session.get(Landlord, landlord_id)
    return landlord.ref if landlord else None


def update_dwelling(session: Session, actor: Actor, ref: str, changes: Mapping[str, Any], *,
                    scope: int | None = None) -> Dwelling:
    d = _dwelling(session, ref, scope)
    base = {k: getattr(d, k) for k in DwellingCreate.model_fields if k != "landlord_ref"}
    base["landlord_ref"] = landlord_ref_of(session, d.landlord_id)
    if "municipality" in changes and not {"lat", "lon"} & set(changes):
        base["lat"] = base["lon"] = None
    data: DwellingCreate = _validate(DwellingCreate, {**base, **changes})
    code, lat, lon = _unit_place(data)
    for k, v in data.model_dump(exclude={"landlord_ref", "municipality", "lat", "lon"}).items():
        setattr(d, k, v)
    d.landlord_id = _landlord_id(session, data.landlord_ref, d.office_id)
    d.municipality, d.lat, d.lon = code, lat, lon
    session.add(d)
    session.flush()
    record(session, actor, "dwelling.update", "dwelling", ref,
           detail={"fields": sorted(changes)})
    return d


def set_dwelling_status(session: Session, actor: Actor, ref: str,
                        status: UnitStatus | str, *, scope: int | None = None) -> Dwelling:
    """Withdraw a dwelling from the rounds, or offer it again (``let`` comes from leases)."""
    d = _dwelling(session, ref, scope)
    try:
        target = UnitStatus(status)
    except ValueError:
        raise RecordError("status", f"unknown status {status!r}") from None
    if target is UnitStatus.let or d.status == UnitStatus.let:
        raise RecordError("status", "a let dwelling changes status when its lease does")
    before = d.status
    d.status = target
    session.add(d)
    session.flush()
    record(session, actor, "dwelling.status", "dwelling", ref,
           detail={"from": str(before), "to": target.value})
    return d


def deactivate_dwelling(session: Session, actor: Actor, ref: str, *,
                        scope: int | None = None) -> Dwelling:
    return set_dwelling_status(session, actor, ref, UnitStatus.withdrawn, scope=scope)


# --------------------------------------------------------------------------- shared flats


def create_shared_flat(session: Session, actor: Actor, office_id: int,
                       data: SharedFlatCreate) -> SharedFlat:
    """A co-housing flat with its rooms, available."""
    _office(session, office_id)
    code, lat, lon = _unit_place(data)
    values = data.model_dump(exclude={"landlord_ref", "municipality", "lat", "lon", "rooms"})
    f = SharedFlat(office_id=office_id, landlord_id=_landlord_id(session, data.landlord_ref,
                                                                  office_id),
                   municipality=code, lat=lat, lon=lon, **values)
    session.add(f)
    session.flush()
    assert f.id is not None
    for k, r in enumerate(data.rooms, start=1):
        session.add(Room(flat_id=f.id, name=r.name or f"{k}", beds=r.beds))
    session.flush()
    record(session, actor, "shared_flat.create", "shared_flat", f.ref,
           detail={"rooms": len(data.rooms), "beds": sum(r.beds for r in data.rooms)})
    return f


def _flat(session: Session, ref: str, scope: int | None) -> SharedFlat:
    f = session.exec(select(SharedFlat).where(SharedFlat.ref == ref)).first()
    if f is None:
        raise NotFoundError("shared flat", ref)
    _check_scope("shared flat", ref, f.office_id, scope)
    return f


def get_shared_flat(session: Session, actor: Actor, ref: str, *,
                    scope: int | None = None) -> SharedFlat:
    return _flat(session, ref, scope)


def rooms_of(session: Session, flat: SharedFlat) -> list[Room]:
    return list(session.exec(select(Room).where(Room.flat_id == flat.id)
                             .order_by(col(Room.id))))


def list_shared_flats(session: Session, actor: Actor, *, scope: int | None = None,
                      q: str | None = None, status: UnitStatus | str | None = None,
                      limit: int = 50, offset: int = 0) -> Page[SharedFlat]:
    conds: list[Any] = []
    if scope is not None:
        conds.append(SharedFlat.office_id == scope)
    if status:
        try:
            conds.append(SharedFlat.status == UnitStatus(status).value)
        except ValueError:
            raise RecordError("status", f"unknown status {status!r}") from None
    match = _search(q, SharedFlat.ref, SharedFlat.address)
    if match is not None:
        conds.append(match)
    return _page_of(session, SharedFlat, conds, (col(SharedFlat.id),), limit, offset)


def update_shared_flat(session: Session, actor: Actor, ref: str, changes: Mapping[str, Any],
                       *, scope: int | None = None) -> SharedFlat:
    """Change a flat's fields (its rooms are kept; ``rooms`` may not be changed here)."""
    f = _flat(session, ref, scope)
    if "rooms" in changes:
        raise RecordError("rooms", "rooms cannot be changed once the flat is registered")
    base: dict[str, Any] = {k: getattr(f, k) for k in SharedFlatCreate.model_fields
                            if k not in ("landlord_ref", "rooms")}
    base["landlord_ref"] = landlord_ref_of(session, f.landlord_id)
    base["rooms"] = [{"name": r.name, "beds": r.beds} for r in rooms_of(session, f)]
    if "municipality" in changes and not {"lat", "lon"} & set(changes):
        base["lat"] = base["lon"] = None
    data: SharedFlatCreate = _validate(SharedFlatCreate, {**base, **changes})
    code, lat, lon = _unit_place(data)
    for k, v in data.model_dump(exclude={"landlord_ref", "municipality", "lat", "lon",
                                         "rooms"}).items():
        setattr(f, k, v)
    f.landlord_id = _landlord_id(session, data.landlord_ref, f.office_id)
    f.municipality, f.lat, f.lon = code, lat, lon
    session.add(f)
    session.flush()
    record(session, actor, "shared_flat.update", "shared_flat", ref,
           detail={"fields": sorted(changes)})
    return f


def set_shared_flat_status(session: Session, actor: Actor, ref: str,
                           status: UnitStatus | str, *, scope: int | None = None) -> SharedFlat:
    f = _flat(session, ref, scope)
    try:
        target = UnitStatus(status)
    except ValueError:
        raise RecordError("status", f"unknown status {status!r}") from None
    if target is UnitStatus.let:
        raise RecordError("status", "a shared flat is let bed by bed, through leases")
    before = f.status
    f.status = target
    session.add(f)
    session.flush()
    record(session, actor, "shared_flat.status", "shared_flat", ref,
           detail={"from": str(before), "to": target.value})
    return f


def deactivate_shared_flat(session: Session, actor: Actor, ref: str, *,
                           scope: int | None = None) -> SharedFlat:
    return set_shared_flat_status(session, actor, ref, UnitStatus.withdrawn, scope=scope)


# --------------------------------------------------------------------------- funds


def create_fund(session: Session, actor: Actor, data: FundCreate) -> Fund:
    """A budget line; a positive ``budget_cents`` is granted to it in the ledger."""
    _fits("name", data.name, 200)
    if session.exec(select(Fund).where(Fund.code == data.code)).first() is not None:
        raise DuplicateError("code", f"a fund with code {data.code!r} exists")
    fund = Fund(code=data.code, name=data.name, eligible_tags=sorted(set(data.eligible_tags)))
    session.add(fund)
    session.flush()
    record(session, actor, "fund.create", "fund", fund.code)
    if data.budget_cents > 0:
        ledger.grant(session, actor, fund, data.budget_cents, note="initial budget")
        session.flush()
    return fund


def get_fund(session: Session, code: str) -> Fund:
    fund = session.exec(select(Fund).where(Fund.code == code)).first()
    if fund is None:
        raise NotFoundError("fund", code)
    return fund


def list_funds(session: Session, *, q: str | None = None, active: bool | None = None,
               limit: int = 50, offset: int = 0) -> Page[Fund]:
    conds: list[Any] = []
    if active is not None:
        conds.append(Fund.active == active)
    match = _search(q, Fund.code, Fund.name)
    if match is not None:
        conds.append(match)
    return _page_of(session, Fund, conds, (col(Fund.code),), limit, offset)


def update_fund(session: Session, actor: Actor, code: str, *, name: str | None = None,
                eligible_tags: Sequence[str] | None = None,
                active: bool | None = None) -> Fund:
    """Rename a fund, change who it may pay for, or (de)activate it. Money moves only
    through the ledger (:func:`grant_fund`)."""
    fund = get_fund(session, code)
    base = {"code": fund.code, "name": fund.name, "eligible_tags": fund.eligible_tags}
    if name is not None:
        base["name"] = name
    if eligible_tags is not None:
        base["eligible_tags"] = list(eligible_tags)
    data: FundCreate = _validate(FundCreate, base)
    _fits("name", data.name, 200)
    fund.name, fund.eligible_tags = data.name, sorted(set(data.eligible_tags))
    if active is not None:
        fund.active = active
    session.add(fund)
    session.flush()
    changed = [k for k, v in (("name", name), ("eligible_tags", eligible_tags),
                              ("active", active)) if v is not None]
    record(session, actor, "fund.update", "fund", code, detail={"fields": changed})
    return fund


def grant_fund(session: Session, actor: Actor, code: str, amount_cents: int,
               note: str | None = None) -> Fund:
    """Money into a fund (a positive amount in cents), as a ledger entry."""
    fund = get_fund(session, code)
    if amount_cents <= 0:
        raise RecordError("amount_cents", f"a grant must be positive, got {amount_cents}")
    ledger.grant(session, actor, fund, amount_cents, note=note)
    session.flush()
    return fund


def deactivate_fund(session: Session, actor: Actor, code: str) -> Fund:
    """The fund pays no new contribution (its ledger stays)."""
    return update_fund(session, actor, code, active=False)


# --------------------------------------------------------------------------- aggregates


def aggregate_stats(session: Session, *, scope: int | None = None) -> dict[str, Any]:
    """Counts and sums for planners and dashboards: never a name, a ref or an address."""
    from agency.models import Lease, LedgerEntry, LedgerKind, Round

    def by_status(model: Any) -> dict[str, int]:
        q = select(model.status, func.count()).group_by(model.status)
        if scope is not None:
            q = q.where(model.office_id == scope)
        return {str(s): int(n) for s, n in session.exec(q).all()}

    waiting = select(func.coalesce(func.sum(Beneficiary.adults + Beneficiary.minors), 0)).where(
        Beneficiary.status == BeneficiaryStatus.waiting.value)
    beds = select(func.coalesce(func.sum(Room.beds), 0)).join(
        SharedFlat, col(SharedFlat.id) == col(Room.flat_id)).where(
        SharedFlat.status == UnitStatus.available.value)
    if scope is not None:
        waiting = waiting.where(Beneficiary.office_id == scope)
        beds = beds.where(SharedFlat.office_id == scope)
    balances = ledger.balances(session)
    active_funds = set(session.exec(select(Fund.id).where(col(Fund.active).is_(True))).all())
    committed = session.exec(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        col(LedgerEntry.kind).in_([LedgerKind.commitment.value, LedgerKind.release.value]))).one()
    leases = select(func.count()).select_from(Lease).where(col(Lease.ended_on).is_(None))
    return {
        "households_by_status": by_status(Beneficiary),
        "persons_waiting": int(session.exec(waiting).one()),
        "dwellings_by_status": by_status(Dwelling),
        "beds_total": int(session.exec(beds).one()),
        "funds_balance_cents": sum(v for k, v in balances.items() if k in active_funds),
        "funds_count": len(active_funds),
        "rounds_by_status": by_status(Round),
        "leases_active": int(session.exec(leases).one()),
        "contribution_committed_cents": -int(committed),
    }


def audit_page(session: Session, actor: Actor, *, entity_ref: str | None = None,
               action: str | None = None, outcome: str | None = None, limit: int = 50,
               offset: int = 0) -> Page[Any]:
    """The audit log, newest first (reading it is itself logged)."""
    from agency.models import AuditEntry

    conds: list[Any] = []
    if entity_ref:
        conds.append(AuditEntry.entity_ref == entity_ref)
    if action:
        conds.append(AuditEntry.action == action)
    if outcome:
        conds.append(AuditEntry.outcome == outcome)
    page = _page_of(session, AuditEntry, conds, (col(AuditEntry.id).desc(),), limit, offset)
    record(session, actor, "audit.read", "audit", entity_ref)
    return page


# --------------------------------------------------------------------------- rounds


def round_by_ref(session: Session, ref: str, *, scope: int | None = None) -> Any:
    """The round with ``ref``; a caseworker reaches only their office's rounds."""
    from agency.models import Round

    r = session.exec(select(Round).where(Round.ref == ref)).first()
    if r is None:
        raise NotFoundError("round", ref)
    if scope is not None and r.office_id != scope:
        raise NotFoundError("round", ref, denied=True)
    return r


def list_rounds(session: Session, *, scope: int | None = None, limit: int = 50,
                offset: int = 0) -> Page[Any]:
    """Rounds, newest first."""
    from agency.models import Round

    conds: list[Any] = [] if scope is None else [Round.office_id == scope]
    return _page_of(session, Round, conds, (col(Round.id).desc(),), limit, offset)


# --------------------------------------------------------------------------- scenario runs


def create_scenario_run(session: Session, actor: Actor, spec_text: str) -> Any:
    """A planner's what-if run, queued: the file's text and its SHA-256."""
    import hashlib

    from agency.models import ScenarioRun

    run = ScenarioRun(user_id=actor.user_id, status="queued", spec_text=spec_text,
                      spec_sha256=hashlib.sha256(spec_text.encode()).hexdigest())
    session.add(run)
    session.flush()
    record(session, actor, "scenario.run", "scenario", run.ref,
           detail={"sha256": run.spec_sha256[:16]})
    return run


def finish_scenario_run(session: Session, ref: str, *, status: str,
                        report: dict[str, Any] | None = None,
                        error: str | None = None) -> Any:
    """Record how a run ended: ``running``, ``done`` with its report (aggregates only), or
    ``failed`` with the reason."""
    from agency.models import ScenarioRun

    run = session.exec(select(ScenarioRun).where(ScenarioRun.ref == ref)).one()
    run.status = status
    if status in ("done", "failed"):
        run.finished_at = _now()
    run.report, run.error = report, error
    session.add(run)
    session.flush()
    return run


def get_scenario_run(session: Session, ref: str, *, user_id: int | None = None) -> Any:
    """A run; with ``user_id``, only that user's own (another's is not found)."""
    from agency.models import ScenarioRun

    run = session.exec(select(ScenarioRun).where(ScenarioRun.ref == ref)).first()
    if run is None:
        raise NotFoundError("scenario run", ref)
    if user_id is not None and run.user_id != user_id:
        raise NotFoundError("scenario run", ref, denied=True)
    return run


def list_scenario_runs(session: Session, *, user_id: int | None = None, limit: int = 50,
                       offset: int = 0) -> Page[Any]:
    from agency.models import ScenarioRun

    conds: list[Any] = [] if user_id is None else [ScenarioRun.user_id == user_id]
    return _page_of(session, ScenarioRun, conds, (col(ScenarioRun.id).desc(),), limit, offset)
