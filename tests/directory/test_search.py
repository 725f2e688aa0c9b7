"""Searching the sociale kaart on a hand-made directory: Dutch full-text ranking, the filters, and the
buurt logic at each area level (a place in the buurt, the buurt, its wijk, the whole municipality)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.directory.support import BASE, Directory, if_match
from tests.factories import World
from tests.initiatives.factories import make_networks


async def _search(d: Directory, actor: str = "generalist_a", **params: Any) -> list[dict[str, Any]]:
    response = await d.client.get(
        f"{BASE}/services",
        params={"limit": 100, "municipality": d.world.municipality.code, **params},
        headers=await d.world.headers(actor),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _names(hits: list[dict[str, Any]]) -> list[str]:
    return [h["service"]["name"].removeprefix("Dienst ") for h in hits]


async def _directory(world: World, client: httpx.AsyncClient) -> Directory:
    d = Directory(world, client)
    await d.organization("welfare")
    await d.organization("other")
    await d.location("in_buurt_0", "welfare", buurt=0)
    await d.location("in_buurt_2", "welfare", buurt=2)
    return d


async def test_dutch_full_text_ranks_the_name_above_the_description(
    world: World, client: httpx.AsyncClient
) -> None:
    d = await _directory(world, client)
    await d.service("budget", "welfare", description="Wij helpen bij schulden en betalingsachterstanden.")
    await d.service("schulden", "welfare", description="Een luisterend oor.")
    await d.service("koken", "welfare", description="Samen eten op vrijdag.")
    # The Dutch stemmer reads "schuld" and "schulden" alike; a match in the name weighs most.
    for text in ("schuld", "schulden", "Schulden"):
        hits = await _search(d, q=text)
        assert _names(hits) == ["schulden", "budget"], text
        assert hits[0]["rank"] > hits[1]["rank"] > 0
    # Stop words alone match nothing; "and" of two words needs both.
    assert await _search(d, q="en bij") == []
    assert _names(await _search(d, q="schulden betalingsachterstanden")) == ["budget"]


async def test_filters_combine(world: World, client: httpx.AsyncClient) -> None:
    d = await _directory(world, client)
    await d.service("jeugd", "welfare", themes=["youth"], minimum_age=12, maximum_age=23, free_of_charge=True)
    await d.service("ouderen", "welfare", themes=["elderly"], life_domains=["social_network"], minimum_age=65)
    await d.service("geld", "welfare", themes=["debts"], life_domains=["finances"], fees_description="EUR 10")
    await d.service("oud", "welfare", themes=["debts"], status="defunct")
    assert _names(await _search(d, theme="debts")) == ["geld"]  # defunct left out
    assert _names(await _search(d, life_domain="social_network")) == ["ouderen"]
    assert _names(await _search(d, age=16)) == ["geld", "jeugd"]
    assert _names(await _search(d, age=70)) == ["geld", "ouderen"]
    assert _names(await _search(d, free="true")) == ["jeugd"]
    assert _names(await _search(d, free="true", theme="debts")) == []
    # Bad input names the parameter.
    response = await d.client.get(f"{BASE}/services", params={"age": "old"})
    assert response.status_code == 422


async def test_neighbourhood_search_puts_the_nearest_area_level_first(
    world: World, client: httpx.AsyncClient
) -> None:
    d = await _directory(world, client)
    b = world.buurten
    await d.service("gemeente", "welfare", areas=[world.municipality.code])
    await d.service("wijk", "welfare", areas=[world.wijken[0].code])
    await d.service("buurt", "welfare", areas=[b[0].code])
    await d.service("plek", "welfare", locations=[d.locations["in_buurt_0"]])
    await d.service("elders", "welfare", areas=[b[2].code], locations=[d.locations["in_buurt_2"]])
    await d.service("nergens", "welfare")
    hits = await _search(d, neighbourhood=b[0].code)
    assert _names(hits) == ["plek", "buurt", "wijk", "gemeente"]
    assert [h["area_level"] for h in hits] == ["location", "buurt", "wijk", "municipality"]
    # Buurt 1 shares the wijk and the municipality; buurt 2 is in the other wijk.
    assert _names(await _search(d, neighbourhood=b[1].code)) == ["wijk", "gemeente"]
    assert _names(await _search(d, neighbourhood=b[2].code)) == ["elders", "gemeente"]
    # Combined with text: the level first, then the rank.
    assert _names(await _search(d, neighbourhood=b[0].code, q="dienst")) == [
        "plek",
        "buurt",
        "wijk",
        "gemeente",
    ]
    # An unknown buurt finds nothing.
    assert await _search(d, neighbourhood="BU99999999") == []


async def test_pages_follow_the_ranked_order(world: World, client: httpx.AsyncClient) -> None:
    d = await _directory(world, client)
    for n in range(5):
        await d.service(
            f"s{n}", "welfare", areas=[world.municipality.code] if n % 2 else [world.buurten[0].code]
        )
    headers = await d.world.headers("generalist_a")
    seen: list[str] = []
    params: dict[str, Any] = {"neighbourhood": world.buurten[0].code, "limit": 2}
    while True:
        page = (await client.get(f"{BASE}/services", params=params, headers=headers)).json()
        seen += _names(page["items"])
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["s0", "s2", "s4", "s1", "s3"]


async def test_open_now_reads_the_opening_hours_in_local_time(
    world: World, client: httpx.AsyncClient
) -> None:
    d = await _directory(world, client)
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).isoweekday()
    other_day = today % 7 + 1
    all_day = {"opens_at": "00:00:00", "closes_at": "23:59:59"}
    await d.service("open", "welfare", schedules=[{"weekday": today, **all_day}])
    await d.service("dicht", "welfare", schedules=[{"weekday": other_day, **all_day}])
    await d.service("geen_tijden", "welfare")
    assert _names(await _search(d, open_now="true")) == ["open"]
    assert len(await _search(d)) == 3


async def test_stale_entries_are_flagged_until_verified(world: World, client: httpx.AsyncClient) -> None:
    d = await _directory(world, client)
    created = await d.service("nieuw", "welfare")
    assert created["stale"] is True and created["assured_date"] is None
    headers = await if_match(world, "admin", f'"{created["id"]}.{created["version"]}"')
    assured = await client.post(
        f"{BASE}/services/{created['id']}/assurance",
        json={"assurer_email": "kaart@gemeente.nl"},
        headers=headers,
    )
    assert assured.status_code == 200, assured.text
    body = assured.json()
    assert body["stale"] is False and body["assured_date"] and body["assurer_email"] == "kaart@gemeente.nl"
    stale = await client.get(f"{BASE}/stale", params={"limit": 100}, headers=await world.headers("admin"))
    assert created["id"] not in {s["id"] for s in stale.json()["items"]}


async def test_bad_references_are_refused_and_nothing_is_written(
    world: World, client: httpx.AsyncClient
) -> None:
    d = await _directory(world, client)
    body = {
        "organization_id": d.organizations["welfare"],
        "name": "Fout",
        "themes": ["debts", "no_such_theme"],
        "areas": ["BU99999999"],
    }
    response = await d.post("admin", "/services", body)
    assert response.status_code == 422
    assert {e["rule"] for e in response.json()["errors"]} == {"unknown_theme"}
    response = await d.post("admin", "/services", {**body, "themes": ["debts"]})
    assert [e["rule"] for e in response.json()["errors"]] == ["unknown_area"]
    # A location of another organisation is not this service's to offer.
    other = await d.location("other_place", "other", buurt=None)
    response = await d.post("admin", "/services", {**body, "themes": [], "areas": [], "locations": [other]})
    assert [e["rule"] for e in response.json()["errors"]] == ["unknown_location"]
    response = await d.post(
        "admin", "/services", {**body, "themes": [], "areas": [], "minimum_age": 30, "maximum_age": 20}
    )
    assert response.status_code == 422
    assert await _search(d, q="fout") == []


async def test_running_initiatives_are_community_offers_of_their_buurt(
    world: World, client: httpx.AsyncClient
) -> None:
    networks = await make_networks(world)
    running = await networks.initiatives("a", 2, status="running")
    await networks.initiatives("a", 1, status="requested")
    await networks.initiatives("b", 1, status="running")
    response = await client.get(f"{BASE}/community-offers", params={"neighbourhood": networks.buurt_a})
    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["id"] for i in items} == {str(i) for i in running}
    assert all(i["status"] == "running" for i in items)
    themed = await client.get(
        f"{BASE}/community-offers", params={"neighbourhood": networks.buurt_a, "theme": "debts"}
    )
    assert themed.json()["items"] == []
