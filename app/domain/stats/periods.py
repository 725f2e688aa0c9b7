"""Calendar periods for statistics: fixed months, quarters and years, never free windows.

Periods are local (Europe/Amsterdam) calendar periods. Only *finished* periods are published: a
figure for the running month would change with every new case, and comparing two answers a day apart
would single out the newest cases. Within one calendar year a finished year is the sum of its four
quarters and a finished quarter the sum of its three months, which disclosure control relies on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.stats.disclosure import Dimension

LOCAL_TIME_ZONE = "Europe/Amsterdam"
_ZONE = ZoneInfo(LOCAL_TIME_ZONE)


class Granularity(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day
    end: date  # first day after the period
    granularity: Granularity

    @property
    def key(self) -> str:
        if self.granularity is Granularity.year:
            return f"{self.start.year}"
        if self.granularity is Granularity.quarter:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    def finished(self, today: date) -> bool:
        return self.end <= today

    def overlaps(self, first: date, last: date) -> bool:
        return self.start <= last and self.end > first


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


_MONTHS = {Granularity.month: 1, Granularity.quarter: 3, Granularity.year: 12}


def period_of(day: date, granularity: Granularity) -> Period:
    months = _MONTHS[granularity]
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return Period(start, _months_later(start, months), granularity)


def periods_between(first: date, last: date, granularity: Granularity) -> Iterator[Period]:
    """Every period of this granularity that overlaps ``first .. last`` (both inclusive)."""
    period = period_of(first, granularity)
    while period.start <= last:
        yield period
        period = period_of(period.end, granularity)


def children(period: Period) -> list[Period]:
    """The periods one level down that make up this one (a year's quarters, a quarter's months)."""
    if period.granularity is Granularity.year:
        return list(periods_between(period.start, period.last_day, Granularity.quarter))
    if period.granularity is Granularity.quarter:
        return list(periods_between(period.start, period.last_day, Granularity.month))
    return []


def year_block(year: int, today: date) -> tuple[Dimension, dict[str, Period]]:
    """The finished months, quarters and the year itself (when finished) of one calendar year, with
    their sums: the period dimension of a flow measure's linked table."""
    whole = period_of(date(year, 1, 1), Granularity.year)
    finished: list[Period] = []
    for granularity in (Granularity.year, Granularity.quarter, Granularity.month):
        finished += [
            p for p in periods_between(whole.start, whole.last_day, granularity) if p.finished(today)
        ]
    sums = {
        p.key: tuple(c.key for c in children(p)) for p in finished if p.granularity is not Granularity.month
    }
    return Dimension(tuple(p.key for p in finished), sums), {p.key: p for p in finished}


_KEY = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


def parse_period(key: str) -> Period | None:
    """A period from its key (``2025``, ``2025-Q3``, ``2025-07``, as ``Period.key`` writes it)."""
    found = _KEY.match(key.strip())
    if found is None:
        return None
    year, quarter, month = int(found[1]), found[2], found[3]
    if quarter is not None:
        return period_of(date(year, int(quarter) * 3 - 2, 1), Granularity.quarter)
    if month is not None:
        return period_of(date(year, int(month), 1), Granularity.month)
    return period_of(date(year, 1, 1), Granularity.year)


def local_today() -> date:
    return datetime.now(_ZONE).date()


def local_midnight(day: date) -> datetime:
    """The moment a local calendar day starts, as an aware datetime (for filtering timestamps)."""
    return datetime(day.year, day.month, day.day, tzinfo=_ZONE)
