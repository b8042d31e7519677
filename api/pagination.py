"""``?limit=&offset=`` with a maximum page size, and the page's envelope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Path, Query
from pydantic import BaseModel

from agency.records import MAX_PAGE

T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"at most {MAX_PAGE}")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(_page_params)]


class Paged(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="a record's number")]
"""A numeric id in a path (32-bit, as the tables' keys)."""
