"""Idempotency-Key on POSTs: replay, mismatch, in flight, release on failure, real concurrency."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from app.api.idempotency import fingerprint
from app.domain.idempotency import service
from app.domain.idempotency.service import Claim, KeyRequest
from app.domain.unit_of_work.work import unit_of_work
from tests.factories import World
from tests.households.support import count_rows, create_household, household_body


async def test_same_key_and_body_replays_the_first_answer(client: httpx.AsyncClient, world: World) -> None:
    headers = {**await world.headers("generalist_a"), "Idempotency-Key": str(uuid.uuid4())}
    body = household_body(world)
    first = await client.post("/api/v1/households", json=body, headers=headers)
    again = await client.post("/api/v1/households", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    mine = {"team_id": world.teams["a"].id, "postcode": "1234AB"}
    assert await count_rows(world, "households", **mine, house_number=body["house_number"]) == 1
    # The replay returned case data, so it is in the access log too (as a read).
    replays = await count_rows(
        world, "access_log", household_id=uuid.UUID(first.json()["id"]), purpose="idempotent_replay"
    )
    assert replays == 1


async def test_same_key_other_body_is_422_without_acting(client: httpx.AsyncClient, world: World) -> None:
    headers = {**await world.headers("generalist_a"), "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/api/v1/households", json=household_body(world), headers=headers)
    other = household_body(world)
    second = await client.post("/api/v1/households", json=other, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 422
    assert second.json()["errors"][0] == {
        "loc": ["header", "Idempotency-Key"],
        "message": "This key was already used for a different request.",
        "rule": "idempotency_key_reused",
    }
    mine = {"team_id": world.teams["a"].id, "postcode": "1234AB"}
    assert await count_rows(world, "households", **mine, house_number=other["house_number"]) == 0


async def test_key_is_per_caller(client: httpx.AsyncClient, world: World) -> None:
    key = str(uuid.uuid4())
    body = household_body(world)
    a = await client.post(
        "/api/v1/households",
        json=body,
        headers={**await world.headers("generalist_a"), "Idempotency-Key": key},
    )
    a2 = await client.post(
        "/api/v1/households",
        json=body,
        headers={**await world.headers("generalist_a2"), "Idempotency-Key": key},
    )
    assert a.status_code == a2.status_code == 201
    assert a.json()["id"] != a2.json()["id"]


async def test_key_still_in_flight_is_409(client: httpx.AsyncClient, world: World, app: object) -> None:
    key = str(uuid.uuid4())
    body = household_body(world)
    principal_subject = str(world.people["generalist_a"].user.id)
    path = "/api/v1/households"
    import json

    class _Abandon(Exception):
        """Ends the first request's work without its answer: its claim goes with the rollback."""

    with pytest.raises(_Abandon):
        async with unit_of_work(world.app.state.db, world.app.state.wiring) as uow:
            claim = await service.claim(
                uow,
                KeyRequest(
                    principal_subject, key, "test", fingerprint("POST", path, json.dumps(body).encode())
                ),
            )
            assert isinstance(claim, Claim)
            response = await client.post(
                path, json=body, headers={**await world.headers("generalist_a"), "Idempotency-Key": key}
            )
            assert response.status_code == 409
            assert response.json()["type"] == "urn:wijkwerk:problem:idempotency_key_in_flight"
            raise _Abandon
    retry = await client.post(
        path, json=body, headers={**await world.headers("generalist_a"), "Idempotency-Key": key}
    )
    assert retry.status_code == 201


async def test_a_failed_request_releases_the_key(client: httpx.AsyncClient, world: World) -> None:
    headers = {**await world.headers("generalist_a"), "Idempotency-Key": str(uuid.uuid4())}
    bad = household_body(world, themes=["no_such_theme"])
    assert (await client.post("/api/v1/households", json=bad, headers=headers)).status_code == 422
    assert (
        await client.post("/api/v1/households", json=bad, headers=headers)
    ).status_code == 422  # ran again
    assert await count_rows(world, "idempotency_keys", key=headers["Idempotency-Key"]) == 0


async def test_concurrent_posts_with_one_key_create_one_record(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}/contacts"
    body = {
        "kind": "home_visit",
        "occurred_at": "2026-01-05T10:00:00+01:00",
        "minutes": 45,
        "note": "Koffie.",
    }
    for _ in range(3):
        headers = {**await world.headers("generalist_a"), "Idempotency-Key": str(uuid.uuid4())}
        responses = await asyncio.gather(*[client.post(url, json=body, headers=headers) for _ in range(4)])
        statuses = sorted(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, statuses
        created = {r.json()["id"] for r in responses if r.status_code == 201}
        assert len(created) == 1  # every 201 is the same contact (a replay) or the only one
    assert await count_rows(world, "contact_moments", household_id=uuid.UUID(household["id"])) == 3


async def test_bad_key_is_422(client: httpx.AsyncClient, world: World) -> None:
    headers = {**await world.headers("generalist_a"), "Idempotency-Key": "x" * 300}
    response = await client.post("/api/v1/households", json=household_body(world), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


def test_fingerprint_is_canonical_json() -> None:
    assert fingerprint("POST", "/a", b'{"a": 1, "b": [1, 2]}') == fingerprint(
        "POST", "/a", b'{"b":[1,2],"a":1}'
    )
    assert fingerprint("POST", "/a", b'{"a": 1}') != fingerprint("POST", "/b", b'{"a": 1}')
    assert fingerprint("POST", "/a", b"not json") != fingerprint("POST", "/a", b"not json!")
