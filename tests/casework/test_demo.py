"""The case-work demo loader: realistic data that obeys the same rules as the API, loaded once."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from app.demo import DemoContext
from app.demo.casework import load
from app.domain.households.models import HouseholdStatus
from app.domain.readmodel.overview_schemas import HouseholdOverview
from app.domain.unit_of_work.work import unit_of_work
from tests.casework.conftest import Cases
from tests.factories import World

COUNTS = """
SELECT h.status,
       count(DISTINCT a.id) AS assessments,
       count(DISTINCT p.id) FILTER (WHERE p.status = 'active') AS active_plans,
       count(DISTINCT np.id) AS people
  FROM households h
  LEFT JOIN assessments a ON a.household_id = h.id
  LEFT JOIN plans p ON p.household_id = h.id
  LEFT JOIN network_people np ON np.household_id = h.id
 WHERE h.id = :h
 GROUP BY h.status
"""


async def test_demo_case_work(client: httpx.AsyncClient, world: World) -> None:
    cases = Cases(world)
    for status in HouseholdStatus:
        await cases.add(str(status), status=status, coordinator="generalist_a")
    ctx = DemoContext(
        settings=world.app.state.settings,
        hasher=world.hasher,
        teams={k: t.id for k, t in world.teams.items()},
    )
    db = world.app.state.db

    async def counts() -> dict[str, tuple[int, int, int]]:
        async with db.transaction() as session:
            found = {}
            for key in cases.households:
                row = (await session.execute(sa.text(COUNTS), {"h": cases.hid(key)})).one()
                found[key] = (row.assessments, row.active_plans, row.people)
            return found

    async with unit_of_work(db, world.app.state.wiring) as uow:
        await load(uow, ctx)
    first = await counts()
    assert first["registered"] == (0, 0, 0)
    assert first["intake"][0] == 1 and first["intake"][1] == 0
    for key in ("active", "aftercare"):
        assessments, active_plans, people = first[key]
        assert assessments >= 2 and active_plans == 1 and people >= 2
    assert first["closed"][0] >= 2 and first["closed"][1] == 0

    async with unit_of_work(db, world.app.state.wiring) as uow:
        await load(uow, ctx)  # a second load adds nothing
    assert await counts() == first

    # What the loader wrote reads back through the API and matches the documented shapes.
    headers = await cases.headers("generalist_a")
    for key in ("active", "aftercare"):
        overview = await client.get(f"/api/v1/households/{cases.hid(key)}/overview", headers=headers)
        parsed = HouseholdOverview.model_validate_json(overview.content)
        assert parsed.tier is not None and parsed.plan is not None and parsed.network.people >= 2
        plan = await client.get(f"/api/v1/households/{cases.hid(key)}/plan", headers=headers)
        assert plan.status_code == 200 and plan.json()["goals"]
    aftercare_plan = (
        await client.get(f"/api/v1/households/{cases.hid('aftercare')}/plan", headers=headers)
    ).json()
    assert aftercare_plan["agreed_at"] is not None
