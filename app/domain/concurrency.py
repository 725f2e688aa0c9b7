"""Optimistic concurrency of case data: the version the caller edited, checked by the service.

Every versioned object carries ``version`` (1, 2, ...). A caller that changes one says which version it
edited: REST through ``If-Match`` with the object's ETag (which names the object too), GraphQL through
``expectedVersion``. The service checks after the access check, so a hidden object answers 404
whatever was sent: none given is 428, a stale or malformed one 412. No silent last-write-wins for
offline edits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.domain.errors import PreconditionFailed, PreconditionRequired


@dataclass(frozen=True, slots=True)
class ExpectedVersion:
    version: int | None  # None: the caller sent none
    object_id: uuid.UUID | None = None  # the object the caller named, when it named one (an ETag does)
    malformed: bool = False  # something was sent that names no version (e.g. a weak or foreign ETag)

    @classmethod
    def none(cls) -> ExpectedVersion:
        return cls(None)

    def check(self, object_id: uuid.UUID, current: int) -> None:
        """428 when no version was given, 412 when it is not ``current`` of ``object_id``."""
        if self.version is None and not self.malformed:
            raise PreconditionRequired("This update needs an If-Match header with the ETag you read.")
        if self.malformed or (self.object_id is not None and self.object_id != object_id):
            raise PreconditionFailed("The If-Match header does not match the current version.")
        if self.version != current:
            raise PreconditionFailed(
                "The object changed since you read it; fetch it again and reapply your edit."
            )
