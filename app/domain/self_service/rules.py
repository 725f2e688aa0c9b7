"""Pure rules of self-service (no database; tests/self_service/test_rules.py).

* **Who may use it.** Self-service is on for a member when it is on for the household and for the
  member. Each is the coordinator's explicit choice, or the default when they made none: a household
  is on unless it is confidential (a confidential household starts off: the reason it is confidential,
  e.g. violence at home, is the reason a housemate must not see new data); a member is on unless they
  are a child (their parents see the household's file and exercise their rights).
* **What another member's sign-in shows of the others.** An adult sees the children of the household
  (given names; their data is the parents' to see), never another adult's personal data.
* **Activation codes.** 12 characters of Crockford's base 32 (60 bits), shown as ``XXXX-XXXX-XXXX``;
  typing is forgiving (case, spaces, dashes, O for 0, I and L for 1). Stored as a keyed hash
  (HMAC-SHA256 with a key derived from the service's secret), so a copy of the database is no list of
  codes to try. Guessing is bounded by their lifetime and the rate limit on the activation page.
* **Which member a BSN leads to.** The same person can have member rows in several households (a
  move); the sign-in takes the one whose self-service is on, an open household before a closed one,
  the newest row first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.households.models import MemberRole

# -- who may use self-service ------------------------------------------------------------------


def household_enabled(choice: bool | None, confidential: bool) -> bool:
    return (not confidential) if choice is None else choice


def member_enabled(choice: bool | None, role: str) -> bool:
    return (role != MemberRole.child) if choice is None else choice


def enabled(household_choice: bool | None, confidential: bool, member_choice: bool | None, role: str) -> bool:
    return household_enabled(household_choice, confidential) and member_enabled(member_choice, role)


def sees_children(role: str) -> bool:
    """Whether a member sees the household's children (adults do; a child sees only themself)."""
    return role != MemberRole.child


# -- activation codes --------------------------------------------------------------------------

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
CODE_LENGTH = 12
_TYPO_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_activation_code() -> str:
    """A fresh code, grouped for reading aloud or typing: ``7KQ2-M9XD-4RTA``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalised_code(typed: str) -> str | None:
    """The 12 characters of a typed code, or None when it cannot be one."""
    compact = "".join(typed.split()).replace("-", "").upper().translate(_TYPO_FIXES)
    if len(compact) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in compact):
        return None
    return compact


class CodeHasher:
    """How activation codes are stored: HMAC-SHA256 under a key derived from the service's secret."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"wijkwerk-activation-code:" + secret.encode()).digest()

    def hash(self, code: str) -> str | None:
        """The stored form of a code as typed (None when it cannot be a code)."""
        compact = normalised_code(code)
        if compact is None:
            return None
        return hmac.new(self._key, compact.encode(), hashlib.sha256).hexdigest()


# -- which member a BSN leads to -----------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    member_id: uuid.UUID
    household_id: uuid.UUID
    household_closed: bool
    created_at: datetime


def pick_member(candidates: Sequence[Candidate]) -> Candidate | None:
    """Of the member rows with self-service on that carry one BSN: an open household's first, then
    the newest row."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.household_closed, -c.created_at.timestamp()))


def new_username() -> str:
    """The username of a household member's account: made up, so it says nothing about them."""
    return "bewoner-" + "".join(secrets.choice(CODE_ALPHABET.lower()) for _ in range(8))
