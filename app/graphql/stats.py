"""A neighbourhood's statistics in GraphQL: the same protected figures as ``/api/v1/stats``.

Figures come from the statistics service (``app.domain.stats.areas``, which runs the REST path:
rollups, then disclosure control for the whole municipality); nothing here computes, rounds or
withholds a number. A withheld figure is ``value: null`` with the reason, as in the REST rows.

Which measures a caller gets is decided once, by ``permissions.sees_all_figures``: analysts
(``stats:read``) and members of resident networks covering the buurt get the whole catalogue; anyone
else, anonymous callers included, gets only ``settings.stats_public_measures``. Measures a caller may
not read are left out of the list (not listed with null): a null means "withheld by disclosure
control" and nothing else. Figures of several neighbourhoods in one query are computed together (one
loader per request), so the cost does not grow with the number of buurten.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from app.domain.errors import ValidationFailed
from app.domain.stats import areas, service
from app.domain.stats.areas import AreaFigure, AreaFigures
from app.domain.stats.catalogue import CATALOGUE
from app.domain.stats.disclosure import Suppression
from app.domain.stats.periods import Period, local_today, parse_period
from app.graphql.permissions import sees_all_figures


@strawberry.enum(description="Why a figure is withheld (the REST rows' `suppressed`, in capitals).")
class StatSuppression(Enum):
    BELOW_THRESHOLD = "below_threshold"
    COMPLEMENTARY = "complementary"
    SMALL_DENOMINATOR = "small_denominator"


@strawberry.enum
class StatGranularity(Enum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@strawberry.type(description="A published figure, or null with the reason it is withheld (never 0).")
class StatCell:
    value: float | None = strawberry.field(
        description="Counts are multiples of the rounding base; ratios, medians and means as in REST."
    )
    suppressed: StatSuppression | None = strawberry.field(description="Set exactly when value is null.")
    reason: str | None = strawberry.field(description="The withholding reason in words.")

    @classmethod
    def of(cls, value: int | float | None, suppressed: str | None) -> StatCell:
        if suppressed is None and value is not None:
            return cls(value=float(value), suppressed=None, reason=None)
        why = Suppression(suppressed or Suppression.below_threshold)
        return cls(value=None, suppressed=StatSuppression(str(why)), reason=service.REASONS[why])


@strawberry.type(description="A finished calendar period (local time).")
class StatPeriod:
    key: str = strawberry.field(description="YYYY, YYYY-Qn or YYYY-MM (REST rows' `period`).")
    granularity: StatGranularity
    start: date
    end: date = strawberry.field(description="The period's last day.")

    @classmethod
    def of(cls, period: Period) -> StatPeriod:
        return cls(
            key=period.key,
            granularity=StatGranularity(str(period.granularity)),
            start=period.start,
            end=period.last_day,
        )


@strawberry.type(description="One figure of a catalogue measure (GET /api/v1/stats) for the buurt.")
class StatFigure:
    measure: str = strawberry.field(description="The catalogue measure id.")
    unit: str
    category: str = strawberry.field(description="A category of the measure's breakdown, or 'total'.")
    cell: StatCell

    @classmethod
    def of(cls, figure: AreaFigure) -> StatFigure:
        return cls(
            measure=figure.measure,
            unit=figure.unit,
            category=figure.category,
            cell=StatCell.of(figure.value, figure.suppressed),
        )


@strawberry.type(description="A buurt's figures for one period, after disclosure control.")
class NeighbourhoodStats:
    period: StatPeriod
    as_of: datetime = strawberry.field(description="When the figures were computed (the rollups).")
    public_only: bool = strawberry.field(
        description="True when the caller gets only the measures the municipality publishes for everyone."
    )
    figures: list[StatFigure] = strawberry.field(
        description="Measures in catalogue order, then categories; measures the caller may not read "
        "are absent."
    )


def bad_input(message: str, rule: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "rule": rule})


def period_of(key: str) -> Period:
    period = parse_period(key)
    if period is None:
        raise bad_input("The period is YYYY, YYYY-Qn or YYYY-MM.", "period_format")
    try:
        areas.check_period(period, local_today())
    except ValidationFailed as error:
        raise bad_input(error.errors[0].message, error.errors[0].rule) from error
    return period


async def figures_of(info: Any, code: str, period: Period, measures: tuple[str, ...]) -> AreaFigures:
    return await info.context.loaders.figures.load((code, period, measures))


def measures_for(info: Any, everything: bool, asked: list[str] | None) -> tuple[str, ...]:
    """The measures to compute: the caller's audience, narrowed to those asked for (unknown ids: an error)."""
    if asked is not None:
        unknown = areas.unknown_measures(asked)
        if unknown:
            raise bad_input("Unknown measure; see the catalogue (GET /api/v1/stats).", "unknown_measure")
    allowed = set(CATALOGUE) if everything else set(info.context.settings.stats_public_measures)
    return tuple(m for m in CATALOGUE if m in allowed and (asked is None or m in asked))


async def neighbourhood_stats(
    info: Any, buurt_id: Any, code: str, period_key: str, asked: list[str] | None
) -> NeighbourhoodStats:
    period = period_of(period_key)
    everything = await sees_all_figures(info, buurt_id)
    found = await figures_of(info, code, period, measures_for(info, everything, asked))
    return NeighbourhoodStats(
        period=StatPeriod.of(period),
        as_of=found.as_of,
        public_only=not everything,
        figures=[StatFigure.of(f) for f in found.figures],
    )
