"""The Idempotency-Key is claimed inside the request's own transaction: a duplicate of a request that
is still running is refused at once (409, no waiting), the claim commits with the answer, and a
request that fails leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlmodel import col, select

from app.api.idempotency import fingerprint
from app.domain.errors import ValidationFailed
from app.domain.idempotency import service
from app.domain.idempotency.models import IdempotencyKey, KeyState
from app.domain.idempotency.service import Claim, KeyRequest, Replay
from app.domain.unit_of_work.work import unit_of_work
from tests.referrals.helpers import Partnering

PATH = "/api/v1/referrals"


class _Abandon(Exception):
    """Rolls the holding transaction back."""


async def test_a_duplicate_of_a_running_request_is_409_at_once(p: Partnering) -> None:
    key, body = uuid.uuid4().hex, p.inbound_body()
    owner = p.world.clients["partner_a"].client_id
    with pytest.raises(_Abandon):
        async with unit_of_work(p.world.app.state.db, p.world.app.state.wiring) as uow:
            claim = await service.claim(
                uow, KeyRequest(owner, key, owner, fingerprint("POST", PATH, json.dumps(body).encode()))
            )
            assert isinstance(claim, Claim)
            # The first request's transaction is open: its duplicate must not wait for it.
            duplicate = await asyncio.wait_for(p.post_inbound(key=key), timeout=10)
            assert duplicate.status_code == 409
            assert duplicate.json()["type"] == "urn:wijkwerk:problem:idempotency_key_in_flight"
            raise _Abandon
    retry = await p.post_inbound(key=key)  # the first one died: its claim went with its transaction
    assert retry.status_code == 201


async def test_the_claim_commits_with_the_stored_answer(p: Partnering) -> None:
    key = uuid.uuid4().hex
    response = await p.post_inbound(key=key)
    owner = p.world.clients["partner_a"].client_id
    async with p.world.app.state.db.transaction() as session:
        stored = (
            await session.execute(
                select(IdempotencyKey).where(
                    col(IdempotencyKey.owner) == owner, col(IdempotencyKey.key) == key
                )
            )
        ).scalar_one()
    assert stored.state == KeyState.done and stored.locked_until is None
    assert stored.response_status == 201
    assert json.loads(stored.response_body or b"") == response.json()
    assert stored.resource == "referral" and stored.resource_id == uuid.UUID(response.json()["id"])


async def test_claiming_a_finished_key_replays_or_refuses_another_request(p: Partnering) -> None:
    key, body = uuid.uuid4().hex, p.inbound_body()
    owner = p.world.clients["partner_a"].client_id
    first = await p.post_inbound(key=key)
    same = fingerprint("POST", PATH, json.dumps(body).encode())
    async with unit_of_work(p.world.app.state.db, p.world.app.state.wiring) as uow:
        replay = await service.claim(uow, KeyRequest(owner, key, owner, same))
        assert isinstance(replay, Replay)
        assert json.loads(replay.stored.response_body or b"") == first.json()
        with pytest.raises(ValidationFailed) as refused:
            await service.claim(uow, KeyRequest(owner, key, owner, "0" * 64))
    assert refused.value.errors[0].rule == "idempotency_key_reused"


async def test_concurrent_duplicates_answer_201_or_409_and_one_referral_is_made(p: Partnering) -> None:
    key = uuid.uuid4().hex
    responses = await asyncio.gather(*(p.post_inbound(key=key) for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    owner = p.world.clients["partner_a"].client_id
    async with p.world.app.state.db.transaction() as session:
        states = (
            await session.execute(
                select(col(IdempotencyKey.state)).where(
                    col(IdempotencyKey.owner) == owner, col(IdempotencyKey.key) == key
                )
            )
        ).all()
    assert [s for (s,) in states] == [KeyState.done]
