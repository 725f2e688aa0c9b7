"""The demo households: both teams, every status, members, contacts, themes, one confidential
household that a single worker can open; loading twice adds nothing."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from tests.support.demo import load_demo_into

DEMO = (
    "WITH demo AS (SELECT h.* FROM households h JOIN teams t ON t.id = h.team_id "
    "JOIN municipalities m ON m.id = t.municipality_id WHERE m.code = 'GM9999') "
)


async def _facts(app: FastAPI) -> dict[str, Any]:
    async with app.state.db.transaction() as session:

        async def rows(sql: str) -> list[Any]:
            return list((await session.execute(text(DEMO + sql))).all())

        by_status = await rows("SELECT team_id, status, count(*) FROM demo GROUP BY 1, 2")
        confidential = await rows(
            "SELECT d.id, d.coordinator_id, array_agg(a.worker_id) FROM demo d "
            "LEFT JOIN household_assignments a ON a.household_id = d.id "
            "WHERE d.confidential GROUP BY d.id, d.coordinator_id"
        )
        [counts] = await rows(
            "SELECT (SELECT count(*) FROM members x JOIN demo d ON d.id = x.household_id), "
            "(SELECT count(*) FROM contact_moments x JOIN demo d ON d.id = x.household_id), "
            "(SELECT count(*) FROM household_themes x JOIN demo d ON d.id = x.household_id), "
            "(SELECT count(*) FROM members x JOIN demo d ON d.id = x.household_id "
            "WHERE x.bsn_ciphertext IS NOT NULL)"
        )
    return {
        "by_team_status": {(r[0], r[1]): r[2] for r in by_status},
        "confidential": confidential,
        "counts": tuple(counts),
    }


async def test_demo_households(app: FastAPI) -> None:
    await load_demo_into(app, households=80)
    facts = await _facts(app)
    teams = {team for team, _ in facts["by_team_status"]}
    assert len(teams) == 2
    for team in teams:
        statuses = {status for (t, status) in facts["by_team_status"] if t == team}
        assert statuses == {"registered", "intake", "active", "aftercare", "closed"}, (team, statuses)
    assert sum(facts["by_team_status"].values()) >= 80
    members, contacts, themes, with_bsn = facts["counts"]
    assert members > 80 and contacts > 300 and themes > 0 and with_bsn > 0
    [(_, coordinator, assigned)] = facts["confidential"]
    assert assigned == [coordinator]
    await load_demo_into(app, households=80)
    assert (await _facts(app))["counts"] == facts["counts"]  # a second load adds nothing
