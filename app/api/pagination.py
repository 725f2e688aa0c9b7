"""Cursor pagination for every list: ``limit`` (1-100, default 50) and an opaque ``cursor``.

Lists are ordered by a stable key (e.g. ``(created_at DESC, id DESC)``); the cursor carries the key of
the last item returned, signed so a client cannot forge one that skips the row filter's intent (the
filter is applied in SQL regardless; the signature just turns garbage into a clean 422).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

from app.domain.errors import FieldError, ValidationFailed

T = TypeVar("T")

MAX_LIMIT = 100

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-100).")]
CursorParam = Annotated[
    str | None, Query(max_length=512, description="Opaque cursor from the previous page's `next_cursor`.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null at the end."
    )


def cursor_secret(request: Request) -> str:
    """The key that signs this deployment's cursors (REST and GraphQL alike)."""
    return str(request.app.state.settings.secret("secret_key"))


def _signature(payload: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()[:16]


def encode_cursor(key: list[Any], secret: str) -> str:
    """``key`` is the sort key of the last item, as JSON-able values (use str() for UUIDs/datetimes)."""
    payload = json.dumps(key, separators=(",", ":"), default=str).encode()
    token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{token}.{_signature(payload, secret)}"


def decode_cursor(cursor: str | None, secret: str) -> list[Any] | None:
    if not cursor:
        return None
    token, _, signature = cursor.partition(".")
    try:
        payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        valid = hmac.compare_digest(signature, _signature(payload, secret))
        key = json.loads(payload) if valid else None
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list):
        raise ValidationFailed(
            [FieldError(("query", "cursor"), "The cursor is not valid.", "cursor_invalid")]
        )
    return key
