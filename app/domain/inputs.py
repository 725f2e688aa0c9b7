"""The scalar types of request input, read the way the contract's JSON Schema reads them.

Pydantic's lax mode reads more than the contract states: ``0`` and ``"yes"`` as a boolean, ``"5"`` as
an integer, ``0.5`` or ``"1700000000"`` as a moment (seconds since 1970). A client must be able to
trust the contract both ways, so input fields take these types instead of ``bool``, ``int``,
``date`` and ``datetime``:

* ``Flag``: JSON ``true`` / ``false`` only;
* ``Whole``: a JSON number without a fraction (``3`` or ``3.0``, as JSON Schema's ``integer``), never
  text or a boolean;
* ``IsoDate``, ``IsoDatetime``, ``AwareIsoDatetime``: ISO 8601 text (``2025-01-31``,
  ``2025-01-31T09:30:00+01:00``), never a number. Python callers (GraphQL, jobs) may pass ``date`` and
  ``datetime`` objects.

Query parameters arrive as text and are typed the same way where they are dates or moments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BeforeValidator, StrictBool
from pydantic_core import PydanticCustomError

T = TypeVar("T")

# Pydantic reads a number, or text that is one, as seconds since 1970; every other text goes on to
# pydantic, which judges it as ISO 8601 (and names what is wrong with it).
_NUMBER = re.compile(r"^\s*[+-]?[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?\s*$")


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool | str | bytes):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _iso_text(kind: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, date) or (isinstance(value, str) and not _NUMBER.match(value)):
            return value  # a date or datetime object (datetime is a date too), or text
        raise PydanticCustomError(f"{kind}_type", f"Input should be a valid {kind} in ISO 8601 form")

    return BeforeValidator(check)


Flag = StrictBool
# Written last in an Annotated, after the constraints (``Annotated[int, Field(ge=1), WholeNumber]``):
# pydantic then states the constraints in the JSON Schema as minimum and maximum.
WholeNumber = BeforeValidator(_whole_number)
Whole = Annotated[int, WholeNumber]
IsoDate = Annotated[date, _iso_text("date")]
IsoDatetime = Annotated[datetime, _iso_text("datetime")]
AwareIsoDatetime = Annotated[AwareDatetime, _iso_text("datetime")]


@dataclass(frozen=True)
class NumberedPage:
    """A page asked for by number (``page`` from 1, ``per_page`` items), as the HSDS API pages; the
    keyset cursors of ``app.web.cursors`` page everything of Wijkwerk's own."""

    page: int = 1
    per_page: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def slice(self, items: Sequence[T]) -> Sequence[T]:
        """This page of a list already in memory."""
        return items[self.offset : self.offset + self.per_page]
