"""One declaration per limit: each update keeps its create model's limits, and the tables'
columns are the limits' own."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from sqlmodel import SQLModel

from agency import models, schemas
from agency.schemas import UPDATES, DwellingUpdate, partial


def _limits(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Each field's JSON-schema constraints, with ``null`` and the defaults left out."""
    out = {}
    for name, prop in model.model_json_schema()["properties"].items():
        options = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
        assert len(options) == 1, (model.__name__, name, prop)
        out[name] = {k: v for k, v in options[0].items() if k not in ("title", "default")}
    return out


@pytest.mark.parametrize("update", list(UPDATES), ids=lambda m: m.__name__)
def test_each_update_keeps_its_create_models_limits(update: type[BaseModel]) -> None:
    create = UPDATES[update]
    mine, theirs = _limits(update), _limits(create)
    shared = mine.keys() & theirs.keys()
    assert shared, update.__name__
    assert {k: mine[k] for k in shared} == {k: theirs[k] for k in shared}
    # every field may be left out, and the update refuses what the create refuses
    assert update.model_validate({}).model_dump(exclude_unset=True) == {}
    with pytest.raises(ValidationError):
        update.model_validate({"no_such_field": 1})


def test_a_rent_is_a_monthly_amount_in_an_update_too() -> None:
    # the update allowed €100 million a month where the create allowed €100,000
    with pytest.raises(ValidationError) as err:
        DwellingUpdate.model_validate({"rent_cents": 100_000_01})
    assert [e["loc"] for e in err.value.errors()] == [("rent_cents",)]
    assert DwellingUpdate.model_validate({"rent_cents": 100_000_00}).rent_cents == 100_000_00


def test_partial_drops_what_it_is_told_and_keeps_the_rest_optional() -> None:
    class Thing(BaseModel):
        name: str
        size: int = 3

    loose = partial(Thing, exclude={"size"})
    assert list(loose.model_fields) == ["name"]
    assert loose.model_validate({"name": None}).model_dump() == {"name": None}


@pytest.mark.parametrize(
    ("table", "field", "create"),
    [
        (models.Beneficiary, "given_name", schemas.BeneficiaryCreate),
        (models.Beneficiary, "workplace", schemas.BeneficiaryCreate),
        (models.Landlord, "name", schemas.LandlordCreate),
        (models.Landlord, "email", schemas.LandlordCreate),
        (models.Dwelling, "address", schemas.DwellingCreate),
        (models.SharedFlat, "address", schemas.SharedFlatCreate),
        (models.Fund, "name", schemas.FundCreate),
        (models.Fund, "code", schemas.FundCreate),
        (models.Room, "name", schemas.RoomCreate),
        (models.Office, "name", schemas.OfficeCreate),
        (models.User, "full_name", schemas.UserCreate),
    ],
)
def test_a_text_is_as_long_as_its_column(
    table: type[SQLModel], field: str, create: type[BaseModel]
) -> None:
    column = table.__table__.columns[field]  # type: ignore[attr-defined]
    assert _limits(create)[field]["maxLength"] == column.type.length
