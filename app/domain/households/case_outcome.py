"""What a one-statement case write (``case_write``) found, and the refusal it answers with when it
wrote nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.concurrency import ExpectedVersion
from app.domain.errors import NotFound, PreconditionFailed
from app.domain.households.rules import ensure_open


@dataclass(frozen=True)
class Outcome:
    """What a case write found: the household's status (None: not visible or missing), whether it
    wrote, whether the aggregate it is part of is missing (its name), whether the object of a change
    or removal was there and at which version, the row as written (when the write answers it), and
    its named ``checks`` (with the conditions) and ``reads``, empty for a household the caller may
    not see."""

    status: str | None
    written: bool
    found: bool = False
    found_version: int | None = None
    row: dict[str, Any] | None = None
    checks: Mapping[str, Any] = field(default_factory=dict)
    reads: Mapping[str, Any] = field(default_factory=dict)
    missing_parent: str | None = None
    open_file_needed: bool = True
    hidden: str = "household"  # what a household the caller may not see is answered as

    def raise_unless_written(
        self,
        what: str | None = None,
        expected: ExpectedVersion | None = None,
        object_id: uuid.UUID | None = None,
        *,
        version_first: bool = False,
        rules: Callable[[], None] | None = None,
    ) -> None:
        """The refusal a write that wrote nothing answers with (its entry is already written), in the
        order the case file answers: 404 for a household the caller may not see, 404 for a missing
        aggregate (``within``), 404 for ``what`` (the object of a change) missing, then the
        closed-file 409 and the If-Match answers (428 none, 412 stale or naming another object) in
        the order the context always gave them (``version_first``: the version before the file),
        then ``rules``: a function that raises the refusal of the context's own rules (broken before
        the statement, or failed checks). What is left is a version that changed under the write."""
        if self.written:
            return
        if self.status is None:
            raise NotFound(self.hidden)
        if self.missing_parent is not None:
            raise NotFound(self.missing_parent)
        if what is not None and not self.found:
            raise NotFound(what)
        if version_first:
            self._check_version(expected, object_id)
            self._check_open()
        else:
            self._check_open()
            self._check_version(expected, object_id)
        if rules is not None:
            rules()
        raise PreconditionFailed(
            "The object changed since you read it; fetch it again and reapply your edit."
        )

    def _check_open(self) -> None:
        if self.open_file_needed and self.status is not None:
            ensure_open(self.status)

    def _check_version(self, expected: ExpectedVersion | None, object_id: uuid.UUID | None) -> None:
        if expected is not None and object_id is not None and self.found_version is not None:
            expected.check(object_id, self.found_version)

    def failed(self, check: str) -> bool:
        """Whether the named check (or condition) failed; for an array check, any of its items."""
        value = self.checks.get(check)
        return not (value is True or (isinstance(value, list) and all(value)))
