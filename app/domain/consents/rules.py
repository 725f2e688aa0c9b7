"""Pure consent rules (no database): when a consent is in force and what it covers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

# Consent periods are local dates: a consent "until 31 March" holds all of that day in the Netherlands.
LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(LOCAL_ZONE)).astimezone(LOCAL_ZONE).date()


@dataclass(frozen=True)
class ConsentTerms:
    member_id: uuid.UUID
    organisation_id: uuid.UUID
    purpose: str
    categories: frozenset[str]
    valid_from: date
    valid_until: date | None
    withdrawn: bool


def in_force(terms: ConsentTerms, today: date) -> bool:
    """Not withdrawn, and today lies within [valid_from, valid_until]."""
    if terms.withdrawn or today < terms.valid_from:
        return False
    return terms.valid_until is None or today <= terms.valid_until


def covers(
    terms: ConsentTerms,
    *,
    member_id: uuid.UUID,
    organisation_id: uuid.UUID,
    purpose: str,
    categories: frozenset[str],
    today: date,
) -> bool:
    """The consent lets this member's data of these categories go to this organisation for this purpose."""
    return (
        in_force(terms, today)
        and terms.member_id == member_id
        and terms.organisation_id == organisation_id
        and terms.purpose == purpose
        and categories <= terms.categories
    )
