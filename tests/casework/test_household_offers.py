"""What is there for this household (issue 13 item 5): services of the sociale kaart and running
initiatives of its buurt that match its themes or the life domains of its open goals, nearest first,
keyset-paged, one statement, logged as a read of the household; nobody else's household."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa

from app.domain.households.models import HouseholdTheme
from tests.casework.api import CaseApi
from tests.casework.conftest import Cases
from tests.directory.community import initiative
from tests.directory.support import Directory, make_directory
from tests.self_service.support import account, make_home
from tests.support.statements import counting_statements


@pytest.fixture
def api(client: httpx.AsyncClient, cases: Cases) -> CaseApi:
    return CaseApi(client, cases)


async def _themes(cases: Cases, key: str, *codes: str) -> None:
    async with cases.world.app.state.db.transaction() as session:
        session.add_all([HouseholdTheme(household_id=cases.hid(key), theme_code=c) for c in codes])


async def _neighbourhood(cases: Cases, client: httpx.AsyncClient) -> tuple[Directory, dict[str, uuid.UUID]]:
    """Household "a" (buurt 0, wijk 0) with themes debts and loneliness and an open finances goal, and
    offers at every distance, some that do not match and some that do not count."""
    world = cases.world
    d = await make_directory(world, client)  # debt_a: at a location in buurt 0, debts + finances
    await d.service("buddy_wijk", "welfare", themes=["loneliness"], areas=[world.wijken[0].code])
    await d.service(
        "debt_gemeente",
        "welfare",
        themes=["debts"],
        life_domains=["finances"],
        areas=[world.municipality.code],
    )
    await d.service("stopped", "welfare", themes=["debts"], status="inactive", areas=[world.buurten[0].code])
    await d.service("next_door", "welfare", themes=["debts"], areas=[world.buurten[1].code])
    await d.service("youth", "welfare", themes=["youth"], areas=[world.buurten[0].code])
    initiatives = {
        "cafe": await initiative(world, 0),
        "idea": await initiative(world, 0, title="Nog een idee", status="idea"),
        "elsewhere": await initiative(world, 1, title="Café verderop"),
        "knitting": await initiative(world, 0, title="Breiclub", themes=("meeting",)),
    }
    await _themes(cases, "a", "debts", "loneliness")
    return d, initiatives


async def test_offers_are_ranked_nearest_first_and_paged(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    d, initiatives = await _neighbourhood(cases, client)
    await api.plan("a")  # a goal on finances, never evaluated: open
    headers = await cases.headers("generalist_a")
    url = api.base("a") + "/offers"
    await client.get(url, headers=headers)  # warm: keys and caches loaded
    before = await cases.access_rows(cases.hid("a"))
    with counting_statements(cases.world.app.state.db) as statements:
        first = await client.get(url, headers=headers, params={"limit": 2})
    assert first.status_code == 200, first.text
    assert len(statements) == 1  # access check, access-log row and the page: one statement
    assert await cases.access_rows(cases.hid("a")) == before + 1
    rest = await client.get(url, headers=headers, params={"cursor": first.json()["next_cursor"]})
    items = first.json()["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    shown = [
        (i["kind"], i["id"], i["area_level"], i["matching_themes"], i["matching_life_domains"]) for i in items
    ]
    assert shown == [
        ("service", d.id("debt_a"), "location", ["debts"], ["finances"]),
        ("initiative", str(initiatives["cafe"]), "buurt", ["debts"], []),
        ("service", d.id("buddy_wijk"), "wijk", ["loneliness"], []),
        ("service", d.id("debt_gemeente"), "municipality", ["debts"], ["finances"]),
    ]
    assert items[0]["organization_name"] == "Organisatie a" and items[1]["organization_name"] is None


async def test_only_open_goals_count_and_no_themes_means_no_offers(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    world = cases.world
    d = await make_directory(world, client)
    headers = await cases.headers("generalist_a")
    url = api.base("a") + "/offers"
    assert (await client.get(url, headers=headers)).json() == {"items": [], "next_cursor": None}
    await api.plan("a")  # finances, open: debt_a matches by life domain alone
    assert [i["id"] for i in (await client.get(url, headers=headers)).json()["items"]] == [d.id("debt_a")]
    plan = (await client.get(api.base("a") + "/plan", headers=headers)).json()
    async with world.app.state.db.transaction() as session:  # the goal was reached at its evaluation
        evaluation = uuid.uuid4()
        await session.execute(
            sa.text("INSERT INTO plan_evaluations (id, plan_id, evaluated_on) VALUES (:e, :p, '2026-06-01')"),
            {"e": evaluation, "p": plan["id"]},
        )
        await session.execute(
            sa.text(
                "INSERT INTO plan_goal_evaluations (evaluation_id, goal_id, result) "
                "VALUES (:e, :g, 'reached')"
            ),
            {"e": evaluation, "g": plan["goals"][0]["id"]},
        )
    assert (await client.get(url, headers=headers)).json()["items"] == []


async def test_nobody_else_sees_a_households_offers(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    await _neighbourhood(cases, client)
    world = cases.world
    url = api.base("a") + "/offers"
    assert (
        await client.get(url, headers=await cases.headers("generalist_b"))
    ).status_code == 404  # other team
    missing = await client.get(
        f"/api/v1/households/{uuid.uuid4()}/offers", headers=await cases.headers("generalist_a")
    )
    assert missing.status_code == 404
    for actor in ("partner_a", "partner_b", "analyst", "resident", "network_coordinator", "admin"):
        response = await client.get(url, headers=await world.headers(actor))
        assert response.status_code == 403, actor
    assert (await client.get(url)).status_code == 401
    # A household member, even for their own household (their own routes are under /api/v1/me).
    home = await make_home(world, client)
    member = await account(world, home, "Anna")
    own = await client.get(f"/api/v1/households/{home.id}/offers", headers=await member.headers())
    assert own.status_code == 403
    # The confidential household: only its coordinator and assigned workers.
    conf = api.base("conf") + "/offers"
    assert (await client.get(conf, headers=await cases.headers("generalist_a2"))).status_code == 404
    assert (await client.get(conf, headers=await cases.headers("generalist_a"))).status_code == 200
