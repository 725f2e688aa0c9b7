"""The one rule for text typed by people and clients: which control characters it may hold.

PostgreSQL cannot store NUL in text, and no name, note or message needs a control character beyond a
line break or a tab. So every free-text field of every input (REST bodies and query parameters,
GraphQL inputs, the CLI) is one of these two types, and nothing else decides it:

* ``SingleLine``: names, titles, codes, labels, subjects, purposes, references, addresses. Every C0
  control character (U+0000 to U+001F) and DEL (U+007F) is refused, line breaks and tabs included.
* ``MultiLine``: notes, descriptions, reasons, reports, messages, summaries. Line feed, carriage
  return and tab are allowed; NUL and every other control character are refused.

Each is a pattern that pydantic enforces and that the OpenAPI document declares (the contract shows
what is enforced). Fields add their own lengths (``Annotated[SingleLine, Field(max_length=80)]``).
A broken pattern is reported under one stable rule, ``control_character`` (``describe``), never with
the submitted value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import StringConstraints

# ECMA-262 and Rust (pydantic-core) read these alike; ``$`` is the end of the text in both.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

SingleLine = Annotated[str, StringConstraints(pattern=SINGLE_LINE_PATTERN)]
MultiLine = Annotated[str, StringConstraints(pattern=MULTI_LINE_PATTERN)]

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
    ),
]
"""An e-mail address: something@domain.tld, without spaces or control characters."""

CONTROL_CHARACTER = "control_character"

_EXPLAINED = {
    SINGLE_LINE_PATTERN: "Text on one line: no control characters, line breaks or tabs.",
    MULTI_LINE_PATTERN: "Text may hold line breaks and tabs but no other control characters.",
}


def describe(error: Mapping[str, Any]) -> tuple[str, str]:
    """The stable rule name and the message of one pydantic error (an entry of ``errors()``).

    A text type's broken pattern becomes ``control_character`` with a message saying what is allowed
    (pydantic's own message would show the pattern, which tells a person nothing); every other error
    keeps pydantic's type and message. Neither ever holds the submitted value.
    """
    rule = str(error.get("type", "invalid"))
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx") or {}
    if rule == "string_pattern_mismatch" and context.get("pattern") in _EXPLAINED:
        return CONTROL_CHARACTER, _EXPLAINED[context["pattern"]]
    detail = context.get("error")
    if isinstance(detail, str) and message.endswith(f", {detail}"):
        # The parser's detail may quote the input ("invalid character: found `J` at 0"): the rule is
        # said without it.
        return rule, message[: -len(detail) - 2] + "."
    return rule, message


# GraphQL arguments take the multi-line rule (a query names no field type of ours to tell them apart):
# the same characters are refused, under the same rule.
_REFUSED_EVERYWHERE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTER_MESSAGE = _EXPLAINED[MULTI_LINE_PATTERN]


def has_control_characters(value: str) -> bool:
    """``value`` holds a control character no text of ours may hold (tab and line breaks aside)."""
    return _REFUSED_EVERYWHERE.search(value) is not None


def storable(value: str) -> str:
    """``value`` with each NUL (which PostgreSQL text cannot hold) replaced by U+FFFD.

    Only for records that must be written whatever arrived, such as the access log's stated reason:
    input is refused by the rules above, but the attempt itself still has to reach the log.
    """
    return value.replace("\x00", "\ufffd")
