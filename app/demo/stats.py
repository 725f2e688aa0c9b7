"""Demo data, last step: compute the statistics rollups from everything the other loaders made.

Without it the demo's figures would stay empty until the first refresh (a statistics request that
finds the rollups stale, or ``wijkwerk stats refresh``). The refresh runs in the demo load's own
transaction, so it sees the rows just written; readers see the new figures when the load commits.
"""

from __future__ import annotations

from app.demo import DemoContext, demo_loader
from app.domain.stats import rollups
from app.domain.unit_of_work.work import UnitOfWork


@demo_loader(order=100)
async def refresh_rollups(uow: UnitOfWork, ctx: DemoContext) -> None:
    await rollups.refresh(uow.session)
