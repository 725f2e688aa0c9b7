"""`wijkwerk purge [--dry-run] [--json]` against the test database (DATABASE_URL set: no embedded
server starts), as an operator or a cron job would run it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlmodel import col, select

from app.domain.households.models import Household
from app.domain.retention.models import RetentionRun
from app.domain.retention.rules import Category
from app.settings import Settings
from tests.cli.support import command_env, invoke
from tests.retention.support import MARGIN, Estate


@pytest.fixture
def env(migrated: str, settings: Settings, tmp_path: Path) -> dict[str, str]:
    return command_env(migrated, settings, tmp_path / "data")


async def test_purge_command(estate: Estate, env: dict[str, str]) -> None:
    closed = await estate.close(
        await estate.household(), await estate.cutoff(Category.closed_households) - MARGIN
    )

    dry = await invoke(["purge", "--dry-run", "--json"], env)
    assert dry.exit_code == 0, (dry.stdout, dry.stderr, dry.exception)
    result = json.loads(dry.stdout)
    assert result["dry_run"] is True and result["outcome"] == "completed"
    assert result["counts"]["closed_households"] >= 1 and set(result["counts"]) == {
        str(c)
        for c in Category
        if c is not Category.access_log  # kept: no term set
    }
    assert await estate.exists(Household, closed)

    real = await invoke(["purge"], env)
    assert real.exit_code == 0, (real.stdout, real.stderr, real.exception)
    assert "Removed" in real.stdout and "closed_households" in real.stdout and "5479" in real.stdout
    assert not await estate.exists(Household, closed)
    # The structured line went to stderr, with the run id the table names.
    [line] = [json.loads(x) for x in real.stderr.splitlines() if x.startswith("{")]
    run_id = uuid.UUID(line["run_id"])
    assert str(run_id) in real.stdout and line["counts"]["closed_households"] >= 1

    async with estate.db.transaction() as session:
        runs = (
            (await session.execute(select(RetentionRun).where(col(RetentionRun.id).in_([run_id]))))
            .scalars()
            .all()
        )
    assert [(r.dry_run, r.outcome) for r in runs] == [(False, "completed")]
    assert runs[0].actor.startswith("cli")
