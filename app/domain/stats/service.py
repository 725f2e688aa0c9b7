"""Statistics use cases: the catalogue, and one measure's protected figures for an area and range.

Every figure goes through disclosure control (disclosure.py) before it leaves. The protection
pattern is computed over a fixed unit that does not depend on the request: for flows a whole
calendar year at every level and granularity, for stocks and statistics one period at every level.
The request then only chooses which of those figures to return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import FieldError, NotFound, ValidationFailed
from app.domain.organisation.models import Municipality
from app.domain.stats import repository as repo
from app.domain.stats.catalogue import CATALOGUE, TOTAL, Kind, Level, Measure
from app.domain.stats.disclosure import (
    CountTable,
    Dimension,
    Key,
    Policy,
    Published,
    Suppression,
    protect_counts,
    protect_median,
    protect_ratio,
)
from app.domain.stats.periods import (
    Granularity,
    Period,
    local_midnight,
    period_of,
    periods_between,
    year_block,
)
from app.domain.stats.schemas import (
    BreakdownRead,
    CatalogueRead,
    DimensionRead,
    DisclosureRead,
    MeasureRead,
    StatsResult,
    StatsRow,
)

MAX_RANGE_DAYS = 10 * 366
EARLIEST = date(2000, 1, 1)
_DEPTH = {Level.gemeente: 0, Level.wijk: 1, Level.buurt: 2}
REASONS = {
    Suppression.below_threshold: "The group is smaller than the threshold (zero included).",
    Suppression.complementary: "Withheld so that another withheld figure cannot be worked out from totals.",
    Suppression.small_denominator: "The group is too small for a ratio, median or mean.",
}


def policy_from(settings: Any) -> Policy:
    """The disclosure policy from settings (``stats_*``), never looser than the defaults."""
    defaults = Policy()
    return Policy(
        threshold=getattr(settings, "stats_threshold", defaults.threshold),
        rounding_base=getattr(settings, "stats_rounding_base", defaults.rounding_base),
        min_denominator=getattr(settings, "stats_min_denominator", defaults.min_denominator),
    )


def _disclosure(policy: Policy) -> DisclosureRead:
    return DisclosureRead(
        threshold=policy.threshold,
        rounding_base=policy.rounding_base,
        min_denominator=policy.min_denominator,
        reasons={str(k): v for k, v in REASONS.items()},
    )


async def catalogue(session: AsyncSession, policy: Policy) -> CatalogueRead:
    measures = []
    for measure in CATALOGUE.values():
        breakdown = None
        if measure.breakdown is not None:
            values = await _category_values(session, measure)
            breakdown = BreakdownRead(
                name=measure.breakdown.name,
                description=measure.breakdown.description,
                values=values,
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
                levels=list(Level),
                periods=list(Granularity),
            )
        )
    dimensions = [
        DimensionRead(
            name="level",
            description="Area level: buurt (BU code), wijk (WK code) or the whole gemeente (GM code).",
            values=list(Level),
        ),
        DimensionRead(
            name="period",
            description="Calendar periods in local time; only finished periods are published.",
            values=list(Granularity),
        ),
    ]
    return CatalogueRead(measures=measures, dimensions=dimensions, disclosure=_disclosure(policy))


@dataclass(frozen=True)
class FigureQuery:
    measure: str
    level: Level
    granularity: Granularity
    first: date
    last: date | None = None
    area: str | None = None


def _invalid(parameter: str, message: str, rule: str) -> ValidationFailed:
    return ValidationFailed([FieldError(("query", parameter), message, rule)])


async def figures(session: AsyncSession, query: FigureQuery, policy: Policy, today: date) -> StatsResult:
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
    municipality = await _municipality(session, query.area)
    tree = _Tree(await repo.area_tree(session, municipality))
    scope = tree.by_code[query.area or municipality.code]
    if _DEPTH[query.level] < _DEPTH[scope.level]:
        raise _invalid("level", "The level must be the area's own level or one below it.", "level_above_area")
    wanted = [p for p in periods_between(query.first, last, query.granularity) if p.finished(today)]
    categories = await _category_values(session, measure)
    published = await _published(session, measure, municipality, tree, categories, wanted, policy, today)
    rows = [
        _row(node, period, category, published.get((node.code, period.key, category)))
        for node in tree.within(scope.code, query.level)
        for period in wanted
        for category in _category_nodes(measure, categories)
    ]
    return StatsResult(
        measure=measure.id,
        unit=measure.unit,
        area=scope.code,
        level=query.level,
        period=query.granularity,
        from_=query.first,
        to=last,
        disclosure=_disclosure(policy),
        rows=rows,
    )


def _row(node: repo.AreaNode, period: Period, category: str, cell: Published | None) -> StatsRow:
    # A figure no group produced is an empty group: withheld like any count under the threshold.
    cell = cell or Published(None, Suppression.below_threshold)
    return StatsRow(
        area_code=node.code,
        area_name=node.name,
        area_level=node.level,
        period=period.key,
        period_start=period.start,
        period_end=period.last_day,
        category=category,
        value=cell.value,
        suppressed=cell.suppressed,
    )


async def _municipality(session: AsyncSession, area: str | None) -> Municipality:
    if area is None:
        only = await repo.only_municipality(session)
        if only is None:
            raise _invalid("area", "Name the area (a GM, WK or BU code).", "missing")
        return only
    found = await repo.municipality_of_area(session, area)
    if found is None:
        raise _invalid("area", "Unknown area code.", "unknown_area")
    return found


async def _category_values(session: AsyncSession, measure: Measure) -> list[str]:
    breakdown = measure.breakdown
    if breakdown is None:
        return []
    if breakdown.reference is not None:
        return await repo.reference_codes(session, breakdown.reference)
    return [str(v) for v in breakdown.values]


def _category_nodes(measure: Measure, values: Sequence[str]) -> list[str]:
    if measure.breakdown is None:
        return [TOTAL]
    return [TOTAL, *values] if measure.breakdown.total else list(values)


def _category_dimension(measure: Measure, values: Sequence[str]) -> Dimension:
    nodes = _category_nodes(measure, values)
    if measure.breakdown is not None and measure.breakdown.total:
        return Dimension(tuple(nodes), {TOTAL: tuple(values)})
    return Dimension.flat(nodes)


class _Tree:
    """The municipality's areas as the area dimension of every table."""

    def __init__(self, nodes: list[repo.AreaNode]) -> None:
        self.nodes = nodes
        self.by_code = {n.code: n for n in nodes}
        self.code_of_id = {n.id: n.code for n in nodes if n.id is not None}
        self.gemeente = nodes[0].code
        children: dict[str, list[str]] = {}
        for node in nodes[1:]:
            children.setdefault(node.parent_code or self.gemeente, []).append(node.code)
        self.dimension = Dimension(tuple(n.code for n in nodes), {p: tuple(c) for p, c in children.items()})

    def code(self, figure: repo.Figure) -> str | None:
        if figure.level is Level.gemeente:
            return self.gemeente
        return self.code_of_id.get(figure.area_id) if figure.area_id is not None else None

    def within(self, scope: str, level: Level) -> list[repo.AreaNode]:
        return [n for n in self.nodes if n.level is level and self._under(n.code, scope)]

    def _under(self, code: str, scope: str) -> bool:
        current: str | None = code
        while current is not None:
            if current == scope:
                return True
            current = self.by_code[current].parent_code
        return False


async def _published(
    session: AsyncSession,
    measure: Measure,
    municipality: Municipality,
    tree: _Tree,
    categories: Sequence[str],
    wanted: Sequence[Period],
    policy: Policy,
    today: date,
) -> dict[Key, Published]:
    if not wanted:
        return {}
    if measure.kind in (Kind.flow, Kind.amount):
        return await _flows(session, measure, municipality, tree, categories, wanted, policy, today)
    if measure.kind is Kind.stock:
        return await _stocks(session, measure, municipality, tree, categories, wanted, policy)
    if measure.kind is Kind.ratio:
        assert measure.numerator is not None and measure.denominator is not None
        numerator, denominator = CATALOGUE[measure.numerator], CATALOGUE[measure.denominator]
        top = await _stocks(session, numerator, municipality, tree, categories, wanted, policy)
        bottom = await _stocks(session, denominator, municipality, tree, categories, wanted, policy)
        return {
            key: protect_ratio(cell, bottom[key], policy, digits=measure.digits) for key, cell in top.items()
        }
    return await _statistics(session, measure, municipality, tree, categories, wanted, policy)


def _cells(figures: Iterable[repo.Figure], tree: _Tree) -> dict[Key, repo.Figure]:
    cells = {}
    for figure in figures:
        code = tree.code(figure)
        if code is not None:
            cells[(code, period_of(figure.period_start, figure.granularity).key, figure.category)] = figure
    return cells


async def _flows(
    session: AsyncSession,
    measure: Measure,
    municipality: Municipality,
    tree: _Tree,
    categories: Sequence[str],
    wanted: Sequence[Period],
    policy: Policy,
    today: date,
) -> dict[Key, Published]:
    """Whole calendar years of the range, every granularity: one linked table per year."""
    years = sorted({p.start.year for p in wanted})
    cells = _cells(
        await repo.flow_figures(
            session,
            measure.id,
            municipality.id,
            lo=local_midnight(date(years[0], 1, 1)),
            hi=local_midnight(min(date(years[-1] + 1, 1, 1), period_of(today, Granularity.month).start)),
            with_total=bool(measure.breakdown and measure.breakdown.total),
        ),
        tree,
    )
    category_dim = _category_dimension(measure, categories)
    published: dict[Key, Published] = {}
    for year in years:
        period_dim, _ = year_block(year, today)
        table = _table(tree.dimension, period_dim, category_dim, cells)
        protected = protect_counts(table, policy)
        if measure.kind is Kind.amount:
            protected = _amounts(protected, cells)
        published.update(protected)
    return published


def _table(
    areas: Dimension, periods: Dimension, categories: Dimension, cells: Mapping[Key, repo.Figure]
) -> CountTable:
    counts = {
        key: cells[key].n
        for key in ((a, p, c) for a in areas.nodes for p in periods.nodes for c in categories.nodes)
        if key in cells
    }
    return CountTable(areas, periods, categories, counts)


def _amounts(counts: Mapping[Key, Published], cells: Mapping[Key, repo.Figure]) -> dict[Key, Published]:
    """A sum is published where the count of what it sums is (so it shares the count's partners)."""
    out = {}
    for key, cell in counts.items():
        if cell.value is None:
            out[key] = cell
        else:
            value = cells[key].value if key in cells else None
            out[key] = Published(round(value or 0))
    return out


async def _stocks(
    session: AsyncSession,
    measure: Measure,
    municipality: Municipality,
    tree: _Tree,
    categories: Sequence[str],
    wanted: Sequence[Period],
    policy: Policy,
) -> dict[Key, Published]:
    """One table per period: stock figures of different periods do not add up."""
    cells = _cells(
        await repo.grouped_figures(
            session,
            measure.id,
            municipality.id,
            periods=[(p.start, p.end) for p in wanted],
            granularity=wanted[0].granularity,
            with_total=bool(measure.breakdown and measure.breakdown.total),
        ),
        tree,
    )
    category_dim = _category_dimension(measure, categories)
    published: dict[Key, Published] = {}
    for period in wanted:
        table = _table(tree.dimension, Dimension.flat([period.key]), category_dim, cells)
        published.update(protect_counts(table, policy))
    return published


async def _statistics(
    session: AsyncSession,
    measure: Measure,
    municipality: Municipality,
    tree: _Tree,
    categories: Sequence[str],
    wanted: Sequence[Period],
    policy: Policy,
) -> dict[Key, Published]:
    """Medians and means per group, for groups that pass the threshold and the minimum denominator."""
    figures = await repo.grouped_figures(
        session,
        measure.id,
        municipality.id,
        periods=[(p.start, p.end) for p in wanted],
        granularity=wanted[0].granularity,
        with_total=False,
        aggregate="median" if measure.kind is Kind.median else "mean",
    )
    return {
        key: protect_median(figure.n, figure.value, policy, digits=measure.digits)
        for key, figure in _cells(figures, tree).items()
    }
