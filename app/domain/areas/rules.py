"""Pure rules of the areas context: reading CBS's "buurt, wijk en gemeente per postcode en
huisnummer" file and folding its addresses into house-number ranges (unit-tested without a database).

The file has a header and one line per address, separated by semicolons (commas are taken too)::

    PC6;Huisnummer;Buurt2024;Wijk2024;Gemeente2024
    9901AB;12;01180107;011801;0118

CBS writes the codes without their letters (``01180107`` is buurt ``BU01180107``) and, depending on
the year and the tool that last saved the file, with or without leading zeros and quotes; all of
those are read. The year is the one in the header's column names (``Buurt2024``), unless the caller
names it. A line that breaks a rule is reported with its number and the rule, never its contents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.domain.areas.models import HIGHEST_HOUSE_NUMBER

_POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")
_UNUSED_POSTCODE_LETTERS = frozenset({"SA", "SD", "SS"})
_POSTCODE_COLUMNS = ("pc6", "postcode")
_NUMBER_COLUMNS = ("huisnummer", "house_number")
_BUURT = re.compile(r"^(?:buurt|buurtcode|buurt_code)(\d{4})?$")
_GEMEENTE = re.compile(r"^(?:gemeente|gemeentecode|gemeente_code)(\d{4})?$")
_DIGITS = re.compile(r"^(?:BU|GM)?(\d{1,8})$")


class HeaderInvalid(ValueError):
    """The first line is not the header of a postcode table (the message says what is missing)."""


@dataclass(frozen=True)
class Layout:
    """Where the columns are, how they are separated, and the year the header names (if any)."""

    delimiter: str
    postcode: int
    house_number: int
    buurt: int
    gemeente: int
    year: int | None


@dataclass(frozen=True)
class Address:
    postcode: str
    house_number: int
    buurt_code: str  # BU + 8 digits
    gemeente_code: str  # GM + 4 digits


def normalise_postcode(value: str) -> str | None:
    """``1234 ab`` -> ``1234AB``; None when it is not a Dutch postcode."""
    match = _POSTCODE.match(value.strip())
    if match is None:
        return None
    letters = match.group(2).upper()
    if letters in _UNUSED_POSTCODE_LETTERS:
        return None
    return match.group(1) + letters


def _split(line: str, delimiter: str) -> list[str]:
    return [field.strip().strip('"').strip() for field in line.rstrip("\r\n").split(delimiter)]


def read_header(line: str) -> Layout:
    """The layout of a file from its first line."""
    delimiter = ";" if line.count(";") >= line.count(",") else ","
    names = [name.lower() for name in _split(line.lstrip("\ufeff"), delimiter)]

    def find(candidates: Sequence[str] | re.Pattern[str], what: str) -> tuple[int, int | None]:
        for index, name in enumerate(names):
            if isinstance(candidates, re.Pattern):
                if found := candidates.match(name):
                    return index, int(found[1]) if found[1] else None
            elif name in candidates:
                return index, None
        raise HeaderInvalid(f"The header has no {what} column.")

    postcode, _ = find(_POSTCODE_COLUMNS, "postcode (PC6)")
    number, _ = find(_NUMBER_COLUMNS, "house number (Huisnummer)")
    buurt, buurt_year = find(_BUURT, "buurt (BuurtYYYY)")
    gemeente, gemeente_year = find(_GEMEENTE, "gemeente (GemeenteYYYY)")
    if buurt_year and gemeente_year and buurt_year != gemeente_year:
        raise HeaderInvalid("The buurt and gemeente columns name different years.")
    return Layout(delimiter, postcode, number, buurt, gemeente, buurt_year or gemeente_year)


def _code(value: str, prefix: str, digits: int) -> str | None:
    found = _DIGITS.match(value.upper())
    if found is None or len(found[1]) > digits:
        return None
    return prefix + found[1].zfill(digits)


def parse_address(line: str, layout: Layout) -> Address | str:
    """The address on one line, or the rule it breaks (a message without the line's contents)."""
    fields = _split(line, layout.delimiter)
    needed = max(layout.postcode, layout.house_number, layout.buurt, layout.gemeente)
    if len(fields) <= needed:
        return "too few fields"
    postcode = normalise_postcode(fields[layout.postcode])
    if postcode is None:
        return "the postcode is not four digits and two letters"
    number = fields[layout.house_number]
    if not number.isdigit() or not 1 <= int(number) <= HIGHEST_HOUSE_NUMBER:
        return f"the house number is not a whole number from 1 to {HIGHEST_HOUSE_NUMBER}"
    buurt = _code(fields[layout.buurt], "BU", 8)
    if buurt is None:
        return "the buurt code is not 8 digits"
    gemeente = _code(fields[layout.gemeente], "GM", 4)
    if gemeente is None:
        return "the gemeente code is not 4 digits"
    if buurt[2:6] != gemeente[2:]:
        return "the buurt code does not belong to the gemeente"
    return Address(postcode, int(number), buurt, gemeente)


Range = tuple[int, int, str]  # (first house number, last house number, buurt code)


def fold(numbers: Mapping[int, str]) -> list[Range]:
    """The house numbers of one postcode (number -> buurt code) as ranges: a range runs as long as
    the buurt stays the same, gaps in the numbering included (so a house built later between two
    numbers of the same buurt is found too); it ends where the next known number lies in another
    buurt."""
    ranges: list[Range] = []
    for number in sorted(numbers):
        buurt = numbers[number]
        if ranges and ranges[-1][2] == buurt:
            ranges[-1] = (ranges[-1][0], number, buurt)
        else:
            ranges.append((number, number, buurt))
    return ranges
