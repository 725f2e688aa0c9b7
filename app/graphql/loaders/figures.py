"""The loader of neighbourhood statistics: the keys of one tick grouped by (period, measures), one
computation per group for all its buurten."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from app.domain.stats import areas, rollups
from app.domain.stats import service as stats_service
from app.domain.stats.areas import AreaFigures
from app.domain.stats.periods import Period, local_today
from app.graphql.loaders.batching import Source

# (buurt code, period, measure ids in catalogue order)
FigureKey = tuple[str, Period, tuple[str, ...]]


def figures(source: Source) -> DataLoader[FigureKey, AreaFigures]:
    async def load(keys: Sequence[FigureKey]) -> list[AreaFigures]:
        groups: dict[tuple[Period, tuple[str, ...]], list[str]] = defaultdict(list)
        for code, period, measures in keys:
            groups[(period, measures)].append(code)
        policy, today = stats_service.policy_from(source.settings), local_today()
        found: dict[FigureKey, AreaFigures] = {}
        async with source.reads.session() as session:
            for (period, measures), codes in groups.items():
                result = await areas.buurt_figures(session, codes, measures, period, policy, today)
                found.update({(c, period, measures): result[c] for c in codes})
        # Rollups older than their maximum age start a refresh in the background; this answer is
        # not held up by it.
        as_of = min((f.as_of for f in found.values()), default=None)
        rollups.refresh_if_stale(source.db, source.settings, as_of)
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)
