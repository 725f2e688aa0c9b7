"""Every list answers one page: ``{"items": [...], "next_cursor": "..." | null}``.

A list route takes its page request from one dependency, declared once per list with the list's name
and the shape of its sort key::

    Referrals = Annotated[PageRequest[tuple[datetime, uuid.UUID]], keyset("referrals", datetime, uuid.UUID)]

    async def list_referrals(..., page: Referrals) -> Page[ReferralRead]:
        rows = await service.list_referrals(uow, principal, after=page.after, limit=page.fetch)
        return Page.cut(page, rows, lambda r: (r.created_at, r.id))

Query parameters: ``limit`` (1-100, default 50) and ``cursor`` (from the previous page's
``next_cursor``). Cursors are signed and name their list (``app.web.cursors``).

The one exception is the HSDS API (``/hsds``), whose published document pages by number: its lists
take ``NumberedPages`` (``page`` from 1, ``per_page`` 1-100, ``format``), declared here once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from app.domain.inputs import NumberedPage
from app.web.cursors import DEFAULT_LIMIT, MAX_LIMIT, Cursors, PageRequest

T = TypeVar("T")
K = TypeVar("K", bound=tuple[Any, ...])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-100).")]
CursorParam = Annotated[
    str | None, Query(max_length=512, description="Opaque cursor from the previous page's `next_cursor`.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null at the end."
    )

    @classmethod
    def cut(cls, page: PageRequest[K], rows: Sequence[T], key: Callable[[T], K]) -> Page[T]:
        """The page of ``rows`` (fetched with ``page.fetch``), with the next page's cursor."""
        items, following = page.cut(rows, key)
        return cls(items=items, next_cursor=following)


def request_cursors(request: Request) -> Cursors:
    cursors: Cursors = request.app.state.cursors
    return cursors


def keyset(kind: str, *shape: type) -> Any:
    """The page-request dependency of list ``kind`` whose sort key has the types ``shape``."""

    # async: FastAPI runs a plain ``def`` dependency in a worker thread, which costs more than the work.
    async def page_request(
        request: Request, limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None
    ) -> PageRequest[Any]:
        cursors = request_cursors(request)
        return PageRequest(kind, cursors.decode(kind, cursor, shape), limit, cursors)

    return Depends(page_request)


async def numbered_page(
    page: Annotated[
        int, Query(ge=1, le=100_000, description="Page number of paginated result (from 1).")
    ] = 1,
    per_page: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Number of results requested in a single page.")
    ] = DEFAULT_LIMIT,
    format: Annotated[
        Literal["json"],
        Query(description="Return results in the specified format: `json` (ndjson is not offered)."),
    ] = "json",
) -> NumberedPage:
    """HSDS's paging parameters (its API reference names them ``page``, ``per_page``, ``format``)."""
    return NumberedPage(page, per_page)


NumberedPages = Annotated[NumberedPage, Depends(numbered_page)]
