"""Keyset cursors, one kind for every list (REST and GraphQL alike).

A list is ordered by a stable key (e.g. ``(created_at DESC, id DESC)``); its cursor names the list
(``kind``) and carries the key of the last item returned, signed with the deployment's secret. The
signature turns a forged or damaged cursor into a clean 422 (``cursor_invalid``), and the kind
refuses a cursor of one list handed to another; the row filter is applied in SQL regardless.

A page fetches one row more than it returns (``PageRequest.fetch``): when it comes, more follow and
the cursor points after the last item returned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from app.domain.errors import FieldError, ValidationFailed

T = TypeVar("T")
K = TypeVar("K", bound=tuple[Any, ...])

MAX_LIMIT = 100
DEFAULT_LIMIT = 50

# How each part of a key is read back from its JSON text.
_READERS: dict[type, Callable[[Any], Any]] = {
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    uuid.UUID: uuid.UUID,
    str: str,
    int: int,
    float: float,
}


def cursor_invalid(field: str = "cursor") -> ValidationFailed:
    return ValidationFailed([FieldError(("query", field), "The cursor is not valid.", "cursor_invalid")])


def _part(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class Cursors:
    """Signs and reads cursors with one secret (``secret_key`` of the settings)."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _signature(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:16]

    def encode(self, kind: str, key: Sequence[Any]) -> str:
        """A cursor of list ``kind`` after the item whose sort key is ``key``."""
        payload = json.dumps([kind, *(_part(v) for v in key)], separators=(",", ":")).encode()
        token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{token}.{self._signature(payload)}"

    def decode(self, kind: str, cursor: str | None, shape: Sequence[type], *, field: str = "cursor") -> Any:
        """The key a cursor of list ``kind`` carries, read as ``shape`` (e.g. ``(datetime, uuid.UUID)``),
        as a tuple; None without a cursor; 422 ``cursor_invalid`` for anything else."""
        parts = self.decode_parts(kind, cursor, field=field)
        if parts is None:
            return None
        try:
            if len(parts) != len(shape):
                raise ValueError("shape")
            return tuple(_READERS[t](v) for t, v in zip(shape, parts, strict=True))
        except (ValueError, TypeError, KeyError):
            raise cursor_invalid(field) from None

    def decode_parts(self, kind: str, cursor: str | None, *, field: str = "cursor") -> list[Any] | None:
        """The JSON values a signed cursor of ``kind`` carries, as they were encoded (for a key whose
        parts a caller reads itself, e.g. a sync position); None without a cursor, else 422."""
        if not cursor:
            return None
        token, _, signature = cursor.partition(".")
        try:
            payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            if not hmac.compare_digest(signature, self._signature(payload)):
                raise ValueError("signature")
            decoded = json.loads(payload)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise cursor_invalid(field) from None
        if not isinstance(decoded, list) or decoded[:1] != [kind]:
            raise cursor_invalid(field)
        return decoded[1:]


@dataclass(frozen=True, slots=True)
class PageRequest(Generic[K]):
    """One page of list ``kind``: the key after which it starts (None: the first page) and its size."""

    kind: str
    after: K | None
    limit: int
    cursors: Cursors

    @property
    def fetch(self) -> int:
        """How many rows to ask for: one more than the page, to know whether more follow."""
        return self.limit + 1

    def cut(self, rows: Sequence[T], key: Callable[[T], K]) -> tuple[list[T], str | None]:
        """The page's items (at most ``limit`` of ``rows``) and the cursor of the next page (None at
        the end)."""
        items = list(rows[: self.limit])
        following = self.cursors.encode(self.kind, key(items[-1])) if len(rows) > self.limit else None
        return items, following

    def cursor_after(self, key: K | None) -> str | None:
        """The next page's cursor, for a page built elsewhere (e.g. by PostgreSQL)."""
        return None if key is None else self.cursors.encode(self.kind, key)
