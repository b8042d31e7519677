"""Dwellings: whole flats, each for one household."""

from __future__ import annotations

from agency.models import Dwelling
from agency.records.units import Units
from agency.schemas import DwellingCreate

DWELLINGS = Units(Dwelling, DwellingCreate, entity="dwelling", label="dwelling")

create_dwelling = DWELLINGS.create
get_dwelling = DWELLINGS.get
list_dwellings = DWELLINGS.page
update_dwelling = DWELLINGS.update
set_dwelling_status = DWELLINGS.set_status
deactivate_dwelling = DWELLINGS.deactivate
