"""The REST search's page is JSON made by PostgreSQL in one statement (``search_page``): it must answer
what the model path (``service.search``: the hits, then ``ServiceRead`` models; GraphQL's path)
answers, search by search and caller by caller, in ``Page[ServiceHit]``'s shape."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import TypeAdapter

from app.api.pagination import Page
from app.domain.directory import service
from app.domain.directory.repository import SearchFilter
from app.domain.directory.schemas import ServiceHit
from app.security.principal import Principal
from tests.directory.support import BASE, Directory, if_match, make_directory
from tests.factories import World
from tests.support.statements import counting_statements

PAGE = TypeAdapter(Page[ServiceHit])
CALLERS = ("anonymous", "generalist_a", "admin", "partner_a", "partner_b", "resident")


async def _varied(world: World, client: httpx.AsyncClient) -> Directory:
    """``make_directory`` and services at every area level, with opening hours, ages and a check."""
    d = await make_directory(world, client)
    b = world.buurten
    await d.location("plain", "welfare", buurt=None)
    await d.location("in_1", "welfare", buurt=1)
    hours = [
        {"weekday": 1, "opens_at": "09:00", "closes_at": "12:30", "description": "Inloop"},
        {"weekday": 3, "opens_at": "13:15:30", "closes_at": "17:00", "location_id": d.locations["in_1"]},
    ]
    await d.service(
        "schulden_buurt",
        "welfare",
        description="Schulden en budget, samen.",
        themes=["debts", "housing"],
        areas=[b[0].code, b[2].code],
        locations=[d.locations["in_1"], d.locations["plain"]],
        schedules=hours,
        minimum_age=18,
        maximum_age=67,
        languages=["nl", "en"],
        phone="+31 20 123 4567",
        url="https://example.org/schulden",
        internal_notes="Vraag naar Sanne.",
    )
    await d.service("wijk", "welfare", areas=[world.wijken[0].code], email="wijk@example.org")
    made = await d.service("gemeente", "welfare", areas=[world.municipality.code], free_of_charge=True)
    await d.service("gesloten", "welfare", status="inactive", areas=[b[1].code], public=False)
    assured = await d.client.post(
        f"{BASE}/services/{d.id('gemeente')}/assurance",
        json={"assurer_email": "check@example.org"},
        headers=await if_match(world, "admin", f'"{made["id"]}.{made["version"]}"'),
    )
    assert assured.status_code == 200, assured.text
    return d


def _searches(d: Directory) -> list[dict[str, Any]]:
    b = d.world.buurten
    return [
        {},
        {"q": "schulden"},
        {"q": "dienst budget"},
        {"neighbourhood": b[0].code},
        {"neighbourhood": b[1].code, "q": "dienst"},
        {"neighbourhood": b[2].code, "theme": "housing"},
        {"neighbourhood": "BU99999999"},
        {"theme": "debts", "age": 30},
        {"life_domain": "finances", "free": "true"},
        {"organization_id": d.organizations["welfare"], "municipality": d.world.municipality.code},
    ]


def _filter(params: dict[str, Any]) -> SearchFilter:
    return SearchFilter(
        text=params.get("q"),
        theme=params.get("theme"),
        life_domain=params.get("life_domain"),
        neighbourhood=params.get("neighbourhood"),
        age=params.get("age"),
        free={"true": True}.get(params.get("free", "")),
        organization_id=params.get("organization_id"),
        municipality=params.get("municipality"),
    )


async def _model_path(world: World, actor: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    principal: Principal | None = None
    if actor != "anonymous":
        principal = await world.app.state.token_verifier.verify(await world.token(actor))
    settings = world.app.state.settings
    calendar = service.Calendar(settings.directory_stale_months, ZoneInfo(settings.directory_time_zone))
    async with world.app.state.db.reading() as session:
        # One more than the page: whether more follow (the page's cursor) is the model path's answer too.
        found = await service.search(session, principal, _filter(params), calendar, limit=101, after=None)
    return [hit.model_dump(mode="json") for hit, _ in found]


async def test_the_search_answers_what_the_model_path_answers(
    world: World, client: httpx.AsyncClient
) -> None:
    d = await _varied(world, client)
    seen: list[dict[str, Any]] = []
    for actor in CALLERS:
        headers = await world.headers(actor)
        for params in _searches(d):
            response = await client.get(f"{BASE}/services", params={**params, "limit": 100}, headers=headers)
            assert response.status_code == 200, response.text
            PAGE.validate_json(response.content)  # the bytes are a Page[ServiceHit]
            answer, found = response.json(), await _model_path(world, actor, params)
            expected = found[:100]
            assert answer["items"] == expected, (actor, params)
            # Other tests of this worker may have left services: a cursor exactly when more follow.
            assert (answer["next_cursor"] is None) == (len(found) <= 100), (actor, params)
            seen += answer["items"]
    # The searches above found stale and checked services, with children (asked of what they
    # found: an unfiltered first page may hold only services other tests of this worker left).
    assert {h["service"]["stale"] for h in seen} == {True, False}
    assert any(h["service"]["locations"] and h["service"]["schedules"] for h in seen)


async def test_one_statement_per_search_page(world: World, client: httpx.AsyncClient) -> None:
    await _varied(world, client)
    headers = await world.headers("generalist_a")
    params: dict[str, Any] = {
        "q": "dienst",
        "neighbourhood": world.buurten[0].code,
        "theme": "debts",
        "limit": 1,
    }
    await client.get(f"{BASE}/services", params=params, headers=headers)  # warm: the token's keys
    with counting_statements(world.app.state.db) as statements:
        response = await client.get(f"{BASE}/services", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert len(statements) == 1, statements  # the buurt, the hits and their children in one
    page = response.json()
    assert [h["service"]["name"] for h in page["items"]] == ["Dienst debt_a"]  # at a place in the buurt
    following = await client.get(
        f"{BASE}/services", params={**params, "cursor": page["next_cursor"]}, headers=headers
    )
    assert [h["service"]["name"] for h in following.json()["items"]] == ["Dienst schulden_buurt"]
