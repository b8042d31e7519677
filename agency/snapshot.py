"""The agency's current data as a pseudonymised instance, for planners' what-if scenarios.

Planners must never see a name or an identity: the instance carries no personal data by
construction (the mapping keeps only what the rules need), and with ``pseudonymise`` even
the records' opaque refs are replaced by sequence numbers, so a scenario report cannot be
joined back to the agency's records.

:func:`snapshot_instance` has the shape the scenarios ask of the agency's data
(``scenarios.spec.AgencyData``: a database URL in, an instance out, a :class:`ValueError`
saying why when it cannot): the command line and the service hand it to them, and this
package never imports the scenarios.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agency.db import SchemaError, get_engine
from agency.ledger import balances
from agency.mapping import is_occupant, snapshot
from agency.models import Office, utcnow
from agency.protected import public_tags
from agency.schemas import RoundPolicy
from matching.instance import INSTANCE_FORMAT, Instance, instance_from_dict


class SnapshotError(ValueError):
    """The agency's data cannot be had: the database is not at the code's schema, or no
    such office."""


def snapshot_instance(
    database: str | Engine | None = None,
    *,
    pseudonymise: bool = True,
    office_code: str | None = None,
    on: date | None = None,
    policy: RoundPolicy | None = None,
) -> Instance:
    """Waiting households, free units and fund balances now, as an instance.

    Parameters
    ----------
    database
        The agency's database: an engine, or a URL (default: ``DATABASE_URL`` or the
        embedded file).
    pseudonymise
        Replace refs by sequence numbers (``H0001``, ``D0001``, ``F0001``, ``F0001-R1``).
    office_code
        Only this office's households and units (default: the whole agency).
    on
        The day whose availability counts (default: today).
    policy
        The round policy (default: the agency's defaults).

    Raises
    ------
    SnapshotError
        When the database is not at the code's schema, or the office does not exist.
    matching.instance.InstanceError
        When the records do not make a valid instance.
    """
    try:
        engine = database if isinstance(database, Engine) else get_engine(database)
    except SchemaError as exc:
        raise SnapshotError(str(exc)) from exc
    with Session(engine) as session:
        office_id = None
        if office_code is not None:
            office = session.exec(select(Office).where(Office.code == office_code)).first()
            if office is None:
                raise SnapshotError(f"office {office_code!r}: no such office")
            office_id = office.id
        snap = snapshot(
            session,
            name="agency-snapshot",
            office_id=office_id,
            policy=policy or RoundPolicy(),
            on=on or utcnow().date(),
            fund_balances=balances(session),
        )
    data = _without_protected(snap.instance)
    if pseudonymise:
        data = _pseudonymise(data)
    return instance_from_dict(data, source="agency snapshot")


def _without_protected(data: dict[str, Any]) -> dict[str, Any]:
    """The instance with no avoid zone and no tag revealing a victim's status: planners
    never see them (a what-if on it treats those households as having neither)."""
    people = []
    for b in data["beneficiaries"]:
        b = {k: v for k, v in b.items() if k != "avoid"}
        b["tags"] = public_tags(b.get("tags"))
        people.append(b)
    out = {**data, "beneficiaries": people}
    uses_v2 = out.get("policy", {}).get("guarantee") or any(
        d.get("terms") for d in out.get("dwellings", [])
    )
    if not uses_v2:
        out["format"] = INSTANCE_FORMAT
    return out


def _pseudonymise(data: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, str] = {}
    people = [b for b in data["beneficiaries"] if not is_occupant(b["id"])]
    occupants = [b for b in data["beneficiaries"] if is_occupant(b["id"])]
    for k, b in enumerate(people, 1):
        names[b["id"]] = f"H{k:04d}"
    for k, b in enumerate(occupants, 1):
        names[b["id"]] = f"OCC-{k:04d}"
    for k, d in enumerate(data["dwellings"], 1):
        names[d["id"]] = f"D{k:04d}"
    for k, f in enumerate(data["shared_flats"], 1):
        names[f["id"]] = f"F{k:04d}"
        for j, room in enumerate(f["rooms"], 1):
            names[room["id"]] = f"F{k:04d}-R{j}"
    rename = names.__getitem__
    out = dict(data)
    out["beneficiaries"] = [{**b, "id": rename(b["id"])} for b in people + occupants]
    out["dwellings"] = [{**d, "id": rename(d["id"])} for d in data["dwellings"]]
    out["shared_flats"] = [
        {**f, "id": rename(f["id"]), "rooms": [{**r, "id": rename(r["id"])} for r in f["rooms"]]}
        for f in data["shared_flats"]
    ]
    out["pinned"] = [
        {
            **p,
            "beneficiary": rename(p["beneficiary"]),
            "unit": rename(p["unit"]),
            **({"room": rename(p["room"])} if p.get("room") else {}),
        }
        for p in data["pinned"]
    ]
    out["forbidden"] = []
    return out
