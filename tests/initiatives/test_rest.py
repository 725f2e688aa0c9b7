"""The public REST listing for the municipality's website: public fields only, same visibility rules."""

from __future__ import annotations

import httpx

from tests.initiatives.factories import Networks

PUBLIC_KEYS = {
    "id", "title", "summary", "themes", "status", "neighbourhood", "network", "requested_cents",
    "granted_cents", "spent_cents", "starts_on", "ends_on", "participants_reached",
}  # fmt: skip
OUTSIDERS = ["anonymous", "resident_b", "analyst", "generalist_a", "partner_a"]


async def test_the_listing_shows_public_fields_of_initiatives_past_the_idea_stage(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [done] = await networks.funded("a", 1)
    [idea] = await networks.initiatives("a", 1, status="idea")
    municipality = networks.world.municipality.code
    for actor in OUTSIDERS:
        response = await client.get(
            "/api/v1/initiatives",
            params={"municipality": municipality},
            headers=await networks.world.headers(actor),
        )
        assert response.status_code == 200, (actor, response.text)
        items = response.json()["items"]
        assert [i["id"] for i in items] == [str(done)], actor
        assert set(items[0]) == PUBLIC_KEYS
        assert items[0]["network"]["name"].startswith("Wijknetwerk Noord")
        assert items[0]["neighbourhood"]["code"] == networks.buurt_a
        assert "example.org" not in response.text and "Jansen" not in response.text
        one = await client.get(f"/api/v1/initiatives/{idea}", headers=await networks.world.headers(actor))
        assert one.status_code == 404 and one.headers["content-type"] == "application/problem+json"


async def test_members_also_find_their_own_networks_ideas_but_never_private_fields(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [idea] = await networks.initiatives("a", 1, status="idea")
    headers = await networks.world.headers("resident")
    response = await client.get(
        "/api/v1/initiatives", params={"network_id": str(networks.a)}, headers=headers
    )
    assert [i["id"] for i in response.json()["items"]] == [str(idea)]
    one = await client.get(f"/api/v1/initiatives/{idea}", headers=headers)
    assert one.status_code == 200 and set(one.json()) == PUBLIC_KEYS


async def test_cursor_pagination_and_filters(client: httpx.AsyncClient, networks: Networks) -> None:
    created = await networks.initiatives("a", 7)
    await networks.funded("a", 2, status="running")
    params: dict[str, str | int] = {"network_id": str(networks.a), "limit": 3, "status": "requested"}
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = await client.get(
            "/api/v1/initiatives", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200
        seen += [i["id"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(str(i) for i in created) and len(seen) == len(set(seen))
    running = await client.get(
        "/api/v1/initiatives", params={"network_id": str(networks.a), "status": ["running", "completed"]}
    )
    assert [i["status"] for i in running.json()["items"]] == ["running", "running"]
    by_theme = await client.get(
        "/api/v1/initiatives", params={"neighbourhood": networks.buurt_a, "theme": "meeting", "limit": 100}
    )
    assert len(by_theme.json()["items"]) == 9, by_theme.text
    none = await client.get(
        "/api/v1/initiatives", params={"neighbourhood": networks.buurt_a, "theme": "youth"}
    )
    assert none.json() == {"items": [], "next_cursor": None}


async def test_bad_input_is_a_clean_422_or_401(client: httpx.AsyncClient, networks: Networks) -> None:
    forged = await client.get("/api/v1/initiatives", params={"cursor": "eyJ4Ijox.forged"})
    assert forged.status_code == 422
    assert forged.json()["errors"] == [
        {"loc": ["query", "cursor"], "message": "The cursor is not valid.", "rule": "cursor_invalid"}
    ]
    for params in ({"limit": 101}, {"neighbourhood": "Amsterdam"}, {"status": "secret"}):
        response = await client.get("/api/v1/initiatives", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    bad_token = await client.get("/api/v1/initiatives", headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401
    # A path segment that is no id names no resource (issue 11, item 9: ids are matched by routing,
    # so a literal path such as /households/search is never taken for an id).
    missing = await client.get("/api/v1/initiatives/not-a-uuid")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
