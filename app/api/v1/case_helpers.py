"""Route helpers shared by the case-file routers (plans, network map) and other cursor-paged lists.

``CursorPage`` is the ``limit`` and ``cursor`` of a cursor-paginated list, declared once: a route takes
``page: CursorPage`` (after its principal, so authentication and scopes are checked first), passes
``page.after`` and ``page.limit`` to its service and answers ``page.of(items, last)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from app.api.pagination import CursorParam, Limit, Page, cursor_secret, decode_cursor, encode_cursor

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
