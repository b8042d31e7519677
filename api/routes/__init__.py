"""The REST API under ``/api/v1``: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    audit,
    auth,
    beneficiaries,
    corrections,
    funds,
    imports,
    landlords,
    lines,
    reports,
    rounds,
    scenarios,
    stats,
    subject_rights,
    units,
    users,
)

router = APIRouter(prefix="/api/v1")
for resource in (
    auth.router,
    beneficiaries.router,
    landlords.router,
    units.dwellings,
    landlords.walk,
    units.flats,
    funds.router,
    lines.router,
    funds.guarantee,
    imports.router,
    rounds.router,
    scenarios.router,
    users.router,
    stats.router,
    reports.router,
    audit.router,
    corrections.router,
    subject_rights.router,
):
    router.include_router(resource)
