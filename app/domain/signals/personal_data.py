"""No personal data in a policy signal: free text is checked for what names or reaches a person.

Pure rules, tested without a database. Each finder says only *which kind* it found, never where or
what: the 422 names the field and the kind, and the text itself is never echoed or logged.

Kinds:

* ``bsn``: nine digits (dots or spaces between groups allowed) that pass the eleven-test
  (``app.domain.households.bsn.check_bsn``, the one BSN rule of the service);
* ``phone_number``: a Dutch number, national (``06-12345678``, ``020 123 4567``, ``0612345678``) or
  international (``+31 6 12345678``, ``0031 20 1234567``, ``+31 (0)20 ...``);
* ``email_address``: something@domain.tld;
* ``postcode_house_number``: a Dutch postcode (``1234 AB``) next to a house number, in either order
  (``1234 AB 12``, ``Dorpsstraat 12, 1234AB``): together they point at one address;
* ``member_name``: the given or family name of a member of a household linked to the signal, as a
  whole word (case-insensitive; names shorter than two letters are not looked for).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import FieldError, ValidationFailed
from app.domain.households.bsn import BsnInvalid, check_bsn


class PersonalData(StrEnum):
    bsn = "bsn"
    phone_number = "phone_number"
    email_address = "email_address"
    postcode_house_number = "postcode_house_number"
    member_name = "member_name"


_WORDS = {
    PersonalData.bsn: "a citizen service number (BSN)",
    PersonalData.phone_number: "a phone number",
    PersonalData.email_address: "an e-mail address",
    PersonalData.postcode_house_number: "a postcode with a house number",
    PersonalData.member_name: "the name of a member of a linked household",
}

# Nine digits, possibly grouped with dots or spaces (123.456.782, 1234 56 782), not part of a longer
# number.
_NINE_DIGITS = re.compile(r"(?<![\d.])\d(?:[ .]?\d){8}(?![\d]|\.\d)")
# A Dutch phone number: trunk 0, or +31 / 0031 with an optional (0), then nine digits; separators
# (space, dash, dot) may sit between the digits.
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)31[\s.-]?(?:\(0\)[\s.-]?)?|0)[1-9](?:[\s.-]?\d){8}(?!\d)")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[A-Za-z]{2,}")
# A postcode: four digits not starting with 0, two letters (SA, SD and SS are never issued): capitals,
# or small letters written against the digits ("1234ab"); "2024 en 12" is a year and a count.
_POSTCODE = r"[1-9]\d{3}(?:\s?(?!SA|SD|SS)[A-Z]{2}|(?!sa|sd|ss)[a-z]{2})"
_HOUSE_NUMBER = r"\d{1,5}(?:\s?[A-Za-z]\b|-\w{1,4})?"
_POSTCODE_WITH_NUMBER = re.compile(
    rf"(?<!\d)(?:{_POSTCODE}\b[\s,-]*(?:nr\.?\s*)?{_HOUSE_NUMBER}|{_HOUSE_NUMBER}[\s,]+{_POSTCODE})\b"
)
_MIN_NAME_LENGTH = 2


def _has_bsn(text: str) -> bool:
    for match in _NINE_DIGITS.finditer(text):
        try:
            check_bsn(match.group())
        except BsnInvalid:
            continue
        return True
    return False


def _has_name(text: str, names: Iterable[str]) -> bool:
    for name in names:
        name = " ".join(name.split())
        if len(name) < _MIN_NAME_LENGTH:
            continue
        words = r"\s+".join(re.escape(part) for part in name.split(" "))
        if re.search(rf"(?<!\w){words}(?!\w)", text, flags=re.IGNORECASE):
            return True
    return False


def kinds_in(text: str, names: Iterable[str] = ()) -> list[PersonalData]:
    """The kinds of personal data ``text`` holds, in a fixed order (empty: none found)."""
    found: list[PersonalData] = []
    if _has_bsn(text):
        found.append(PersonalData.bsn)
    if _PHONE.search(text):
        found.append(PersonalData.phone_number)
    if _EMAIL.search(text):
        found.append(PersonalData.email_address)
    if _POSTCODE_WITH_NUMBER.search(text):
        found.append(PersonalData.postcode_house_number)
    if _has_name(text, names):
        found.append(PersonalData.member_name)
    return found


@dataclass(frozen=True)
class TextField:
    """A free-text field of a request: where it sits (``loc``) and what it says (never repeated)."""

    loc: tuple[str | int, ...]
    text: str | None


def field_errors(fields: Iterable[TextField], names: Iterable[str] = ()) -> list[FieldError]:
    """One error per field and kind found: rule ``personal_data_<kind>``; the message says the kind."""
    names = tuple(names)
    errors: list[FieldError] = []
    for field in fields:
        if not field.text:
            continue
        for kind in kinds_in(field.text, names):
            errors.append(
                FieldError(
                    field.loc,
                    f"This text holds what looks like {_WORDS[kind]}; describe the situation without "
                    "personal data.",
                    f"personal_data_{kind}",
                )
            )
    return errors


def check(fields: Iterable[TextField], names: Iterable[str] = ()) -> None:
    """Raise ``ValidationFailed`` (422) naming every field and kind of personal data found."""
    errors = field_errors(fields, names)
    if errors:
        raise ValidationFailed(errors, detail="A policy signal holds no personal data.")


def text_fields(values: Mapping[str, str | None], prefix: str = "body") -> list[TextField]:
    """The text fields of a request body by name."""
    return [TextField((prefix, name), value) for name, value in values.items()]
