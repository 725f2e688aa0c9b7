"""Helpers shared by the case-file sub-resources (assessments, plans, network map): how an edited row
is marked, and how a PATCH refuses a null for a required field.

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


def reject_nulls(data: BaseModel, *fields: str) -> None:
    """A PATCH may omit a field, but may not set a required one to null."""
    errors = [
        FieldError(("body", name), "This field cannot be null.", "null_not_allowed")
        for name in fields
        if name in data.model_fields_set and getattr(data, name) is None
    ]
    if errors:
        raise ValidationFailed(errors)
