"""Helpers shared by the case-file sub-resources (assessments, plans, network map, consents): how an
edited row is marked, how a PATCH refuses a null for a required field, and how field errors become a
422.

(The household-level rule ``ensure_open`` comes from the households context; the version the caller
edited is an ``app.domain.concurrency.ExpectedVersion``.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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


def null_errors(data: BaseModel, *fields: str) -> list[FieldError]:
    """A PATCH may omit a field, but may not set a required one to null."""
    return [
        FieldError(("body", name), "This field cannot be null.", "null_not_allowed")
        for name in fields
        if name in data.model_fields_set and getattr(data, name) is None
    ]


def reject_nulls(data: BaseModel, *fields: str) -> None:
    reject(null_errors(data, *fields))


def reject(errors: list[FieldError]) -> None:
    """422 with these field errors, if there are any."""
    if errors:
        raise ValidationFailed(errors)
