"""The REST API under ``/api/v1``: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    audit,
    auth,
    beneficiaries,
    corrections,
    dwellings,
    flats,
    funds,
    imports,
    landlords,
    rounds,
    scenarios,
    stats,
    subject_rights,
    users,
)

router = APIRouter(prefix="/api/v1")
for module in (auth, beneficiaries, landlords, dwellings, flats, funds, imports, rounds,
               scenarios, users, stats, audit, corrections, subject_rights):
    router.include_router(module.router)
