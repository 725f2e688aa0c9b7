"""Pure rules of the informal network map (unit-tested without a database).

Data minimisation: the people around a household never asked to be in a case file, so a person is
recorded by a first name or a role only ("Ans", "neighbour", "aunt Marie"). The label rule refuses
what is clearly more than that: digits (phone and house numbers, birth dates), an ``@`` (e-mail),
a web address, or more than ``MAX_LABEL_WORDS`` words (a full name with an address or a story).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_LABEL_WORDS = 3
_NOT_MINIMAL = re.compile(r"[0-9@]|https?:|www\.", re.IGNORECASE)


def label_is_minimal(label: str) -> bool:
    """A first name or a role, nothing else identifying."""
    words = label.split()
    return 0 < len(words) <= MAX_LABEL_WORDS and not _NOT_MINIMAL.search(label)


def unique_in_order(values: Iterable[str]) -> list[str]:
    """Support kinds are a set; keep the caller's order, drop repeats."""
    return list(dict.fromkeys(values))
