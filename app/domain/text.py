"""One rule for text input, everywhere: no control characters.

PostgreSQL refuses NUL (U+0000) in text, and the other C0 controls and DEL have no place in a name,
a note or a code (they corrupt exports and hide text in logs and screens). Tab, line feed and
carriage return stay allowed: notes have lines. Every input schema and every GraphQL argument uses
this one definition.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
CONTROL_CHARACTER = re.compile(CONTROL_CHARACTERS)
CONTROL_CHARACTERS_RULE = "control_characters"
CONTROL_CHARACTERS_MESSAGE = "Text may not contain control characters (tab and line breaks are allowed)."


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTER.search(value) is not None
