"""Route helpers shared by the case-file routers (plans, network map) and other cursor-paged lists.

``CursorPage`` is the ``limit`` and ``cursor`` of a cursor-paginated list, declared once: a route takes
``page: CursorPage`` (after its principal, so authentication and scopes are checked first), passes
``page.after`` and ``page.limit`` to its service and answers ``page.of(items, last)``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request

from app.api.pagination import CursorParam, Limit, Page, cursor_secret, decode_cursor, encode_cursor
from app.api.v1.households_access import decode_time_cursor, encode_time_cursor

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    after: list[Any] | None  # the sort key of the previous page's last item (signed cursor, decoded)
    limit: int
    secret: str

    def of(self, items: list[T], last: list[Any] | None) -> Page[T]:
        """The page, with a cursor for the next one when the service says more follow."""
        return Page(items=items, next_cursor=encode_cursor(last, self.secret) if last else None)


def _page_request(request: Request, limit: Limit = 50, cursor: CursorParam = None) -> PageRequest:
    secret = cursor_secret(request)
    return PageRequest(after=decode_cursor(cursor, secret), limit=limit, secret=secret)


CursorPage = Annotated[PageRequest, Depends(_page_request)]


class _Created(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> uuid.UUID: ...


C = TypeVar("C", bound=_Created)


@dataclass(frozen=True, slots=True)
class TimePageRequest:
    """A list ordered by (created_at, id): the decoded cursor, the limit, and the next page's cursor."""

    after: tuple[datetime, uuid.UUID] | None
    limit: int
    secret: str

    def of(self, items: list[C]) -> Page[C]:
        """The page; a full page gets a cursor after its last item."""
        last = items[-1] if len(items) == self.limit else None
        return Page(
            items=items,
            next_cursor=encode_time_cursor(last.created_at, last.id, self.secret) if last else None,
        )


def _time_page_request(request: Request, limit: Limit = 50, cursor: CursorParam = None) -> TimePageRequest:
    secret = cursor_secret(request)
    return TimePageRequest(after=decode_time_cursor(cursor, secret), limit=limit, secret=secret)


TimeCursorPage = Annotated[TimePageRequest, Depends(_time_page_request)]
