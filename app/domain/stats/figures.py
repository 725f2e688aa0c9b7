"""What one measure publishes: its figures from the rollups, through disclosure control.

The protection pattern is computed over a fixed unit that does not depend on the request: for flows a
whole calendar year at every level and granularity (and every resident network, for initiative
measures), for stocks one period at every level. The request then only chooses which of those figures
to return. Medians and means are per group; ratios come from two protected counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.stats import repository as repo
from app.domain.stats.catalogue import CATALOGUE, TOTAL, Kind, Level, Measure, part
from app.domain.stats.disclosure import (
    Dimension,
    Key,
    Policy,
    Published,
    protect_array,
    protect_median,
    protect_ratio,
)
from app.domain.stats.periods import Granularity, Period, period_of, year_block
from app.domain.stats.tables import leaves, roll_up, scatter, sum_matrix


class AreaTree:
    """The municipality's areas (and resident networks, and teams) as the area dimension of every
    table. For medians and quartiles teams are groups (no sums); for counts per team the gemeente is
    the sum of its teams as well as of its wijken (every household has one team), like networks."""

    def __init__(
        self,
        nodes: list[repo.AreaNode],
        networks: list[repo.AreaNode],
        teams: list[repo.AreaNode] | None = None,
    ) -> None:
        self.nodes, self.networks, self.teams = nodes, networks, teams or []
        self.gemeente = nodes[0].code
        self.by_code = {n.code: n for n in (*nodes, *networks, *self.teams)}
        self._codes: dict[tuple[Level, uuid.UUID], str] = {
            (n.level if n.level in (Level.network, Level.team) else Level.buurt, n.id): n.code
            for n in (*nodes, *networks, *self.teams)
            if n.id is not None
        }
        children: dict[str, list[str]] = {}
        for node in nodes[1:]:
            children.setdefault(node.parent_code or self.gemeente, []).append(node.code)
        self.areas = Dimension(tuple(n.code for n in nodes), {p: tuple(c) for p, c in children.items()})
        network_codes = tuple(n.code for n in networks)
        self.with_networks = Dimension(
            self.areas.nodes + network_codes,
            self.areas.sums,
            ((self.gemeente, network_codes),) if network_codes else (),
        )
        team_codes = tuple(n.code for n in self.teams)
        self.with_teams = Dimension(
            self.areas.nodes + team_codes,
            self.areas.sums,
            ((self.gemeente, team_codes),) if team_codes else (),
        )

    def with_networks_elsewhere(self) -> AreaTree:
        """This tree plus one node for networks of other municipalities that carry initiatives here
        (the initiatives service prevents it; the sum over networks must still hold if it happens)."""
        elsewhere = repo.AreaNode(None, "networks_elsewhere", "", Level.network, self.gemeente)
        return AreaTree(self.nodes, [*self.networks, elsewhere], self.teams)

    def code(self, figure: repo.Figure) -> str | None:
        if figure.level is Level.gemeente:
            return self.gemeente
        if figure.area_id is None:
            return None
        kind = figure.level if figure.level in (Level.network, Level.team) else Level.buurt
        return self._codes.get((kind, figure.area_id))

    def within(self, scope: str, level: Level) -> list[repo.AreaNode]:
        if level is Level.network:
            return list(self.networks)
        if level is Level.team:
            return list(self.teams)
        return [n for n in self.nodes if n.level is level and self._under(n.code, scope)]

    def _under(self, code: str, scope: str) -> bool:
        current: str | None = code
        while current is not None:
            if current == scope:
                return True
            current = self.by_code[current].parent_code
        return False


@dataclass(frozen=True)
class Scope:
    """What every table of one request shares."""

    municipality: repo.MunicipalityRef
    tree: AreaTree
    categories: Sequence[str]  # the measure's breakdown values
    policy: Policy
    today: date


def category_nodes(measure: Measure, values: Sequence[str]) -> list[str]:
    if measure.breakdown is None:
        return [TOTAL]
    return [TOTAL, *values] if measure.breakdown.total else list(values)


def _category_dimension(measure: Measure, values: Sequence[str]) -> Dimension:
    nodes = category_nodes(measure, values)
    if measure.breakdown is not None and measure.breakdown.total:
        return Dimension(tuple(nodes), {TOTAL: tuple(values)})
    return Dimension.flat(nodes)


def _with_total(measure: Measure) -> bool:
    return bool(measure.breakdown and measure.breakdown.total)


async def protected(
    session: AsyncSession, measure: Measure, scope: Scope, wanted: Sequence[Period]
) -> Mapping[Key, Published]:
    """Every published figure of ``measure`` the ``wanted`` periods need, keyed (area, period, category)."""
    if not wanted:
        return {}
    if measure.kind in (Kind.flow, Kind.amount):
        return await _flows(session, measure, scope, wanted)
    if measure.kind is Kind.stock:
        return await _stocks(session, measure, scope, wanted)
    if measure.kind is Kind.ratio:
        return await _ratio(session, measure, scope, wanted)
    return await _statistics(session, measure, scope, wanted)


def _cells(figures: Iterable[repo.Figure], tree: AreaTree) -> dict[Key, repo.Figure]:
    cells = {}
    for figure in figures:
        code = tree.code(figure)
        if code is not None:
            cells[(code, figure.period, figure.category)] = figure
    return cells


def _area_leaves(tree: AreaTree) -> tuple[list[str], list[uuid.UUID]]:
    """The area dimension's leaves (buurten, and wijken without buurten) and their ids."""
    codes = leaves(tree.areas)
    return codes, [tree.by_code[c].id or uuid.UUID(int=0) for c in codes]


async def _flows(
    session: AsyncSession, measure: Measure, scope: Scope, wanted: Sequence[Period]
) -> Mapping[Key, Published]:
    """Whole calendar years of the range, every granularity: one linked table per year."""
    years = sorted({p.start.year for p in wanted})
    tree = scope.tree
    area_codes, area_ids = _area_leaves(tree)
    network_ids = [n.id for n in tree.networks if n.id is not None] if measure.networks else []
    categories = _category_dimension(measure, scope.categories)
    category_leaves = leaves(categories)
    found = await repo.flow_leaves(
        session,
        measure.source,
        buurten=area_ids,
        networks=network_ids,
        categories=category_leaves,
        first_year=years[0],
        lo=date(years[0], 1, 1),
        hi=min(date(years[-1] + 1, 1, 1), period_of(scope.today, Granularity.month).start),
        value=measure.value,
        by_network=measure.networks,
    )
    if found.network is not None and (found.network < 0).any():
        tree = tree.with_networks_elsewhere()
    areas = tree.with_networks if measure.networks else tree.areas
    area_leaves = leaves(areas)
    area_matrix = sum_matrix(areas, area_leaves)
    category_matrix = sum_matrix(categories, category_leaves)
    tables: list[Mapping[Key, Published]] = []
    for year in years:
        periods, _ = year_block(year, scope.today)
        if not periods.nodes:  # nothing of this year is finished yet
            continue
        period_leaves = leaves(periods)
        # The rows' months count from January of the first year; the leaves are this year's months.
        column = {int(key[5:]) - 1 + 12 * (year - years[0]): j for j, key in enumerate(period_leaves)}
        counts, amounts = _flow_table(
            found, column, len(area_codes), (len(area_leaves), len(category_leaves))
        )
        matrices = (area_matrix, sum_matrix(periods, period_leaves), category_matrix)
        protected = protect_array(areas, periods, categories, roll_up(counts, *matrices), scope.policy)
        if measure.kind is Kind.amount:
            protected = _Amounts(protected, roll_up(amounts, *matrices), (areas, periods, categories))
        tables.append(protected)
    return _Years(tables)


class _Years(Mapping[Key, Published]):
    """The protected tables of several years read as one (their keys never overlap)."""

    def __init__(self, tables: list[Mapping[Key, Published]]) -> None:
        self.tables = tables

    def __getitem__(self, key: Key) -> Published:
        for table in self.tables:
            if (cell := table.get(key)) is not None:
                return cell
        raise KeyError(key)

    def __iter__(self) -> Iterator[Key]:
        return (key for table in self.tables for key in table)

    def __len__(self) -> int:
        return sum(len(table) for table in self.tables)


class _Amounts(Mapping[Key, Published]):
    """Sums published where the count of what they sum is (so they share the count's partners);
    computed per cell asked for, not for the whole table."""

    def __init__(self, counts: Mapping[Key, Published], sums: np.ndarray, dims: Sequence[Dimension]) -> None:
        self.counts, self.sums = counts, sums.reshape(-1).tolist()
        self.position = [{node: i for i, node in enumerate(d.nodes)} for d in dims]
        self.strides = (len(dims[1].nodes) * len(dims[2].nodes), len(dims[2].nodes), 1)

    def __getitem__(self, key: Key) -> Published:
        cell = self.counts[key]
        if cell.value is not None:  # the cell's place in the table (area, period, category order)
            at = sum(p[k] * s for p, k, s in zip(self.position, key, self.strides, strict=True))
            cell = Published(round(self.sums[at]))
        return cell

    def __iter__(self) -> Iterator[Key]:
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)


def _flow_table(
    found: repo.Leaves, column: Mapping[int, int], buurt_leaves: int, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The leaf tables (counts and sums) of one year: every row adds to its buurt leaf and, with
    networks, to its network's leaf (placed after the area leaves; -1: the one for elsewhere)."""
    months = np.array([column.get(int(m), -1) for m in found.period], np.int64)
    rows = months >= 0
    area, category, n = found.area[rows], found.category[rows], found.n[rows]
    value = found.value[rows] if found.value is not None else np.zeros(len(n))
    index = [area, months[rows], category]
    if found.network is not None:
        network = found.network[rows]
        network = np.where(network < 0, shape[0] - 1 - buurt_leaves, network) + buurt_leaves
        index = [np.concatenate([area, network]), np.tile(months[rows], 2), np.tile(category, 2)]
        n, value = np.tile(n, 2), np.tile(value, 2)
    full = (shape[0], len(column), shape[1])
    return scatter(full, index, n), scatter(full, index, value, np.float64)


async def _stocks(
    session: AsyncSession, measure: Measure, scope: Scope, wanted: Sequence[Period]
) -> Mapping[Key, Published]:
    """One table per period: stock figures of different periods do not add up. The rollup holds the
    category totals (households or actions counted once), so only the areas are summed here; with
    ``teams`` every row also adds to its team's leaf (placed after the area leaves)."""
    area_codes, area_ids = _area_leaves(scope.tree)
    categories = _category_dimension(measure, scope.categories)
    found = await repo.stock_leaves(
        session,
        measure.source,
        buurten=area_ids,
        categories=list(categories.nodes),
        granularity=wanted[0].granularity,
        starts=[p.start for p in wanted],
        teams=[t.id for t in scope.tree.teams if t.id is not None] if measure.teams else None,
    )
    areas = scope.tree.with_teams if measure.teams else scope.tree.areas
    area_leaves = leaves(areas)
    area_matrix = sum_matrix(areas, area_leaves)
    flat = np.identity(len(categories.nodes), np.int64)
    shape = (len(area_leaves), 1, len(categories.nodes))
    published: dict[Key, Published] = {}
    for position, period in enumerate(wanted):
        index, n, groups_n = _stock_rows(found, found.period == position, len(area_codes))
        counts = roll_up(scatter(shape, index, n), area_matrix, np.ones((1, 1), np.int64), flat)
        groups = None
        if measure.groups and groups_n is not None:
            groups = roll_up(scatter(shape, index, groups_n), area_matrix, np.ones((1, 1), np.int64), flat)
        periods = Dimension.flat([period.key])
        published.update(protect_array(areas, periods, categories, counts, scope.policy, groups))
    return published


def _stock_rows(
    found: repo.Leaves, rows: np.ndarray, area_leaves: int
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
    """The (area, period, category) index, counts and groups of one period's rows; with teams each row
    twice: at its buurt leaf and at its team's (a team outside the municipality's: at none)."""
    area, category, n = found.area[rows], found.category[rows], found.n[rows]
    groups = found.groups[rows] if found.groups is not None else None
    if found.team is not None:
        team = found.team[rows]
        of_team = team >= 0
        area = np.concatenate([area, team[of_team] + area_leaves])
        category, n = np.concatenate([category, category[of_team]]), np.concatenate([n, n[of_team]])
        groups = np.concatenate([groups, groups[of_team]]) if groups is not None else None
    return [area, np.zeros(len(area), np.int64), category], n, groups


async def _ratio(
    session: AsyncSession, measure: Measure, scope: Scope, wanted: Sequence[Period]
) -> Mapping[Key, Published]:
    """A share per area and period from two protected stock counts (each with its own categories)."""
    assert measure.numerator is not None and measure.denominator is not None
    (top_id, top_category), (bottom_id, bottom_category) = part(measure.numerator), part(measure.denominator)
    tables: dict[str, Mapping[Key, Published]] = {}
    for measure_id in dict.fromkeys((top_id, bottom_id)):
        counted = CATALOGUE[measure_id]
        categories = await category_values(session, counted)
        own = Scope(scope.municipality, scope.tree, categories, scope.policy, scope.today)
        tables[measure_id] = await _stocks(session, counted, own, wanted)
    top, bottom = tables[top_id], tables[bottom_id]
    out: dict[Key, Published] = {}
    for node in scope.tree.nodes:
        for period in wanted:
            numerator = top.get((node.code, period.key, top_category))
            denominator = bottom.get((node.code, period.key, bottom_category))
            if numerator is not None and denominator is not None:
                out[(node.code, period.key, TOTAL)] = protect_ratio(
                    numerator, denominator, scope.policy, digits=measure.digits
                )
    return out


async def category_values(session: AsyncSession, measure: Measure) -> list[str]:
    breakdown = measure.breakdown
    if breakdown is None:
        return []
    if breakdown.reference is not None:
        return await repo.reference_codes(session, breakdown.reference)
    return [str(v) for v in breakdown.values]


async def _statistics(
    session: AsyncSession, measure: Measure, scope: Scope, wanted: Sequence[Period]
) -> Mapping[Key, Published]:
    """Medians, means and quartiles per group, for groups that pass the threshold and the minimum
    denominator (each statistic of a group alike: a quartile of a small group is withheld too)."""
    if measure.kind is Kind.quartiles:
        figures = await repo.quartile_figures(
            session,
            measure.source,
            scope.municipality.id,
            periods=[(p.start, p.end) for p in wanted],
            granularity=wanted[0].granularity,
        )
        return {
            key: protect_median(figure.n, figure.value, scope.policy, digits=measure.digits)
            for key, figure in _cells(figures, scope.tree).items()
        }
    figures = await repo.value_figures(
        session,
        measure.source,
        scope.municipality.id,
        periods=[(p.start, p.end) for p in wanted],
        granularity=wanted[0].granularity,
        aggregate="median" if measure.kind is Kind.median else "mean",
        distinct=measure.distinct,
    )
    return {
        key: protect_median(figure.n, figure.value, scope.policy, digits=measure.digits)
        for key, figure in _cells(figures, scope.tree).items()
    }
