"""Statistics use cases: the catalogue, and one measure's protected figures for an area and range.

Every figure goes through disclosure control (figures.py, disclosure.py) before it leaves; this
module checks the request and picks the rows it asked for out of the protected tables. Figures are
read from the rollups (rollups.py) and say when those were made (``as_of``).

``catalogue`` takes the unit of work and reads through ``uow.reading()``. ``resolve`` and ``compute``
take a session: REST's route opens ``uow.reading()`` for them, the GraphQL figures loader
(``areas.buurt_figures``) its query's reads. Both are reads that may be a few seconds behind the
primary, so they go to a streaming replica when one is configured (``WIJKWERK_READ_DATABASE_URL``).
Statistics are aggregates, not case data: nothing here writes the access log or the change feed.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.stats import repository as repo
from app.domain.stats.catalogue import AREA_LEVELS, CATALOGUE, Level, Measure
from app.domain.stats.disclosure import Policy, Published, Suppression
from app.domain.stats.figures import AreaTree, Scope, category_nodes, category_values, protected
from app.domain.stats.periods import Granularity, Period, periods_between
from app.domain.stats.schemas import (
    BreakdownRead,
    CatalogueRead,
    DimensionRead,
    DisclosureRead,
    MeasureRead,
)
from app.domain.unit_of_work.work import UnitOfWork

MAX_RANGE_DAYS = 10 * 366
EARLIEST = date(2000, 1, 1)
_DEPTH = {Level.gemeente: 0, Level.wijk: 1, Level.buurt: 2}
REASONS = {
    Suppression.below_threshold: "The group is smaller than the threshold (zero included).",
    Suppression.complementary: "Withheld so that another withheld figure cannot be worked out from totals.",
    Suppression.small_denominator: "The group is too small for a ratio, median or mean.",
}
_EMPTY = Published(None, Suppression.below_threshold)


def policy_from(settings: Any) -> Policy:
    """The disclosure policy from settings (``stats_*``), never looser than the defaults."""
    defaults = Policy()
    return Policy(
        threshold=getattr(settings, "stats_threshold", defaults.threshold),
        rounding_base=getattr(settings, "stats_rounding_base", defaults.rounding_base),
        min_denominator=getattr(settings, "stats_min_denominator", defaults.min_denominator),
    )


def disclosure(policy: Policy) -> DisclosureRead:
    return DisclosureRead(
        threshold=policy.threshold,
        rounding_base=policy.rounding_base,
        min_denominator=policy.min_denominator,
        reasons={str(k): v for k, v in REASONS.items()},
    )


async def catalogue(uow: UnitOfWork, policy: Policy) -> CatalogueRead:
    async with uow.reading() as session:
        values = {
            measure.id: await category_values(session, measure)
            for measure in CATALOGUE.values()
            if measure.breakdown is not None
        }
    measures = []
    for measure in CATALOGUE.values():
        breakdown = None
        if measure.breakdown is not None:
            breakdown = BreakdownRead(
                name=measure.breakdown.name,
                description=measure.breakdown.description,
                values=values[measure.id],
                total=measure.breakdown.total,
            )
        measures.append(
            MeasureRead(
                id=measure.id,
                title=measure.title,
                definition=measure.definition,
                unit=measure.unit,
                kind=measure.kind,
                breakdown=breakdown,
                levels=measure.levels,
                periods=list(Granularity),
            )
        )
    dimensions = [
        DimensionRead(
            name="level",
            description="Area level: buurt (BU code), wijk (WK code) or the whole gemeente (GM code); for "
            "initiative measures also network (a resident network, identified by its id), for the "
            "administrative-burden measures also team (a neighbourhood team, identified by its id).",
            values=list(Level),
        ),
        DimensionRead(
            name="period",
            description="Calendar periods in local time; only finished periods are published.",
            values=list(Granularity),
        ),
    ]
    return CatalogueRead(measures=measures, dimensions=dimensions, disclosure=disclosure(policy))


@dataclass(frozen=True)
class FigureQuery:
    measure: str
    level: Level
    granularity: Granularity
    first: date
    last: date | None = None
    area: str | None = None


class Row(TypedDict):
    """One figure as the API shows it (schemas.StatsRow)."""

    area_code: str
    area_name: str
    area_level: str
    period: str
    period_start: date
    period_end: date  # the last day
    category: str
    value: int | float | None
    suppressed: str | None


@dataclass(frozen=True)
class Figures:
    """One measure's rows for a request (the API's StatsResult, without per-row validation)."""

    measure: str
    unit: str
    area: str
    level: Level
    period: Granularity
    first: date
    last: date
    as_of: datetime
    disclosure: DisclosureRead
    rows: list[Row]


def _invalid(parameter: str, message: str, rule: str) -> ValidationFailed:
    return ValidationFailed([FieldError(("query", parameter), message, rule)])


@dataclass(frozen=True)
class Resolved:
    """A checked request with everything its figures depend on. ``version`` is hashable and changes
    whenever the figures could: the rollups' refresh, the areas, networks and categories, the
    finished periods and the policy (a key for caching a rendered answer)."""

    query: FigureQuery
    measure: Measure
    last: date
    scope: Scope
    scope_node: repo.AreaNode
    wanted: list[Period]
    as_of: datetime
    version: Hashable


Contexts = dict[tuple[str | None, bool, bool, str | None], repo.Context | None]


async def resolve(
    session: AsyncSession,
    query: FigureQuery,
    policy: Policy,
    today: date,
    *,
    contexts: Contexts | None = None,
) -> Resolved:
    """Check the request (422 naming the parameter, 404 for an unknown measure) and load its context
    (from ``contexts`` when an earlier measure of the same request loaded it)."""
    measure = CATALOGUE.get(query.measure)
    if measure is None:
        raise NotFound("measure")
    last = query.last or today
    if query.first < EARLIEST:
        raise _invalid("from", "Figures start in the year 2000.", "range_start")
    if last < query.first:
        raise _invalid("to", "'to' must not be before 'from'.", "range_order")
    if (last - query.first).days > MAX_RANGE_DAYS:
        raise _invalid("to", "The range may span at most ten years.", "range_too_long")
    if query.level not in measure.levels:
        raise _invalid("level", "This measure is not published at this level.", "level_not_offered")
    breakdown = measure.breakdown
    reference = breakdown.reference if breakdown is not None else None
    key = (query.area, measure.networks, measure.teams, reference)
    if contexts is not None and key in contexts:
        found = contexts[key]
    else:
        found = await repo.context(
            session, query.area, networks=measure.networks, reference=reference, teams=measure.teams
        )
        if contexts is not None:
            contexts[key] = found
    if found is None:
        if query.area is None:
            raise _invalid("area", "Name the area (a GM, WK or BU code).", "missing")
        raise _invalid("area", "Unknown area code.", "unknown_area")
    tree = AreaTree(found.areas, found.networks, found.teams)
    scope_node = tree.by_code.get(query.area or found.municipality.code)
    if scope_node is None or scope_node.level in (Level.network, Level.team):
        raise _invalid("area", "Unknown area code.", "unknown_area")
    _check_level(query.level, scope_node.level)
    wanted = [p for p in periods_between(query.first, last, query.granularity) if p.finished(today)]
    values = found.categories
    if values is None:  # a fixed list (or no breakdown)
        values = [str(v) for v in breakdown.values] if breakdown is not None else []
    as_of = found.refreshed_at
    version = (
        query,
        last,
        tuple(found.areas),
        tuple(found.networks),
        tuple(found.teams),
        tuple(values),
        tuple(wanted),
        policy,
        as_of,
    )
    scope = Scope(found.municipality, tree, values, policy, today)
    return Resolved(query, measure, last, scope, scope_node, wanted, as_of, version)


async def figures(session: AsyncSession, query: FigureQuery, policy: Policy, today: date) -> Figures:
    """One measure's protected rows for a request."""
    return await compute(session, await resolve(session, query, policy, today))


async def compute(session: AsyncSession, request: Resolved) -> Figures:
    scope, measure, query = request.scope, request.measure, request.query
    published = await protected(session, measure, scope, request.wanted)
    categories = category_nodes(measure, scope.categories)
    periods = [(p.key, p.start, p.last_day) for p in request.wanted]
    rows = [
        _row(node, level, period, category, published.get((node.code, period[0], category)))
        for node, level in (
            (n, str(n.level)) for n in scope.tree.within(request.scope_node.code, query.level)
        )
        for period in periods
        for category in categories
    ]
    return Figures(
        measure=measure.id,
        unit=measure.unit,
        area=request.scope_node.code,
        level=query.level,
        period=query.granularity,
        first=query.first,
        last=request.last,
        as_of=request.as_of,
        disclosure=disclosure(scope.policy),
        rows=rows,
    )


def _check_level(level: Level, scope_level: Level) -> None:
    if level in (Level.network, Level.team):
        if scope_level is not Level.gemeente:
            raise _invalid(
                "level", "Networks and teams are published for the whole gemeente only.", "level_above_area"
            )
    elif level in AREA_LEVELS and _DEPTH[level] < _DEPTH[scope_level]:
        raise _invalid("level", "The level must be the area's own level or one below it.", "level_above_area")


def _row(
    node: repo.AreaNode, level: str, period: tuple[str, date, date], category: str, cell: Published | None
) -> Row:
    # A figure no group produced is an empty group: withheld like any count under the threshold.
    cell = cell or _EMPTY
    return {
        "area_code": node.code,
        "area_name": node.name,
        "area_level": level,
        "period": period[0],
        "period_start": period[1],
        "period_end": period[2],
        "category": category,
        "value": cell.value,
        "suppressed": None if cell.suppressed is None else str(cell.suppressed),
    }
