"""Pure rules of the organisation context (no database): CBS area codes and specialisms.

Each check returns a list of ``FieldError`` (empty when the input is fine), so a service can collect
every broken rule of one request and answer them together in one 422.
"""

from __future__ import annotations

import re

from app.domain.errors import FieldError
from app.domain.organisation.models import AreaLevel

Loc = tuple[str | int, ...]

# [0-9], not \d: Python's \d also takes other scripts' digits, which no CBS code has.
MUNICIPALITY_CODE = re.compile(r"GM[0-9]{4}")
WIJK_CODE = re.compile(r"WK[0-9]{6}")
BUURT_CODE = re.compile(r"BU[0-9]{8}")


# -- CBS codes -------------------------------------------------------------------------------------


def area_level(code: str) -> AreaLevel | None:
    """The level a CBS code names: ``WK`` + 6 digits is a wijk, ``BU`` + 8 digits a buurt."""
    if WIJK_CODE.fullmatch(code):
        return AreaLevel.wijk
    if BUURT_CODE.fullmatch(code):
        return AreaLevel.buurt
    return None


def check_municipality_code(code: str, loc: Loc = ("body", "code")) -> list[FieldError]:
    if MUNICIPALITY_CODE.fullmatch(code):
        return []
    return [FieldError(loc, "A municipality code is 'GM' followed by 4 digits.", "cbs_code_format")]


def parent_wijk_code(buurt_code: str) -> str:
    """CBS nesting: a buurt code continues its wijk's six digits with two of its own."""
    return "WK" + buurt_code[2:8]


def check_area_code(
    code: str, municipality_code: str, parent_code: str | None, loc: Loc = ("body", "code")
) -> list[FieldError]:
    """A wijk continues the municipality's 4 digits; a buurt continues its wijk's 6 digits."""
    level = area_level(code)
    if level is None:
        message = "An area code is 'WK' + 6 digits (wijk) or 'BU' + 8 digits (buurt)."
        return [FieldError(loc, message, "cbs_code_format")]
    if level is AreaLevel.wijk:
        if parent_code is not None:
            return [FieldError(("body", "parent_id"), "A wijk has no parent area.", "wijk_has_no_parent")]
        if code[2:6] != municipality_code[2:6]:
            message = "A wijk code must continue its municipality's four digits."
            return [FieldError(loc, message, "cbs_code_nesting")]
        return []
    if parent_code is None:
        return [FieldError(("body", "parent_id"), "A buurt sits under a wijk.", "buurt_needs_wijk")]
    if area_level(parent_code) is not AreaLevel.wijk:
        return [FieldError(("body", "parent_id"), "A buurt's parent must be a wijk.", "parent_not_wijk")]
    if parent_wijk_code(code) != parent_code:
        message = "A buurt code must continue its wijk's six digits."
        return [FieldError(loc, message, "cbs_code_nesting")]
    return []


def normalise_specialisms(values: list[str]) -> list[str]:
    """Trimmed, lower-case, without duplicates, in the order given."""
    seen: dict[str, None] = {}
    for value in values:
        cleaned = " ".join(value.split()).lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)
