"""Shared flats (co-housing): rooms of beds, each bed for one single adult. The rooms are
written with the flat and do not change afterwards."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from agency.models import Room, SharedFlat
from agency.records.units import Units
from agency.schemas import SharedFlatCreate


def rooms_of(session: Session, flat: SharedFlat) -> list[Room]:
    return list(session.exec(select(Room).where(Room.flat_id == flat.id).order_by(col(Room.id))))


class SharedFlats(Units[SharedFlat, SharedFlatCreate]):
    """Shared flats: a unit with rooms."""

    def _after_create(
        self, session: Session, unit: SharedFlat, data: SharedFlatCreate
    ) -> dict[str, Any]:
        assert unit.id is not None
        for k, r in enumerate(data.rooms, start=1):
            session.add(Room(flat_id=unit.id, name=r.name or f"{k}", beds=r.beds))
        session.flush()
        return {"rooms": len(data.rooms), "beds": sum(r.beds for r in data.rooms)}

    def _stored(self, session: Session, unit: SharedFlat) -> dict[str, Any]:
        return {"rooms": [{"name": r.name, "beds": r.beds} for r in rooms_of(session, unit)]}


FLATS = SharedFlats(
    SharedFlat, SharedFlatCreate, entity="shared_flat", label="shared flat", fixed=("rooms",)
)

create_shared_flat = FLATS.create
get_shared_flat = FLATS.get
list_shared_flats = FLATS.page
update_shared_flat = FLATS.update
set_shared_flat_status = FLATS.set_status
deactivate_shared_flat = FLATS.deactivate
