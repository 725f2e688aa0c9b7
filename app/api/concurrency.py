"""Optimistic concurrency for case data: ``ETag`` on reads, ``If-Match`` required on writes.

The ETag is a weak validator over the object's id and version: ``W/"<id>.<version>"``. A PATCH, PUT
or DELETE without If-Match is 428; with a stale one 412 — no silent last-write-wins for offline edits.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Response

from app.domain.errors import PreconditionFailed, PreconditionRequired


def etag(object_id: uuid.UUID, version: int) -> str:
    return f'W/"{object_id}.{version}"'


def set_etag(response: Response, object_id: uuid.UUID, version: int) -> None:
    response.headers["ETag"] = etag(object_id, version)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of the version you edited (required; 428 without, 412 when stale).",
    ),
]


def expected_version(if_match: str | None, object_id: uuid.UUID) -> int:
    """The version the caller edited, from its If-Match header; 428 when absent, 412 when unusable."""
    if not if_match:
        raise PreconditionRequired("This update needs an If-Match header with the ETag you read.")
    value = if_match.strip().removeprefix("W/").strip('"')
    prefix = f"{object_id}."
    if not value.startswith(prefix) or not value[len(prefix) :].isdigit():
        raise PreconditionFailed("The If-Match header does not match the current version.")
    return int(value[len(prefix) :])


def check_version(expected: int, current: int) -> None:
    if expected != current:
        raise PreconditionFailed(
            "The object changed since you read it; fetch it again and reapply your edit."
        )
