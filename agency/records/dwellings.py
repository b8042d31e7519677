"""Dwellings: whole flats, each for one household."""

from __future__ import annotations

from sqlmodel import Session

from agency.audit import Actor
from agency.models import Dwelling, UnitStatus
from agency.records.units import Units
from agency.schemas import DwellingCreate

DWELLINGS = Units(Dwelling, DwellingCreate, entity="dwelling", label="dwelling")

create_dwelling = DWELLINGS.create


def propose_dwelling(
    session: Session, actor: Actor, office_id: int, data: DwellingCreate
) -> Dwelling:
    """A landlord's dwelling at the start of its walk: proposed, not in any round yet."""
    return DWELLINGS.create(session, actor, office_id, data, status=UnitStatus.proposed)


get_dwelling = DWELLINGS.get
list_dwellings = DWELLINGS.page
update_dwelling = DWELLINGS.update
set_dwelling_status = DWELLINGS.set_status
deactivate_dwelling = DWELLINGS.deactivate
