"""Anonymous directory searches are public and kept (``app.web.answer_cache``): a strong ETag, 304 on
If-None-Match, one statement per kept answer, a directory write shown on the next request; signed-in
callers' answers (internal notes) and ``open_now`` searches are never public nor kept; a setting
turns the cache off."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.api.v1.directory import KeptAnonymousSearches
from app.main import create_app
from app.settings import Settings
from tests.directory.support import BASE, Directory, if_match, make_directory
from tests.factories import World
from tests.self_service.support import member_headers
from tests.support.statements import counting_statements

SIGNED_IN = ("generalist_a", "generalist_b", "partner_a", "partner_b", "analyst", "resident", "admin")


@pytest.fixture
async def directory(world: World, client: httpx.AsyncClient) -> Directory:
    return await make_directory(world, client)


def _query(d: Directory, **params: Any) -> dict[str, Any]:
    return {"municipality": d.world.municipality.code, "limit": 50, **params}


def _names(answer: httpx.Response) -> list[str]:
    return sorted(h["service"]["name"] for h in answer.json()["items"])


async def test_an_anonymous_search_is_public_with_a_strong_etag_and_304s(directory: Directory) -> None:
    d = directory
    first = await d.client.get(f"{BASE}/services", params=_query(d))
    assert first.status_code == 200 and _names(first) == ["Dienst debt_a", "Dienst housing_b"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["vary"] == "Authorization"
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    for if_none_match in (etag, f'"other", W/{etag}', "*"):
        again = await d.client.get(
            f"{BASE}/services", params=_query(d), headers={"If-None-Match": if_none_match}
        )
        assert again.status_code == 304 and again.content == b"", if_none_match
        assert again.headers["etag"] == etag
    other = await d.client.get(f"{BASE}/services", params=_query(d), headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.content == first.content


async def test_a_kept_search_costs_one_statement_until_the_directory_changes(
    app: FastAPI, directory: Directory
) -> None:
    d = directory
    computed = await d.client.get(f"{BASE}/services", params=_query(d, q="schulden"))
    with counting_statements(app.state.db) as seen:
        kept = await d.client.get(f"{BASE}/services", params=_query(d, q="schulden"))
    assert kept.content == computed.content and kept.headers["etag"] == computed.headers["etag"]
    assert len(seen) == 1 and "public_data_versions" in seen[0]

    # A change through the API shows on the next request, whatever the max-age said.
    service = d.services["debt_a"]
    read = await d.client.get(f"{BASE}/services/{service['id']}")
    renamed = await d.client.patch(
        f"{BASE}/services/{service['id']}",
        json={"name": "Schuldhulp Noord"},
        headers=await if_match(d.world, "admin", read.headers["ETag"]),
    )
    assert renamed.status_code == 200, renamed.text
    revalidate = {"If-None-Match": computed.headers["etag"]}
    fresh = await d.client.get(f"{BASE}/services", params=_query(d, q="schulden"), headers=revalidate)
    assert fresh.status_code == 200 and fresh.headers["etag"] != computed.headers["etag"]
    assert _names(fresh) == ["Schuldhulp Noord"]

    # So does a row written straight into the database (another process, the CLI): opening hours.
    async with app.state.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO directory_schedules (id, service_id, weekday, opens_at, closes_at, description) "
                "VALUES (gen_random_uuid(), :s, 1, '09:00', '12:00', '')"
            ),
            {"s": service["id"]},
        )
    hours = await d.client.get(f"{BASE}/services", params=_query(d, q="schulden"))
    assert hours.headers["etag"] != fresh.headers["etag"]
    assert hours.json()["items"][0]["service"]["schedules"][0]["weekday"] == 1


async def test_answers_that_depend_on_the_caller_are_never_public_nor_shared(directory: Directory) -> None:
    """Workers see the non-public service and internal notes: neither the anonymous copy nor anybody's
    answer crosses over, whoever asks first, and no signed-in answer may be kept by a shared cache."""
    d = directory
    callers = {actor: await d.world.headers(actor) for actor in SIGNED_IN}
    callers["household_member"] = await member_headers(d.world)
    sees_internal = {"generalist_a", "generalist_b", "admin"}
    for order in ("signed_in_first", "anonymous_first"):
        if order == "anonymous_first":
            anonymous = await d.client.get(f"{BASE}/services", params=_query(d, free="true"))
        for actor, headers in callers.items():
            answer = await d.client.get(f"{BASE}/services", params=_query(d, free="true"), headers=headers)
            assert answer.status_code == 200, actor
            assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers, actor
            notes = [h["service"]["internal_notes"] for h in answer.json()["items"]]
            expected = "Bel eerst Marieke." if actor in sees_internal or actor == "partner_a" else None
            assert notes == [expected], (order, actor)
        if order == "signed_in_first":
            anonymous = await d.client.get(f"{BASE}/services", params=_query(d, free="true"))
        assert anonymous.headers["cache-control"].startswith("public")
        assert [h["service"]["internal_notes"] for h in anonymous.json()["items"]] == [None]
    # A kept anonymous answer never stands in for a token check.
    forged = await d.client.get(
        f"{BASE}/services", params=_query(d, free="true"), headers={"Authorization": "Bearer nonsense"}
    )
    assert forged.status_code == 401 and "etag" not in forged.headers
    everything = await d.client.get(f"{BASE}/services", params=_query(d), headers=callers["generalist_a"])
    assert "Dienst internal_a" in _names(everything)
    public = await d.client.get(f"{BASE}/services", params=_query(d))
    assert "Dienst internal_a" not in _names(public)


async def test_open_now_searches_are_never_kept(app: FastAPI, directory: Directory) -> None:
    d = directory
    first = await d.client.get(f"{BASE}/services", params=_query(d, open_now="true"))
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store" and "etag" not in first.headers
    with counting_statements(app.state.db) as seen:
        await d.client.get(f"{BASE}/services", params=_query(d, open_now="true"))
    assert not any("public_data_versions" in s for s in seen)


async def test_refused_searches_are_not_public(directory: Directory) -> None:
    refused = await directory.client.get(f"{BASE}/services", params={"age": "old"})
    assert refused.status_code == 422 and refused.headers["cache-control"] == "no-store"


async def test_the_setting_turns_the_cache_off(migrated: str, settings: Settings, world: World) -> None:
    off = create_app(settings.model_copy(update={"directory_answer_cache_entries": 0}), database_url=migrated)
    async with off.router.lifespan_context(off):
        transport = httpx.ASGITransport(app=off)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            params = {"municipality": world.municipality.code}
            for _ in range(2):
                answer = await client.get(f"{BASE}/services", params=params)
                assert answer.status_code == 200
                assert answer.headers["cache-control"] == "no-store" and "etag" not in answer.headers
            with counting_statements(off.state.db) as seen:
                await client.get(f"{BASE}/services", params=params)
            assert len(seen) == 1 and "public_data_versions" not in seen[0]


async def test_a_request_that_sends_credentials_is_never_answered_from_the_cache(
    directory: Directory,
) -> None:
    """Anonymous is one definition (``app.web.principal.sends_credentials``), shared by the caller's
    verification and the cache: an ``Authorization`` header the OAuth2 scheme reads as no token (empty)
    is refused as a credential, never answered with the kept anonymous page."""
    d = directory
    kept = await d.client.get(f"{BASE}/services", params=_query(d))
    assert kept.headers["cache-control"].startswith("public")
    for authorization in ("", "Basic dXNlcjpwYXNz"):
        refused = await d.client.get(
            f"{BASE}/services", params=_query(d), headers={"Authorization": authorization}
        )
        assert refused.status_code == 401, authorization
        assert refused.headers["cache-control"] == "no-store" and "etag" not in refused.headers


async def test_answers_are_kept_per_path(migrated: str, settings: Settings, world: World) -> None:
    """A second route given the search's route class (the search router exists to be tried first)
    never gets the search's kept answer for the same query string: the path is in the key."""
    fresh = create_app(settings, database_url=migrated)

    async def other(municipality: str) -> dict[str, str]:
        return {"route": "other"}

    fresh.router.routes.insert(0, KeptAnonymousSearches(f"{BASE}/other", other, methods=["GET"]))
    async with fresh.router.lifespan_context(fresh):
        transport = httpx.ASGITransport(app=fresh)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            params = {"municipality": world.municipality.code}
            search = await client.get(f"{BASE}/services", params=params)
            assert search.status_code == 200 and "items" in search.json()
            answer = await client.get(f"{BASE}/other", params=params)
            assert answer.status_code == 200 and answer.json() == {"route": "other"}
            assert answer.headers["etag"] != search.headers["etag"]


async def test_only_gets_and_heads_are_kept(migrated: str, settings: Settings, world: World) -> None:
    """An anonymous request of another method on a route of the class runs every time, never replayed."""
    fresh = create_app(settings, database_url=migrated)
    runs: list[int] = []

    async def other(municipality: str) -> dict[str, int]:
        runs.append(1)
        return {"runs": len(runs)}

    fresh.router.routes.insert(0, KeptAnonymousSearches(f"{BASE}/other", other, methods=["POST"]))
    async with fresh.router.lifespan_context(fresh):
        transport = httpx.ASGITransport(app=fresh)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            params = {"municipality": world.municipality.code}
            answers = [await client.post(f"{BASE}/other", params=params) for _ in range(2)]
    assert [a.json() for a in answers] == [{"runs": 1}, {"runs": 2}]
    assert all("etag" not in a.headers for a in answers)
