"""Pure rules of the assessments context (unit-tested without a database).

The 80-20-5 tier (roughly 80% of households manage on their own, 20% need the team, 5% need
specialist care) is DERIVED from the latest score per life domain, never typed in: a tier someone
typed would drift from the scores it is meant to summarise.

The ZRM-style scale reads 1 acute problem, 2 not self-reliant, 3 limited self-reliance, 4 adequately
self-reliant, 5 fully self-reliant. The rule, applied to the latest score of every (person, domain)
pair in the household (the household-level scores and each member's own):

* ``specialist`` (the 5%): any domain in acute crisis (a 1), or a "multi-problem" picture of at least
  ``MULTI_PROBLEM_DOMAINS`` domains at 2. Both are the classic signals that the team cannot carry the
  situation alone and must refer to specialist care (while keeping the lead).
* ``support`` (the 20%): otherwise, any domain at 3 or lower: the household needs the team's help on
  some life domains.
* ``self_reliant`` (the 80%): every assessed domain at 4 or 5.
* no scores at all: no tier (``None``): nothing is guessed before anyone assessed anything.

The household takes the most serious tier of anyone in it: a child in crisis makes the household a
specialist case even when the parents' scores are fine. "Latest" means the latest ``assessed_on``,
then the latest recorded (``created_at``, then id) for the same person and domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

# Dates in the case file are local (Dutch) dates.
LOCAL_TZ = ZoneInfo("Europe/Amsterdam")

ACUTE = 1
NOT_SELF_RELIANT = 2
SUPPORT_THRESHOLD = 3
MULTI_PROBLEM_DOMAINS = 3


class Tier(StrEnum):
    self_reliant = "self_reliant"  # the 80%
    support = "support"  # the 20%
    specialist = "specialist"  # the 5%


NO_TIER = "none"  # a household nobody assessed yet (where a setting needs a value for it too)


def derive_tier(latest_scores: Iterable[int]) -> Tier | None:
    """The 80-20-5 tier from the latest score of every assessed (person, domain) pair."""
    scores = list(latest_scores)
    if not scores:
        return None
    if ACUTE in scores or scores.count(NOT_SELF_RELIANT) >= MULTI_PROBLEM_DOMAINS:
        return Tier.specialist
    if min(scores) <= SUPPORT_THRESHOLD:
        return Tier.support
    return Tier.self_reliant


def tier_sql(score: str = "score") -> str:
    """``derive_tier`` as an SQL aggregate over the latest scores of one household (a GROUP BY per
    household): NULL without scores. PostgreSQL stores it per household (``HouseholdTier``, kept by the
    triggers of migration 0205, which copy this text: a test holds them to it, another holds it to
    ``derive_tier``)."""
    return (
        f"CASE WHEN count({score}) = 0 THEN NULL "
        f"WHEN bool_or({score} = {ACUTE}) "
        f"OR count(*) FILTER (WHERE {score} = {NOT_SELF_RELIANT}) >= {MULTI_PROBLEM_DOMAINS} "
        f"THEN '{Tier.specialist}' "
        f"WHEN min({score}) <= {SUPPORT_THRESHOLD} THEN '{Tier.support}' "
        f"ELSE '{Tier.self_reliant}' END"
    )


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_TZ).date()


def is_in_future(day: date, now: datetime) -> bool:
    """A local date after today in the Netherlands (assessments and agreements cannot be dated ahead)."""
    return day > local_today(now)


def duplicate_domains(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    duplicates: list[str] = []
    for code in codes:
        if code in seen and code not in duplicates:
            duplicates.append(code)
        seen.add(code)
    return duplicates
