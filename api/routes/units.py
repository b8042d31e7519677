"""Dwellings (whole flats, one household each) and shared flats (rooms of beds): one router
each, made by :func:`unit_router` from a description of the kind, so that both answer the
same way: list (search, status, municipality), create, read, change, withdraw or offer
again."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session

from agency import records
from agency.models import UnitStatus
from agency.records import DWELLINGS, FLATS, Units
from agency.records.units import C, U
from agency.schemas import (
    DwellingCreate,
    DwellingPublic,
    DwellingUpdate,
    RoomPublic,
    SharedFlatCreate,
    SharedFlatPublic,
    SharedFlatUpdate,
    UnitPublic,
    UnitStatusBody,
)
from api import permissions as perms
from api.deps import Principal, SessionDep, require
from api.pagination import Paged, PageDep
from api.routes.common import ERRORS, target_office

P = TypeVar("P", bound=UnitPublic)
F = TypeVar("F", bound=Callable[..., Any])

Reader = Annotated[Principal, require(perms.UNITS_READ)]
Writer = Annotated[Principal, require(perms.UNITS_WRITE)]
Search = Annotated[str | None, Query(max_length=100)]
Municipality = Annotated[str | None, Query(max_length=100, description="name or ISTAT code")]
OfficeCode = Annotated[str | None, Query(max_length=32)]


@dataclass(frozen=True)
class UnitKind(Generic[U, C, P]):
    """What the service needs to know of a kind of unit."""

    units: Units[U, C]
    """Its records."""
    path: str
    tag: str
    one: str
    """The name of one, in the routes' names (``dwelling``, ``flat``)."""
    many: str
    create: type[C]
    update: type[BaseModel]
    public: type[P]
    more: Callable[[Session, U], dict[str, Any]] = field(default=lambda _s, _u: {})
    """What its public view shows besides its fields and its landlord (a flat's rooms)."""


def _typed(fn: F, **types: Any) -> F:
    """``fn`` with some annotations made concrete: FastAPI reads a route's body and answer
    models from them, which a factory knows only when it runs."""
    fn.__annotations__.update(types)
    return fn


def unit_router(kind: UnitKind[U, C, P]) -> APIRouter:
    """The routes of one kind of unit, under ``kind.path``."""
    router = APIRouter(prefix=kind.path, tags=[kind.tag], responses=ERRORS)
    units = kind.units

    def public(session: Session, unit: U) -> P:
        return kind.public.model_validate(unit).model_copy(
            update={
                "landlord_ref": records.landlord_ref_of(session, unit.landlord_id),
                **kind.more(session, unit),
            }
        )

    def listing(
        me: Reader,
        session: SessionDep,
        page: PageDep,
        q: Search = None,
        status: UnitStatus | None = None,
        municipality: Municipality = None,
    ) -> Paged[P]:
        got = units.page(
            session,
            me.actor,
            scope=me.scope,
            q=q,
            status=status,
            municipality=municipality,
            limit=page.limit,
            offset=page.offset,
        )
        return Paged[kind.public](  # type: ignore[name-defined]
            items=[public(session, u) for u in got.items],
            total=got.total,
            limit=got.limit,
            offset=got.offset,
        )

    def create(me: Writer, session: SessionDep, body: C, office: OfficeCode = None) -> P:
        unit = units.create(session, me.actor, target_office(session, me, office), body)
        return public(session, unit)

    def read(me: Reader, session: SessionDep, ref: str) -> P:
        return public(session, units.get(session, me.actor, ref, scope=me.scope))

    def update(me: Writer, session: SessionDep, ref: str, body: BaseModel) -> P:
        return public(
            session,
            units.update(
                session, me.actor, ref, body.model_dump(exclude_unset=True), scope=me.scope
            ),
        )

    def set_status(me: Writer, session: SessionDep, ref: str, body: UnitStatusBody) -> P:
        return public(
            session, units.set_status(session, me.actor, ref, body.status, scope=me.scope)
        )

    answer = {"return": kind.public}
    router.get("", name=f"list_{kind.many}")(_typed(listing, **{"return": Paged[kind.public]}))  # type: ignore[name-defined]
    router.post("", status_code=201, name=f"create_{kind.one}")(
        _typed(create, body=kind.create, **answer)
    )
    router.get("/{ref}", name=f"get_{kind.one}")(_typed(read, **answer))
    router.patch("/{ref}", name=f"update_{kind.one}")(_typed(update, body=kind.update, **answer))
    router.post(
        "/{ref}/status",
        name="set_status",
        description=f"Withdraw the {units.label} from the rounds, or offer it again.",
    )(_typed(set_status, **answer))
    return router


dwellings = unit_router(
    UnitKind(
        DWELLINGS,
        path="/dwellings",
        tag="dwellings",
        one="dwelling",
        many="dwellings",
        create=DwellingCreate,
        update=DwellingUpdate,
        public=DwellingPublic,
    )
)

flats = unit_router(
    UnitKind(
        FLATS,
        path="/shared-flats",
        tag="shared flats",
        one="flat",
        many="flats",
        create=SharedFlatCreate,
        update=SharedFlatUpdate,
        public=SharedFlatPublic,
        more=lambda session, flat: {
            "rooms": [RoomPublic.model_validate(r) for r in records.rooms_of(session, flat)]
        },
    )
)
