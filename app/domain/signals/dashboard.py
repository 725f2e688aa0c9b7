"""The municipality's dashboard of policy signals: how many per theme and status, how long an answer
takes, which outcomes per quarter. Signals past draft only, and a bundle once (its lead signal).
Counts of signals, never of people: the households behind a signal are published only as a protected
count on the signal itself."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.organisation.models import Municipality
from app.domain.signals.models import PolicySignal, SignalStatus

_LOCAL = "Europe/Amsterdam"


@dataclass(frozen=True)
class ThemeStatusCount:
    theme: str
    status: str
    signals: int


@dataclass(frozen=True)
class OutcomeCount:
    quarter: str  # YYYY-Qn of the answer (local time)
    answer: str
    signals: int


@dataclass(frozen=True)
class SignalDashboard:
    by_theme_and_status: list[ThemeStatusCount]
    answered: int
    median_days_to_answer: float | None
    outcomes: list[OutcomeCount]


def _counted(municipality: str) -> list[sa.ColumnElement[bool]]:
    of_municipality = sa.select(col(Municipality.id)).where(col(Municipality.code) == municipality)
    return [
        col(PolicySignal.municipality_id).in_(of_municipality.scalar_subquery()),
        col(PolicySignal.status) != str(SignalStatus.draft),
        col(PolicySignal.bundled_into_id).is_(None),
    ]


async def dashboard(session: AsyncSession, municipality: str) -> SignalDashboard:
    """Three queries: per theme and status, the median time to an answer, outcomes per quarter."""
    where = _counted(municipality)
    theme = sa.func.unnest(col(PolicySignal.themes)).label("theme")
    inner = sa.select(theme, col(PolicySignal.status)).where(*where).subquery()
    per_theme = await session.execute(
        sa.select(inner.c.theme, inner.c.status, sa.func.count())
        .group_by(inner.c.theme, inner.c.status)
        .order_by(inner.c.theme, inner.c.status)
    )
    days = sa.extract("epoch", col(PolicySignal.answered_at) - col(PolicySignal.submitted_at)) / 86400
    timing = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.percentile_cont(0.5).within_group(days)).where(
                *where, col(PolicySignal.answered_at).is_not(None)
            )
        )
    ).one()
    local = sa.func.timezone(_LOCAL, col(PolicySignal.answered_at))
    quarter = sa.func.to_char(local, 'YYYY-"Q"Q').label("quarter")
    outcomes = await session.execute(
        sa.select(quarter, col(PolicySignal.answer), sa.func.count())
        .where(*where, col(PolicySignal.answered_at).is_not(None))
        .group_by(quarter, col(PolicySignal.answer))
        .order_by(quarter, col(PolicySignal.answer))
    )
    return SignalDashboard(
        by_theme_and_status=[ThemeStatusCount(t, s, int(n)) for t, s, n in per_theme],
        answered=int(timing[0]),
        median_days_to_answer=None if timing[1] is None else round(float(timing[1]), 1),
        outcomes=[OutcomeCount(q, a, int(n)) for q, a, n in outcomes],
    )
