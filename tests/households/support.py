"""Helpers for the household tests: everything goes through the real HTTP API with real tokens."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from joserfc import jwt
from sqlalchemy import func, select, text
from sqlmodel import col

from app.domain.identity.keys import SIGNING_ALGORITHMS
from app.domain.identity.tokens import TokenVerifier
from app.domain.organisation.models import Worker, WorkerTeam
from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.factories import World, next_code

# Valid BSNs (eleven-test) used across tests; use ``fresh_bsn()`` when a test needs one nobody else has.
BSN_1 = "111222333"
BSN_2 = "123456782"


def fresh_bsn() -> str:
    """A random number that passes the eleven-test."""
    while True:
        digits = f"{random.randrange(10**8, 10**9):09d}"
        total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
        if total % 11 == 0:
            return digits


def household_body(world: World, *, team: str = "a", **extra: Any) -> dict[str, Any]:
    buurt = world.buurten[0] if team == "a" else world.buurten[2]
    body: dict[str, Any] = {
        "postcode": "1234 ab",
        "house_number": next_code() % 500 + 1,
        "buurt_code": buurt.code,
    }
    body.update(extra)
    return body


async def create_household(
    client: httpx.AsyncClient, world: World, actor: str = "generalist_a", **extra: Any
) -> dict[str, Any]:
    team = extra.pop("team", "a")
    response = await client.post(
        "/api/v1/households",
        json=household_body(world, team=team, **extra),
        headers=await world.headers(actor),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def etag(
    client: httpx.AsyncClient, world: World, household_id: Any, actor: str = "generalist_a"
) -> str:
    response = await client.get(f"/api/v1/households/{household_id}", headers=await world.headers(actor))
    assert response.status_code == 200, response.text
    return str(response.headers["etag"])


def worker_id(world: World, name: str) -> uuid.UUID:
    worker = world.people[name].worker
    assert worker is not None
    return worker.id


async def expired_token(world: World, actor: str = "generalist_a") -> str:
    """A token signed with the real key whose lifetime ended an hour ago."""
    token = await world.token(actor)
    verifier: TokenVerifier = world.app.state.token_verifier
    keyring = await verifier.keys()
    claims = jwt.decode(token, keyring.signing_key, algorithms=list(SIGNING_ALGORITHMS)).claims
    past = int((datetime.now(UTC) - timedelta(hours=2)).timestamp())
    claims.update(iat=past, nbf=past, exp=past + 900)
    header = {"alg": keyring.signing_key.alg, "typ": "at+jwt", "kid": keyring.signing_key.kid}
    return jwt.encode(header, claims, keyring.signing_key, algorithms=list(SIGNING_ALGORITHMS))


async def add_worker(
    world: World, name: str, *, team: str = "a", role: str = "generalist", bsn_read: bool = False
) -> None:
    """One more worker (and user) in a team, e.g. one granted bsn:read."""
    n = next_code()
    async with world.app.state.db.transaction() as session:
        worker = Worker(name=f"{name} {n}", role=role)
        session.add(worker)
        await session.flush()
        session.add(WorkerTeam(worker_id=worker.id, team_id=world.teams[team].id))
        await world.add_user(session, name, role, n, worker=worker, bsn_read=bsn_read)


async def access_rows(world: World, **where: Any) -> list[dict[str, Any]]:
    async with world.app.state.db.transaction() as session:
        query = select(AccessLogEntry)
        for name, value in where.items():
            query = query.where(col(getattr(AccessLogEntry, name)) == value)
        rows = (await session.execute(query.order_by(col(AccessLogEntry.occurred_at)))).scalars().all()
        return [row.model_dump() for row in rows]


async def count_rows(world: World, table: str, **where: Any) -> int:
    clauses = " AND ".join(f"{k} = :{k}" for k in where) or "true"
    async with world.app.state.db.transaction() as session:
        return int(await session.scalar(text(f"SELECT count(*) FROM {table} WHERE {clauses}"), where) or 0)


__all__ = ["func"]


# -- sync ----------------------------------------------------------------------------------------------


async def settle(world: World) -> None:
    """Wait until every transaction that started before now has finished, anywhere on the server.

    The watermark is cluster-wide (transaction ids are), so a change is only due once every older
    transaction on the server has ended, exactly what the contract promises. Each xdist worker runs
    a server of its own (tests/conftest.py); on a shared one (``TEST_DATABASE_URL``) another run's
    long transaction may hold a change back for as long as it lasts."""
    async with world.app.state.db.transaction() as session:
        marker = int(await session.scalar(text("SELECT pg_current_xact_id()::text::bigint")) or 0)
    for _ in range(1200):
        async with world.app.state.db.sessionmaker() as session:
            xmin = int(
                await session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
                or 0
            )
        if xmin > marker:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("an older transaction on the server did not finish within 60 s")


async def sync_all(
    client: httpx.AsyncClient, world: World, actor: str, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """Follow has_more to the end; returns upserts/tombstones keyed by (entity, id), the last cursor
    and whether any page said reset. Waits for older transactions first (see ``settle``)."""
    await settle(world)
    upserts: dict[tuple[str, str], dict[str, Any]] = {}
    tombstones: set[tuple[str, str]] = set()
    reset = False
    pages = 0
    headers = await world.headers(actor)
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/api/v1/sync", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        reset = reset or page["reset"]
        for item in page["upserts"]:
            upserts[(item["entity"], item["id"])] = item
        tombstones |= {(t["entity"], t["id"]) for t in page["tombstones"]}
        cursor = page["cursor"]
        if not page["has_more"]:
            return {
                "upserts": upserts,
                "tombstones": tombstones,
                "cursor": cursor,
                "reset": reset,
                "pages": pages,
            }


def households(result: dict[str, Any]) -> set[str]:
    return {i for (e, i) in result["upserts"] if e == "household"}
