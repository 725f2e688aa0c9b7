"""The floor for partner POSTs: a minimal Starlette + raw asyncpg endpoint doing the same database work.

    FLOOR_DSN=postgresql://... uvicorn bench.referrals.floor:app

``POST /api/v1/referrals`` in ONE transaction: claim the Idempotency-Key (INSERT ... ON CONFLICT),
route the buurt to its team and check the life domain, insert the referral, its transition row, the
outbox event with one delivery per matching subscription, the access-log row, and store the answer
on the key. No ORM, no pydantic, no JWT verification (the bearer token is looked up in a dict of the
benchmark's partners): what is left is the database work and the HTTP server.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PARTNERS_SQL = """
    SELECT c.client_id, c.organisation_id FROM oauth_clients AS c
    WHERE c.client_id LIKE 'bench-partner-%' ORDER BY c.client_id
"""
CLAIM = """
    INSERT INTO idempotency_keys (owner, key, client_id, fingerprint, state, claim_token, locked_until,
                                  created_at, expires_at)
    VALUES ($1, $2, $1, $3, 'in_flight', $4, now() + interval '60 seconds', now(),
            now() + interval '24 hours')
    ON CONFLICT (owner, key) DO NOTHING RETURNING claim_token
"""
ROUTE = """
    SELECT a.id, t.team_id, EXISTS (SELECT 1 FROM life_domains WHERE code = $2 AND active)
    FROM areas AS a LEFT JOIN team_areas AS t ON t.area_id = a.id WHERE a.code = $1 AND a.level = 'buurt'
"""
REFERRAL = """
    INSERT INTO referrals (id, direction, status, organisation_id, team_id, buurt_id, given_name, family_name,
        birth_date, shared_categories, reason_domain, urgency, description, legal_basis, legal_basis_note,
        idempotency_scope, idempotency_key, request_hash)
    VALUES ($1, 'inbound', 'submitted', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
    RETURNING created_at
"""
TRANSITION = """
    INSERT INTO referral_transitions (id, referral_id, from_status, to_status, side, actor_subject,
                                      organisation_id, occurred_at)
    VALUES ($1, $2, NULL, 'submitted', 'partner', $3, $4, $5)
"""
OUTBOX = """
    WITH new_event AS (
        INSERT INTO webhook_events (id, event_type, organisation_id, referral_id, payload)
        VALUES ($1, 'referral.submitted', $2, $3, $4::jsonb) RETURNING id
    )
    INSERT INTO webhook_deliveries (id, event_id, subscription_id, status)
    SELECT gen_random_uuid(), new_event.id, s.id, 'pending' FROM new_event JOIN webhook_subscriptions AS s
      ON s.organisation_id = $2 AND s.active AND 'referral.submitted' = ANY(s.event_types)
"""
ACCESS_LOG = """
    INSERT INTO access_log (id, actor_subject, actor_role, client_id, organisation_id, resource, resource_id,
                            action, purpose, outcome)
    VALUES ($1, $2, 'partner', $2, $3, 'referral', $4, 'create', 'referral', 'allowed')
"""
COMPLETE = """
    UPDATE idempotency_keys SET state = 'done', locked_until = NULL, response_status = 201,
        response_headers = $4::jsonb, response_body = $5, resource = 'referral', resource_id = $6
    WHERE owner = $1 AND key = $2 AND claim_token = $3
"""


def _problem(status: int, rule: str) -> Response:
    body = orjson.dumps({"type": f"urn:wijkwerk:problem:{rule}", "title": rule, "status": status})
    return Response(body, status, media_type="application/problem+json")


async def _setup(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec("jsonb", encoder=lambda v: v, decoder=orjson.loads, schema="pg_catalog")


async def post_referral(request: Request) -> Response:
    partner = request.app.state.partners.get(request.headers.get("authorization", ""))
    key = request.headers.get("idempotency-key")
    if partner is None:
        return _problem(401, "unauthorized")
    if not key:
        return _problem(400, "idempotency_key_required")
    client_id, organisation_id = partner
    raw = await request.body()
    body: dict[str, Any] = orjson.loads(raw)
    person = body["person"]
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection, connection.transaction():
        token = await connection.fetchval(
            CLAIM, client_id, key, hashlib.sha256(raw).hexdigest(), uuid.uuid4()
        )
        if token is None:
            return _problem(409, "idempotency_key_in_flight")
        route = await connection.fetchrow(ROUTE, body["buurt_code"], body["reason_domain"])
        if route is None or route[1] is None or not route[2]:
            return _problem(422, "unknown_buurt")
        referral_id, now = uuid.uuid4(), datetime.now(UTC)
        birth = (
            datetime.strptime(person["birth_date"], "%Y-%m-%d").date() if person.get("birth_date") else None
        )
        created = await connection.fetchval(
            REFERRAL, referral_id, organisation_id, route[1], route[0], person["given_name"],
            person.get("family_name"), birth, ["identity"], body["reason_domain"], body["urgency"],
            body.get("description"), body["legal_basis"], body.get("legal_basis_note"), client_id, key,
            hashlib.sha256(raw).hexdigest(),
        )  # fmt: skip
        await connection.execute(TRANSITION, uuid.uuid4(), referral_id, client_id, organisation_id, now)
        data = {"referral_id": str(referral_id), "direction": "inbound", "status": "submitted"}
        payload = {"type": "referral.submitted", "timestamp": now.isoformat(), "data": data}
        await connection.execute(
            OUTBOX, uuid.uuid4(), organisation_id, referral_id, orjson.dumps(payload).decode()
        )
        await connection.execute(ACCESS_LOG, uuid.uuid4(), client_id, organisation_id, referral_id)
        transitions = [{"to_status": "submitted", "occurred_at": now}]
        answer = orjson.dumps(
            {"id": referral_id, "direction": "inbound", "status": "submitted", "person": person,
             "buurt_code": body["buurt_code"], "created_at": created, "transitions": transitions}
        )  # fmt: skip
        location = f"/api/v1/referrals/{referral_id}"
        headers = orjson.dumps({"content-type": "application/json", "location": location}).decode()
        await connection.execute(COMPLETE, client_id, key, token, headers, answer, referral_id)
    return Response(answer, 201, media_type="application/json", headers={"location": location})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=4, max_size=10, init=_setup)
    rows = await app.state.pool.fetch(PARTNERS_SQL)
    tokens = os.environ["FLOOR_TOKENS"].split(",")
    # The benchmark's tokens are minted for the partners in client-id order.
    app.state.partners = {f"Bearer {t}": (r[0], r[1]) for t, r in zip(tokens, rows, strict=True)}
    try:
        yield
    finally:
        await app.state.pool.close()


async def healthz(_: Request) -> Response:
    return Response(b"ok")


app = Starlette(
    routes=[Route("/api/v1/referrals", post_referral, methods=["POST"]), Route("/healthz", healthz)],
    lifespan=lifespan,
)
