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
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, StrictBool
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool | str | bytes):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _iso_text(kind: str, form: re.Pattern[str], example: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, date):  # datetime is a date too
            return value
        if isinstance(value, str) and form.match(value.strip()):
            return value
        raise PydanticCustomError(f"{kind}_format", f"Give the {kind} in ISO 8601 form, e.g. {example}.")

    return BeforeValidator(check)


Flag = StrictBool
Whole = Annotated[int, BeforeValidator(_whole_number)]
IsoDate = Annotated[date, _iso_text("date", _ISO_DATE, "2025-01-31")]
IsoDatetime = Annotated[datetime, _iso_text("datetime", _ISO_DATETIME, "2025-01-31T09:30:00+01:00")]
AwareIsoDatetime = Annotated[AwareDatetime, _iso_text("datetime", _ISO_DATETIME, "2025-01-31T09:30:00+01:00")]
