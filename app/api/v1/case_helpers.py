"""TRANSITIONAL (removed when every list takes ``app.api.pagination.keyset``): the two older page
dependencies, on the new signed cursors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request

from app.api.pagination import CursorParam, Limit, Page, request_cursors
from app.web.cursors import Cursors

T = TypeVar("T")
_KIND = "list"


@dataclass(frozen=True, slots=True)
class PageRequest:
    after: list[Any] | None
    limit: int
    cursors: Cursors

    def of(self, items: list[T], last: list[Any] | None) -> Page[T]:
        return Page(items=items, next_cursor=self.cursors.encode(_KIND, last) if last else None)


def _page_request(request: Request, limit: Limit = 50, cursor: CursorParam = None) -> PageRequest:
    cursors = request_cursors(request)
    return PageRequest(after=cursors.decode_parts(_KIND, cursor), limit=limit, cursors=cursors)


CursorPage = Annotated[PageRequest, Depends(_page_request)]


class _Created(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> uuid.UUID: ...


C = TypeVar("C", bound=_Created)


@dataclass(frozen=True, slots=True)
class TimePageRequest:
    after: tuple[datetime, uuid.UUID] | None
    limit: int
    cursors: Cursors

    def of(self, items: list[C]) -> Page[C]:
        last = items[-1] if len(items) == self.limit else None
        return Page(
            items=items,
            next_cursor=self.cursors.encode(_KIND, (last.created_at, last.id)) if last else None,
        )


def _time_page_request(request: Request, limit: Limit = 50, cursor: CursorParam = None) -> TimePageRequest:
    cursors = request_cursors(request)
    return TimePageRequest(cursors.decode(_KIND, cursor, (datetime, uuid.UUID)), limit, cursors)


TimeCursorPage = Annotated[TimePageRequest, Depends(_time_page_request)]
