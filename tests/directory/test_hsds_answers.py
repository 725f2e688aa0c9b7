"""The HSDS read API's anonymous answers are public and kept like the directory search's
(``app.web.answer_cache.KeptAnonymousAnswers``): a strong ETag, 304 on If-None-Match, one statement
per kept answer, a directory write shown on the next request; a caller sending credentials is
answered as before (``no-store``, the token verified), and an error is never kept."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.main import create_app
from app.settings import Settings
from tests.directory.support import BASE, Directory, if_match, make_directory
from tests.factories import World
from tests.support.statements import counting_statements

ROUTES = ("", "/services", "/organizations", "/taxonomies", "/taxonomy_terms", "/service_at_locations")


async def test_every_anonymous_hsds_answer_is_public_with_a_strong_etag(client: httpx.AsyncClient) -> None:
    for route in ROUTES:
        first = await client.get(f"/hsds{route}")
        assert first.status_code == 200, route
        assert first.headers["cache-control"] == "public, max-age=60", route
        assert first.headers["vary"] == "Authorization", route
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/"), route
        again = await client.get(f"/hsds{route}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", route
        assert again.headers["etag"] == etag


async def test_a_kept_hsds_answer_costs_one_statement_until_the_directory_changes(
    app: FastAPI, world: World, client: httpx.AsyncClient
) -> None:
    d: Directory = await make_directory(world, client)
    path = f"/hsds/services?organization_id={d.organizations['a']}"
    computed = await client.get(path)
    assert [s["name"] for s in computed.json()["contents"]] == ["Dienst debt_a"]
    with counting_statements(app.state.db) as seen:
        kept = await client.get(path)
    assert kept.content == computed.content and kept.headers["etag"] == computed.headers["etag"]
    assert len(seen) == 1 and "public_data_versions" in seen[0]

    service = d.services["debt_a"]
    read = await client.get(f"{BASE}/services/{service['id']}")
    renamed = await client.patch(
        f"{BASE}/services/{service['id']}",
        json={"name": "Schuldhulp Noord"},
        headers=await if_match(world, "admin", read.headers["ETag"]),
    )
    assert renamed.status_code == 200, renamed.text
    fresh = await client.get(path, headers={"If-None-Match": computed.headers["etag"]})
    assert fresh.status_code == 200 and fresh.headers["etag"] != computed.headers["etag"]
    assert [s["name"] for s in fresh.json()["contents"]] == ["Schuldhulp Noord"]
    # The search shares the cache but never the answer: the path is in the key.
    search = await client.get(f"{BASE}/services?organization_id={d.organizations['a']}")
    assert search.headers["etag"] != fresh.headers["etag"] and "items" in search.json()


async def test_signed_in_callers_and_errors_are_neither_public_nor_kept(
    app: FastAPI, world: World, client: httpx.AsyncClient
) -> None:
    d: Directory = await make_directory(world, client)
    anonymous = await client.get("/hsds/services")
    assert anonymous.headers["cache-control"].startswith("public")
    signed_in = await client.get("/hsds/services", headers=await world.headers("generalist_a"))
    assert signed_in.status_code == 200 and signed_in.content == anonymous.content
    assert signed_in.headers["cache-control"] == "no-store" and "etag" not in signed_in.headers
    # A kept anonymous answer never stands in for a token check.
    forged = await client.get("/hsds/services", headers={"Authorization": "Bearer nonsense"})
    assert forged.status_code == 401 and "etag" not in forged.headers
    for refused in (f"/hsds/services/{d.id('internal_a')}", "/hsds/services?format=ndjson"):
        for _ in range(2):
            answer = await client.get(refused)
            assert answer.status_code in (404, 422), refused
            assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers
    with counting_statements(app.state.db) as seen:
        await client.get(f"/hsds/services/{d.id('internal_a')}")
    assert len(seen) > 1  # computed again, not served from the cache


async def test_a_life_domains_change_shows_on_the_next_hsds_request(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The taxonomy terms (and the services' terms) read the life domains: a change of that list raises
    the public-data version like a directory write (its 0190 triggers, added by 0290)."""
    path = "/hsds/taxonomy_terms?per_page=100"
    before = await client.get(path)
    assert before.status_code == 200, before.text
    async with app.state.db.transaction() as session:
        code = await session.scalar(text("SELECT min(code) FROM life_domains WHERE active"))
    term = next(t for t in before.json()["contents"] if t["code"] == code)
    change = text("UPDATE life_domains SET label_nl = :label WHERE code = :code")
    async with app.state.db.transaction() as session:  # as a seed or another process would
        await session.execute(change, {"label": "Hernoemd domein", "code": term["code"]})
    try:
        after = await client.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert "Hernoemd domein" in [t["name"] for t in after.json()["contents"]]
    finally:
        async with app.state.db.transaction() as session:
            await session.execute(change, {"label": term["name"], "code": term["code"]})


async def test_hsds_answers_never_evict_the_searchs(migrated: str, settings: Settings, world: World) -> None:
    """The HSDS read API keeps its answers apart (same class, own instance): with room for one answer
    each, a harvester's page leaves the kept search answer in place."""
    app = create_app(settings.model_copy(update={"directory_answer_cache_entries": 1}), database_url=migrated)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            search = f"{BASE}/services?municipality={world.municipality.code}"
            assert (await client.get(search)).headers["cache-control"].startswith("public")
            harvested = await client.get("/hsds/services?per_page=100")
            assert harvested.headers["cache-control"].startswith("public")
            with counting_statements(app.state.db) as seen:
                await client.get(search)
            assert len(seen) == 1 and "public_data_versions" in seen[0]
