"""One finished period's figures for a few buurten, several measures at once (neighbourhood dashboards).

The same path as the REST figures (``service.resolve`` and ``service.compute``): each measure's table is
protected for the whole municipality, exactly as for any other request, and the rows of the buurten
asked for are picked out of it. So a dashboard sees the same values and the same withheld cells as
BI, and no figure has a second way through disclosure control. Who may read which measure is the
caller's business (the GraphQL layer); this module only computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import FieldError, ValidationFailed
from app.domain.stats import rollups, service
from app.domain.stats.catalogue import CATALOGUE, Level
from app.domain.stats.disclosure import Policy
from app.domain.stats.periods import Period

THEME_MEASURE = "households_by_theme"


@dataclass(frozen=True)
class AreaFigure:
    """One published (or withheld) figure: a row of the REST answer without area and period."""

    measure: str
    unit: str
    category: str
    value: int | float | None
    suppressed: str | None  # disclosure.Suppression value; None when published


@dataclass
class AreaFigures:
    code: str
    period: Period
    as_of: datetime
    figures: list[AreaFigure] = field(default_factory=list)


def check_period(period: Period, today: date) -> None:
    """Only finished periods are published (periods.py says why), from the year 2000 on."""
    if not period.finished(today):
        raise ValidationFailed(
            [FieldError(("period",), "Only finished periods are published.", "not_finished")]
        )
    if period.start < service.EARLIEST:
        raise ValidationFailed([FieldError(("period",), "Figures start in the year 2000.", "range_start")])


def unknown_measures(measures: Sequence[str]) -> list[str]:
    return [m for m in measures if m not in CATALOGUE]


async def buurt_figures(
    session: AsyncSession,
    codes: Sequence[str],
    measures: Sequence[str],
    period: Period,
    policy: Policy,
    today: date,
) -> dict[str, AreaFigures]:
    """Per buurt code: the figures of ``measures`` (catalogue ids) for one finished period, in catalogue
    order. A few statements per measure, whatever the number of buurten (one municipality)."""
    check_period(period, today)
    wanted = [m for m in CATALOGUE if m in set(measures)]
    remaining = list(dict.fromkeys(codes))
    found: dict[str, AreaFigures] = {}
    contexts: service.Contexts = {}
    if not wanted:
        as_of = await rollups.refreshed_at(session)
        return {code: AreaFigures(code, period, as_of) for code in remaining}
    while remaining:
        # Each round covers the municipality of the first remaining buurt (usually the only one).
        batch = await _one_municipality(session, remaining, wanted, period, policy, today, contexts)
        found.update(batch)
        remaining = [c for c in remaining if c not in batch]
    return found


async def _one_municipality(
    session: AsyncSession,
    codes: list[str],
    measures: list[str],
    period: Period,
    policy: Policy,
    today: date,
    contexts: service.Contexts,
) -> dict[str, AreaFigures]:
    batch: dict[str, AreaFigures] = {}
    for measure in measures:
        query = service.FigureQuery(
            measure, Level.buurt, period.granularity, period.start, period.last_day, codes[0]
        )
        try:
            resolved = await service.resolve(session, query, policy, today, contexts=contexts)
        except ValidationFailed:  # not a buurt code after all: it has no figures
            return {codes[0]: AreaFigures(codes[0], period, await rollups.refreshed_at(session))}
        tree = resolved.scope.tree
        if not batch:
            batch = {
                c: AreaFigures(c, period, resolved.as_of)
                for c in codes
                if c in tree.by_code and tree.by_code[c].level is Level.buurt
            }
            batch.setdefault(codes[0], AreaFigures(codes[0], period, resolved.as_of))  # e.g. a wijk code
        whole = replace(resolved, scope_node=tree.by_code[tree.gemeente])
        result = await service.compute(session, whole)
        for row in result.rows:
            target = batch.get(row["area_code"])
            if target is not None and row["period"] == period.key:
                target.figures.append(
                    AreaFigure(measure, result.unit, row["category"], row["value"], row["suppressed"])
                )
    return batch


def ranked(figures: Sequence[AreaFigure], measure: str = THEME_MEASURE) -> list[AreaFigure]:
    """A breakdown's categories, largest published figure first (ties by code), withheld ones last by
    code: the order never depends on a withheld value."""
    cells = [f for f in figures if f.measure == measure]
    published = sorted((f for f in cells if f.value is not None), key=lambda f: (-(f.value or 0), f.category))
    withheld = sorted((f for f in cells if f.value is None), key=lambda f: f.category)
    return [*published, *withheld]
