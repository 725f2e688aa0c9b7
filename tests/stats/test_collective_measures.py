"""From the individual question to the collective answer (issue 13 item 5, issue 15 item 8): households
per theme with and without a matching offer in their buurt, and plan actions carried by resident
initiatives, against small hand-computed datasets (threshold 10, rounding 5)."""

from __future__ import annotations

import uuid
from datetime import date

import httpx

from app.domain.directory.models import DirectoryOrganization, DirectoryService, DirectoryServiceArea
from app.domain.plans.models import Plan, PlanAction
from tests.stats.data import Dataset, Place, at
from tests.stats.helpers import BELOW, COMPLEMENTARY, codes, figures

Q1 = {"from": "2025-01-01", "to": "2025-03-31", "period": "quarter"}


async def _service(place: Place, theme: str, area: uuid.UUID | None, status: str = "active") -> None:
    """A service carrying ``theme`` for one area (None: the whole municipality)."""
    async with place.app.state.db.transaction() as session:
        organization = DirectoryOrganization(
            municipality_id=place.municipality.id, name=f"Org {uuid.uuid4()}"
        )
        session.add(organization)
        await session.flush()
        service = DirectoryService(
            organization_id=organization.id, name="Dienst", themes=[theme], status=status
        )
        session.add(service)
        await session.flush()
        session.add(DirectoryServiceArea(service_id=service.id, area_id=area))


async def _plans(place: Place, households: list[uuid.UUID], initiative: uuid.UUID, joined: int) -> None:
    """A plan per household (made 1 Nov 2024) with ``joined`` actions pointing to the initiative and
    one the household does alone."""
    async with place.app.state.db.transaction() as session:
        for household in households:
            plan = Plan(household_id=household, revision=1, created_at=at(date(2024, 11, 1)))
            session.add(plan)
            await session.flush()
            session.add_all(
                [
                    PlanAction(
                        plan_id=plan.id,
                        description="Café",
                        performer_kind="household",
                        initiative_id=initiative,
                    )
                    for _ in range(joined)
                ]
                + [PlanAction(plan_id=plan.id, description="Zelf", performer_kind="household")]
            )


async def test_households_per_theme_with_and_without_an_offer(
    client: httpx.AsyncClient, place: Place
) -> None:
    gm, w1, w2, b0, b1, b2, b3 = codes(place)
    data = Dataset(place)
    await _service(place, "debts", place.wijken[0].id)  # serves wijk 1: buurten 0 and 1
    await _service(place, "loneliness", None, status="inactive")  # inactive: no offer
    network, _ = await data.network()
    await data.initiatives(
        network, place.buurten[2], 1, created=date(2024, 9, 1), status="running", themes=["debts"]
    )
    await data.initiatives(
        network, place.buurten[3], 1, created=date(2024, 9, 1), status="idea", themes=["debts"]
    )
    registered, added = date(2024, 11, 1), date(2025, 1, 10)
    homes = {
        i: await data.households(place.buurten[i], n, registered=registered)
        for i, n in enumerate((12, 3, 11, 14))
    }
    for households in homes.values():
        await data.themes(households, "debts", added)
    await data.themes(homes[3][:12], "loneliness", added)

    # debts with an offer: b0 12, b1 3 (the wijk's service), b2 11 (its running initiative); b3 none
    # (an idea is no offer). Without: b3 14. Loneliness: 12 in b3, none with an offer (inactive).
    with_offer = await figures(client, place, "households_by_theme_with_offer", level="gemeente", **Q1)
    assert with_offer[(gm, "2025-Q1", "debts")] == (25, None)  # 26
    assert with_offer[(gm, "2025-Q1", "loneliness")] == (None, BELOW)
    assert (gm, "2025-Q1", "total") not in with_offer  # themes overlap: no total
    wijken = await figures(client, place, "households_by_theme_with_offer", level="wijk", **Q1)
    assert wijken[(w1, "2025-Q1", "debts")] == (15, None)  # 12 + 3
    assert wijken[(w2, "2025-Q1", "debts")] == (10, None)  # 11
    buurten = await figures(client, place, "households_by_theme_with_offer", level="buurt", **Q1)
    assert buurten[(b1, "2025-Q1", "debts")] == (None, BELOW)  # 3
    assert buurten[(b0, "2025-Q1", "debts")] == (None, COMPLEMENTARY)  # else b1 = wijk - b0
    assert buurten[(b3, "2025-Q1", "debts")] == (None, BELOW)  # 0
    assert buurten[(b2, "2025-Q1", "debts")] == (None, COMPLEMENTARY)

    without = await figures(client, place, "households_by_theme_without_offer", level="gemeente", **Q1)
    assert without[(gm, "2025-Q1", "debts")] == (15, None)  # 14
    assert without[(gm, "2025-Q1", "loneliness")] == (10, None)  # 12
    without_wijken = await figures(client, place, "households_by_theme_without_offer", level="wijk", **Q1)
    assert without_wijken[(w1, "2025-Q1", "debts")] == (None, BELOW)  # 0
    assert without_wijken[(w2, "2025-Q1", "debts")] == (None, COMPLEMENTARY)  # else = gemeente - w1
    # Per team (team a: buurten 0-1, team b: 2-3); the gemeente is also the sum of its teams.
    team_a, team_b = str(place.teams["a"].id), str(place.teams["b"].id)
    teams = await figures(client, place, "households_by_theme_without_offer", level="team", **Q1)
    assert teams[(team_a, "2025-Q1", "debts")] == (None, BELOW)  # 0
    assert teams[(team_b, "2025-Q1", "debts")] == (None, COMPLEMENTARY)  # else = gemeente - team a
    with_teams = await figures(client, place, "households_by_theme_with_offer", level="team", **Q1)
    assert with_teams[(team_a, "2025-Q1", "debts")] == (15, None)  # 15
    assert with_teams[(team_b, "2025-Q1", "debts")] == (10, None)  # 11


async def test_plan_actions_carried_by_collective_initiatives(
    client: httpx.AsyncClient, place: Place
) -> None:
    gm, w1, w2, b0, b1, b2, b3 = codes(place)
    data = Dataset(place)
    network, _ = await data.network()
    [cafe] = await data.initiatives(
        network, place.buurten[0], 1, created=date(2024, 9, 1), status="running", themes=["debts"]
    )
    registered = date(2024, 10, 1)
    # b0: 12 households joining once; b1: 3 households joining 4 times (12 actions, too few households);
    # b2: 10 households joining twice; b3: plans without a collective action.
    await _plans(place, await data.households(place.buurten[0], 12, registered=registered), cafe, 1)
    await _plans(place, await data.households(place.buurten[1], 3, registered=registered), cafe, 4)
    await _plans(place, await data.households(place.buurten[2], 10, registered=registered), cafe, 2)
    await _plans(place, await data.households(place.buurten[3], 15, registered=registered), cafe, 0)

    gemeente = await figures(client, place, "plan_actions_collective", level="gemeente", **Q1)
    assert gemeente == {(gm, "2025-Q1", "total"): (45, None)}  # 12 + 12 + 20 = 44
    wijken = await figures(client, place, "plan_actions_collective", level="wijk", **Q1)
    assert wijken == {(w1, "2025-Q1", "total"): (25, None), (w2, "2025-Q1", "total"): (20, None)}  # 24, 20
    buurten = await figures(client, place, "plan_actions_collective", level="buurt", **Q1)
    assert buurten == {
        (b0, "2025-Q1", "total"): (None, COMPLEMENTARY),  # b1's partner in wijk 1
        (b1, "2025-Q1", "total"): (None, BELOW),  # 12 actions, but of 3 households
        (b2, "2025-Q1", "total"): (None, COMPLEMENTARY),  # b3's partner in wijk 2
        (b3, "2025-Q1", "total"): (None, BELOW),  # none
    }
    teams = await figures(client, place, "plan_actions_collective", level="team", **Q1)
    assert teams == {
        (str(place.teams["a"].id), "2025-Q1", "total"): (25, None),  # 24 actions of 15 households
        (str(place.teams["b"].id), "2025-Q1", "total"): (20, None),  # 20 of 10
    }
