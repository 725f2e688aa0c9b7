"""The contact POST answers bytes it serialises itself (no second validation through
``response_model``): the same status, headers and bytes FastAPI's model path makes of the same
contact, and the same answer replayed for its Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI, status

from app.domain.households.schemas import ContactRead
from tests.factories import World
from tests.households.support import create_household


async def _model_path(contact: ContactRead) -> httpx.Response:
    """What FastAPI answers for ``contact`` returned by a route with ``response_model=ContactRead``."""
    app = FastAPI()

    @app.post("/contact", status_code=status.HTTP_201_CREATED, response_model=ContactRead)
    async def answer() -> ContactRead:
        return contact

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.post("/contact")


async def test_the_answer_is_what_the_response_model_makes_of_the_contact(
    client: httpx.AsyncClient, world: World
) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}/contacts"
    headers = await world.headers("generalist_a")
    bodies: list[dict[str, Any]] = [
        {"kind": "home_visit", "occurred_at": "2026-02-03T09:15:00.1234+01:00", "minutes": 45, "note": "Hi"},
        {"kind": "phone", "occurred_at": "2026-02-04T10:00:00Z"},  # no minutes, no note
    ]
    for body in bodies:
        created = await client.post(url, json=body, headers=headers)
        assert created.status_code == 201, created.text
        answered = ContactRead.model_validate_json(created.content)
        expected = await _model_path(answered)  # the answer is what the model path makes of it
        assert created.content == expected.content
        assert created.headers["content-type"] == expected.headers["content-type"]
        assert created.headers["location"] == f"/api/v1/households/{household['id']}/contacts/{answered.id}"
        # ... and it describes the contact as stored (the time as the client sent it, the same instant)
        listed = (await client.get(url, headers=headers)).json()["items"]
        stored = ContactRead.model_validate(next(c for c in listed if c["id"] == str(answered.id)))
        assert answered == stored
        assert answered.occurred_at.utcoffset() == datetime.fromisoformat(body["occurred_at"]).utcoffset()


async def test_a_keyed_retry_replays_the_same_bytes(client: httpx.AsyncClient, world: World) -> None:
    household = await create_household(client, world)
    url = f"/api/v1/households/{household['id']}/contacts"
    headers = {**(await world.headers("generalist_a")), "Idempotency-Key": "contact-answer-1"}
    body = {"kind": "office", "occurred_at": "2026-02-05T08:00:00Z", "minutes": 5}
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == first.headers["content-type"]
