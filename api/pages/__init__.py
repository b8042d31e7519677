"""The staff's web pages: server-rendered, Italian and English, usable without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import home, records_pages, rounds_pages, scenarios_pages

router = APIRouter(include_in_schema=False)
for module in (home, records_pages, rounds_pages, scenarios_pages):
    router.include_router(module.router)
