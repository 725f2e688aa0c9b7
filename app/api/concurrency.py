"""ETags and ``If-Match`` for case data (REST's face of ``app.domain.concurrency``).

The ETag is a strong validator over the object's id and version: ``"<id>.<version>"``. ``If-Match``
uses the strong comparison (RFC 9110 §13.1.1): a weak tag (``W/"..."``) never matches. A PATCH, PUT
or DELETE without If-Match is 428, with a stale one 412 (checked by the service, after the access
check).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Response

from app.domain.concurrency import ExpectedVersion


def etag(object_id: uuid.UUID, version: int) -> str:
    return f'"{object_id}.{version}"'


def set_etag(response: Response, object_id: uuid.UUID, version: int) -> None:
    response.headers["ETag"] = etag(object_id, version)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag of the version you edited, e.g. `"<id>.<version>"` (required on '
        "updates of case data: 428 without, 412 when stale).",
    ),
]


def expected_version(if_match: str | None, in_body: int | None = None) -> ExpectedVersion:
    """The version an ``If-Match`` header names (strong comparison: one strong ETag of ours), or, for
    the status changes that take it, the ``expected_version`` of the body (the header wins when both
    are sent). A client that kept the version a create or an earlier change answered needs no read
    before changing the status."""
    if not if_match:
        return ExpectedVersion(in_body) if in_body is not None else ExpectedVersion.none()
    value = if_match.strip()
    if not (len(value) > 2 and value.startswith('"') and value.endswith('"')):
        return ExpectedVersion(None, malformed=True)
    object_id, _, version = value[1:-1].partition(".")
    try:
        return ExpectedVersion(int(version), uuid.UUID(object_id)) if version.isdigit() else _malformed()
    except ValueError:
        return _malformed()


def _malformed() -> ExpectedVersion:
    return ExpectedVersion(None, malformed=True)
