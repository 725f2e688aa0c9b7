"""`wijkwerk stats refresh` and the refresh after `wijkwerk purge`, against the test database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text

from app.db import Database
from app.demo import ordered_loaders
from app.demo import stats as demo_stats
from app.domain.stats import rollups
from tests.cli.support import invoke, output_json
from tests.factories import World
from tests.stats.data import Dataset

_REGISTERED = (
    "SELECT coalesce(sum(n), 0) FROM stats_flow_rollup WHERE source = 'registered' AND buurt_id = :b"
)


async def _state(db: Database, world: World) -> tuple[datetime, int]:
    async with db.transaction() as session:
        registered = await session.scalar(text(_REGISTERED), {"b": world.buurten[0].id})
        return await rollups.refreshed_at(session), int(registered or 0)


async def test_stats_refresh_recomputes_the_rollups(world: World, db: Database, env: dict[str, str]) -> None:
    await Dataset(world).households(world.buurten[0], 12, registered=date(2025, 3, 3))
    before, registered = await _state(db, world)
    assert registered == 0  # not in the figures until a refresh
    result = output_json(await invoke(["stats", "refresh", "--json"], env))
    after, registered = await _state(db, world)
    assert registered == 12 and after > before
    assert datetime.fromisoformat(result["refreshed_at"]) == after
    assert result["views"] == list(rollups.VIEWS)
    table = await invoke(["stats", "refresh"], env)
    assert table.exit_code == 0 and "stats_flow_rollup" in table.stdout


async def test_a_purge_refreshes_the_rollups_and_a_dry_run_does_not(
    world: World,
    db: Database,
    env: dict[str, str],
) -> None:
    before, _ = await _state(db, world)
    dry = await invoke(["purge", "--dry-run", "--json"], env)
    assert dry.exit_code == 0, dry.stderr
    assert (await _state(db, world))[0] == before
    real = await invoke(["purge", "--json"], env)
    assert real.exit_code == 0, real.stderr
    assert (await _state(db, world))[0] > before


def test_the_demo_load_ends_with_a_rollup_refresh() -> None:
    *others, last = ordered_loaders()
    assert last.load is demo_stats.refresh_rollups
    assert all(step.order < last.order for step in others)
