"""Helpers shared by the case-file sub-resources (assessments, plans, network map).

(The household-level rules, ``ensure_open`` and the ``Precondition`` type, come from the households
context.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from app.domain.base import utcnow
from app.domain.errors import FieldError, ValidationFailed


class Versioned(Protocol):
    version: int
    updated_at: datetime


def touch(obj: Versioned) -> None:
    """Bump the optimistic-concurrency version and the update time of an edited row."""
    obj.version += 1
    obj.updated_at = utcnow()


def reject_nulls(data: BaseModel, *fields: str) -> None:
    """A PATCH may omit a field, but may not set a required one to null."""
    errors = [
        FieldError(("body", name), "This field cannot be null.", "null_not_allowed")
        for name in fields
        if name in data.model_fields_set and getattr(data, name) is None
    ]
    if errors:
        raise ValidationFailed(errors)


def parse_cursor_key(key: list[Any] | None, *parsers: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """A decoded cursor's sort key, each part parsed back to its type; 422 when it does not fit."""
    if key is None:
        return None
    try:
        if len(key) != len(parsers):
            raise ValueError("wrong length")
        return tuple(parse(part) for parse, part in zip(parsers, key, strict=True))
    except (ValueError, TypeError, AttributeError) as error:
        raise ValidationFailed(
            [FieldError(("query", "cursor"), "The cursor is not valid.", "cursor_invalid")]
        ) from error


def uuid_of(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))
