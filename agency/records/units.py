"""What dwellings and shared flats share: one class, :class:`Units`, does each action for
either kind, from a description of the kind (its table, its checked input, its names).

A unit is placed by its municipality (name or ISTAT code; the centre when no coordinates
are given), may name a landlord of its office, and is ``available`` or ``withdrawn`` by
hand; ``let`` comes from leases only. What a kind has of its own (a shared flat's rooms)
is written in a subclass's two hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from sqlmodel import Session, col

from agency.audit import Actor, record
from agency.errors import RecordError
from agency.models import Dwelling, SharedFlat, UnitStatus
from agency.records.common import (
    Page,
    change_status,
    checked,
    in_office,
    office_of,
    page_of,
    resolve_municipality,
    search,
    status_of,
)
from agency.records.landlords import landlord_id, landlord_ref_of
from agency.schemas import UnitPlace

U = TypeVar("U", bound=Dwelling | SharedFlat)
C = TypeVar("C", bound=UnitPlace)

WALK = (UnitStatus.proposed, UnitStatus.visited, UnitStatus.certified)
"""A landlord's dwelling before it is available (its walk)."""

PLACE = ("landlord_ref", "municipality", "lat", "lon")
"""The input fields that the table keeps differently (an id, an ISTAT code, coordinates)."""


class Units(Generic[U, C]):
    """The records of one kind of unit.

    Parameters
    ----------
    table
        The table (:class:`~agency.models.Dwelling`, :class:`~agency.models.SharedFlat`).
    create_model
        Its checked input; an update is merged into the stored record and checked with it.
    entity
        The name the audit log gives it (``dwelling``, ``shared_flat``).
    label
        The name people give it (``dwelling``, ``shared flat``), in messages.
    fixed
        Input fields that may not change once the unit is registered.
    """

    def __init__(
        self,
        table: type[U],
        create_model: type[C],
        *,
        entity: str,
        label: str,
        fixed: tuple[str, ...] = (),
    ) -> None:
        self.table = table
        self.create_model = create_model
        self.entity = entity
        self.label = label
        self.fixed = fixed

    # ----------------------------------------------------------------- hooks

    def _after_create(self, session: Session, unit: U, data: C) -> dict[str, Any]:
        """Write what the kind has of its own; returns the audit entry's detail."""
        return {}

    def _stored(self, session: Session, unit: U) -> dict[str, Any]:
        """The stored values of the ``fixed`` fields, as input (to check an update)."""
        return {}

    # ----------------------------------------------------------------- actions

    def _place(self, data: C) -> dict[str, Any]:
        code, lat, lon = resolve_municipality("municipality", data.municipality)
        if data.lat is not None and data.lon is not None:
            lat, lon = data.lat, data.lon
        return {"municipality": code, "lat": lat, "lon": lon}

    def _columns(self, data: C) -> dict[str, Any]:
        return data.model_dump(exclude={*PLACE, *self.fixed})

    def create(
        self,
        session: Session,
        actor: Actor,
        office_id: int,
        data: C,
        *,
        status: UnitStatus = UnitStatus.available,
    ) -> U:
        """A unit offered through ``office_id``, available (or ``proposed``: a landlord's
        dwelling at the start of its walk, see :mod:`agency.records.landlords`)."""
        office_of(session, office_id)
        if status == UnitStatus.proposed and not data.landlord_ref:
            raise RecordError("landlord_ref", f"a proposed {self.label} needs its landlord")
        unit = self.table(
            office_id=office_id,
            status=status,
            landlord_id=landlord_id(session, data.landlord_ref, office_id),
            **self._place(data),
            **self._columns(data),
        )
        session.add(unit)
        session.flush()
        detail = self._after_create(session, unit, data)
        record(session, actor, f"{self.entity}.create", self.entity, unit.ref, detail=detail)
        return unit

    def get(self, session: Session, actor: Actor, ref: str, *, scope: int | None = None) -> U:
        """The unit ``ref`` of the caller's office (``scope``)."""
        return in_office(session, self.table, self.label, ref, scope)

    def page(
        self,
        session: Session,
        actor: Actor,
        *,
        scope: int | None = None,
        q: str | None = None,
        status: UnitStatus | str | None = None,
        municipality: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[U]:
        """Units in registration order; ``q`` searches ref and address."""
        table = self.table
        conds: list[Any] = []
        if scope is not None:
            conds.append(table.office_id == scope)
        if status:
            conds.append(table.status == status_of(UnitStatus, status).value)
        if municipality:
            conds.append(
                table.municipality == resolve_municipality("municipality", municipality)[0]
            )
        match = search(q, table.ref, table.address)
        if match is not None:
            conds.append(match)
        return page_of(session, table, conds, (col(table.id),), limit, offset)

    def update(
        self,
        session: Session,
        actor: Actor,
        ref: str,
        changes: Mapping[str, Any],
        *,
        scope: int | None = None,
    ) -> U:
        """Change some fields; the whole unit is checked again as on creation. A new
        municipality without coordinates moves the unit to its centre."""
        unit = self.get(session, actor, ref, scope=scope)
        for name in self.fixed:
            if name in changes:
                raise RecordError(name, f"cannot be changed once the {self.label} is registered")
        base: dict[str, Any] = {
            k: getattr(unit, k)
            for k in self.create_model.model_fields
            if k not in ("landlord_ref", *self.fixed)
        }
        base["landlord_ref"] = landlord_ref_of(session, unit.landlord_id)
        base.update(self._stored(session, unit))
        if "municipality" in changes and not {"lat", "lon"} & set(changes):
            base["lat"] = base["lon"] = None
        data = checked(self.create_model, {**base, **changes})
        for k, v in {**self._columns(data), **self._place(data)}.items():
            setattr(unit, k, v)
        unit.landlord_id = landlord_id(session, data.landlord_ref, unit.office_id)
        session.add(unit)
        session.flush()
        record(
            session,
            actor,
            f"{self.entity}.update",
            self.entity,
            ref,
            detail={"fields": sorted(changes)},
        )
        return unit

    def set_status(
        self,
        session: Session,
        actor: Actor,
        ref: str,
        status: UnitStatus | str,
        *,
        scope: int | None = None,
    ) -> U:
        """Withdraw a unit from the rounds, or offer it again (``let`` comes from leases)."""
        unit = self.get(session, actor, ref, scope=scope)
        target = status_of(UnitStatus, status)
        if UnitStatus.let in (target, unit.status):
            raise RecordError("status", f"a {self.label} is let, and freed, through leases")
        if target in WALK or (unit.status in WALK and target != UnitStatus.withdrawn):
            raise RecordError(
                "status",
                f"a landlord's {self.label} is visited, certified and made available "
                "step by step (or withdrawn)",
            )
        change_status(session, actor, unit, self.entity, target)
        return unit

    def deactivate(
        self, session: Session, actor: Actor, ref: str, *, scope: int | None = None
    ) -> U:
        """Withdraw the unit from every future round."""
        return self.set_status(session, actor, ref, UnitStatus.withdrawn, scope=scope)
