"""The staff's web pages: server-rendered, Italian and English, usable without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import (
    home,
    imports_pages,
    lines_pages,
    priority_pages,
    records_pages,
    reports_pages,
    rounds_pages,
    scenarios_pages,
    units_pages,
    walk_pages,
)

router = APIRouter(include_in_schema=False)
for pages in (
    home.router,
    records_pages.router,
    units_pages.dwellings,
    units_pages.flats,
    lines_pages.router,
    walk_pages.router,
    reports_pages.router,
    rounds_pages.router,
    scenarios_pages.router,
    imports_pages.router,
    priority_pages.router,
):
    router.include_router(pages)
