"""The floor for partner POSTs: a minimal Starlette + raw asyncpg endpoint doing the same database work.

    FLOOR_DSN=postgresql://... uvicorn bench.referrals.floor:app

``POST /api/v1/referrals`` as the app sends it now: the app's ONE statement, on its own (no BEGIN
or COMMIT; ``referrals.repository.SUBMIT_BY_BUURT_ALONE``: claim the Idempotency-Key together with
its answer, check the life domain, route the buurt to its team, insert the referral, its
transition, the outbox event with one delivery per matching subscription and the access-log row).
Like for like: the same SQL and round trips as the app, without the app's ORM session, pydantic,
JWT verification (the bearer token is looked up in a dict of the benchmark's partners) or
middleware; what is left is the database work and the HTTP server.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.domain.idempotency import repository as idempotency
from app.domain.referrals import repository as referrals
from app.domain.unit_of_work.access_log import ENTRY_COLUMNS
from app.domain.webhooks import outbox
from app.domain.webhooks.models import EventType

PARTNERS_SQL = """
    SELECT c.client_id, c.organisation_id FROM oauth_clients AS c
    WHERE c.client_id LIKE 'bench-partner-%' ORDER BY c.client_id
"""
SUBMIT = referrals.SUBMIT_BY_BUURT_ALONE
LEASE, RETENTION = timedelta(seconds=60), timedelta(hours=24)  # as the app's Idempotency-Key


def _problem(status: int, rule: str) -> Response:
    body = orjson.dumps({"type": f"urn:wijkwerk:problem:{rule}", "title": rule, "status": status})
    return Response(body, status, media_type="application/problem+json")


def _referral(partner: tuple[str, uuid.UUID], key: str, body: dict[str, Any], raw: bytes) -> dict[str, Any]:
    client_id, organisation_id = partner
    person = body["person"]
    birth = date.fromisoformat(person["birth_date"]) if person.get("birth_date") else None
    return referrals.new_row(
        {
            "id": uuid.uuid4(), "direction": "inbound", "status": "submitted",
            "organisation_id": organisation_id, "given_name": person["given_name"],
            "family_name": person.get("family_name"), "birth_date": birth,
            "shared_categories": ["identity"], "reason_domain": body["reason_domain"],
            "urgency": body["urgency"], "description": body.get("description"),
            "legal_basis": body["legal_basis"], "legal_basis_note": body.get("legal_basis_note"),
            "idempotency_scope": client_id, "idempotency_key": key,
            "request_hash": hashlib.sha256(raw).hexdigest(),
        }
    )  # fmt: skip


def _values(partner: tuple[str, uuid.UUID], key: str, row: dict[str, Any], raw: bytes, answer: bytes,
            token: uuid.UUID, place: str) -> dict[str, Any]:  # fmt: skip
    """The statement's values, named as the app names them."""
    client_id, organisation_id = partner
    now = datetime.now(UTC)
    transition = {"id": uuid.uuid4(), "side": "partner", "actor_subject": client_id, "worker_id": None,
                  "organisation_id": organisation_id, "occurred_at": now}  # fmt: skip
    data = {"referral_id": str(row["id"]), "direction": "inbound", "status": "submitted"}
    payload = outbox.payload(EventType.submitted, now, data)
    entry = {"id": uuid.uuid4(), "actor_subject": client_id, "actor_role": "partner", "client_id": client_id,
             "organisation_id": organisation_id, "resource": "referral", "resource_id": row["id"],
             "action": "create", "purpose": "referral"}  # fmt: skip
    location = f"/api/v1/referrals/{row['id']}"
    stored = idempotency.StoredAnswer(
        201, {"content-type": "application/json", "location": location}, answer, "referral", None, row["id"]
    )
    claim = idempotency.claim_params(
        owner=client_id, key=key, client_id=client_id, fingerprint=hashlib.sha256(raw).hexdigest(),
        claim_token=token, lease=LEASE, retention=RETENTION, answer=stored,
    )  # fmt: skip
    event = outbox.event_params(
        event_type=EventType.submitted, organisation_id=organisation_id, referral_id=row["id"],
        consent_id=None, body=payload,
    )  # fmt: skip
    values = {f"r_{c}": v for c, v in row.items() if c not in ("team_id", "buurt_id")}
    values |= {f"t_{k}": v for k, v in transition.items()}
    values |= {f"log_{name}": entry.get(name) for name in ENTRY_COLUMNS}
    return values | claim | event | {"buurt_code": place}


async def post_referral(request: Request) -> Response:
    partner = request.app.state.partners.get(request.headers.get("authorization", ""))
    key = request.headers.get("idempotency-key")
    if partner is None:
        return _problem(401, "unauthorized")
    if not key:
        return _problem(400, "idempotency_key_required")
    raw = await request.body()
    body: dict[str, Any] = orjson.loads(raw)
    row = _referral(partner, key, body, raw)
    answer = orjson.dumps(
        {"id": row["id"], "direction": "inbound", "status": "submitted", "person": body["person"],
         "buurt_code": body["buurt_code"], "created_at": row["created_at"],
         "transitions": [{"to_status": "submitted", "occurred_at": row["created_at"]}]}
    )  # fmt: skip
    token = uuid.uuid4()
    values = _values(partner, key, row, raw, answer, token, body["buurt_code"])
    pool: asyncpg.Pool = request.app.state.pool
    found = await pool.fetchrow(SUBMIT.sql, *SUBMIT.args(values))
    if found["key_claim"] != token:
        return _problem(409, "idempotency_key_in_flight")
    if not found["written"]:
        return _problem(422, "unknown_buurt")
    location = f"/api/v1/referrals/{row['id']}"
    return Response(answer, 201, media_type="application/json", headers={"location": location})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=4, max_size=10)
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
