"""A state-machine property test of the referral lifecycle against the real services and database.

Hypothesis drives random sequences of submissions and transition attempts, by the sender, the
recipient and outsiders, with and without the required texts. The model below is the lifecycle as
specified (FHIR Task), written out independently of ``app.domain.referrals.rules``. After every step:
the stored status is the model's, the transition trail is a legal path, and there is exactly one
outbox event per transition (none for a refused attempt).

The services are async; Hypothesis is not. The machine runs its own event loop and engine, in a plain
(sync) test, outside the loop pytest-asyncio runs the other tests on.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlmodel import col

from app.db import Database
from app.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.domain.referrals import intake, service
from app.domain.referrals.models import Referral, ReferralTransition
from app.domain.referrals.schemas import InboundReferralCreate, OutboundReferralCreate, TransitionCreate
from app.domain.unit_of_work.work import unit_of_work
from app.domain.webhooks.models import WebhookEvent
from app.security.principal import Principal
from app.settings import Settings
from tests.factories import World
from tests.referrals.helpers import Home, Partnering, submit_directly

T = TypeVar("T")

SPEC: dict[str, set[str]] = {
    "submitted": {"accepted", "declined", "cancelled"},
    "accepted": {"in_progress", "cancelled"},
    "in_progress": {"completed", "cancelled"},
    "declined": set(),
    "completed": set(),
    "cancelled": set(),
}
STATUSES = sorted(SPEC)


def expected(direction: str, current: str, target: str, role: str, with_text: bool) -> type[Exception] | None:
    """What the service must answer, from the specification alone (None: the change happens)."""
    if role == "outsider":
        return NotFound
    if target not in SPEC[current]:
        return Conflict
    # The recipient accepts, declines, starts and completes; the sender cancels, and so may the
    # recipient once the work was accepted.
    allowed = (role == "sender" or current != "submitted") if target == "cancelled" else role == "recipient"
    if not allowed:
        return Forbidden
    needs_text = target in ("declined", "cancelled", "completed")
    return ValidationFailed if needs_text and not with_text else None


@pytest.fixture(scope="module")
async def module_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture(scope="module")
async def cast(shared_world: World, app: FastAPI, module_client: httpx.AsyncClient) -> dict[str, Any]:
    verifier = app.state.token_verifier
    principals = {
        name: await verifier.verify(await shared_world.token(name))
        for name in ("generalist_a", "generalist_b", "partner_a", "partner_b")
    }
    helper = Partnering(shared_world, module_client)
    homes = {"a": await helper.household(team="a"), "b": await helper.household(team="b")}
    for partner in ("partner_a", "partner_b"):
        await helper.consent(homes["a"], partner=partner, categories=("identity",))
    return {"principals": principals, "homes": homes}


def test_no_sequence_of_calls_breaks_the_lifecycle(
    shared_world: World, cast: dict[str, Any], migrated: str, settings: Settings
) -> None:
    loop = asyncio.new_event_loop()
    db = Database(migrated, settings)
    principals: dict[str, Principal] = cast["principals"]
    homes: dict[str, Home] = cast["homes"]
    world = shared_world

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(coroutine)

    class Lifecycle(RuleBasedStateMachine):
        referrals = Bundle("referrals")

        def __init__(self) -> None:
            super().__init__()
            self.model: dict[uuid.UUID, dict[str, Any]] = {}

        @precondition(lambda self: len(self.model) < 3)  # few referrals, long lives
        @rule(
            target=referrals,
            direction=st.sampled_from(["inbound", "outbound"]),
            partner=st.sampled_from(["partner_a", "partner_b"]),
        )
        def submit(self, direction: str, partner: str) -> uuid.UUID:
            if direction == "inbound":
                return self._refer_in(partner)
            return self._refer_out(partner)

        @rule(referral=referrals, data=st.data())
        def attempt(self, referral: uuid.UUID, data: st.DataObject) -> None:
            # Half the time aim at a legal next status, so that runs get deep into the lifecycle;
            # the other half anything at all. Mostly the right party, mostly with the texts.
            current = self.model[referral]["status"]
            onward = sorted(SPEC[current]) or STATUSES
            target = data.draw(st.one_of(st.sampled_from(onward), st.sampled_from(STATUSES)), label="to")
            role = data.draw(st.sampled_from(["recipient", "recipient", "sender", "outsider"]), label="role")
            with_text = data.draw(st.sampled_from([True, True, True, False]), label="with_text")
            which = data.draw(st.integers(0, 1), label="which outsider")
            entry = self.model[referral]
            actor = entry["outsiders"][which] if role == "outsider" else entry[role]
            body: dict[str, Any] = {"status": target}
            if with_text and target in ("declined", "cancelled"):
                body["reason"] = "Reden."
            if with_text and target == "completed":
                body["outcome"] = "Uitkomst."
            if entry["direction"] == "inbound" and target == "accepted" and role == "recipient":
                body["household_id"] = homes[entry["recipient"][-1]].id
            want = expected(entry["direction"], entry["status"], target, role, with_text)
            events_before = run(self._count(WebhookEvent, WebhookEvent.referral_id == referral))
            try:
                run(
                    self._in_tx(
                        service.transition, principals[actor], referral, TransitionCreate.model_validate(body)
                    )
                )
                got: type[Exception] | None = None
            except (Conflict, Forbidden, NotFound, ValidationFailed) as error:
                got = type(error)
            assert got is want, (entry["direction"], entry["status"], target, role, with_text, got, want)
            if got is None:
                entry["status"] = target
                entry["transitions"] += 1
            events_after = run(self._count(WebhookEvent, WebhookEvent.referral_id == referral))
            assert events_after == events_before + (1 if got is None else 0)

        @invariant()
        def stored_state_is_the_model_and_a_legal_path(self) -> None:
            if self.model:
                run(self._check_all())

        # -- helpers --------------------------------------------------------------------------------

        def _refer_in(self, partner: str) -> uuid.UUID:
            team = "a" if partner == "partner_a" else "b"
            body = InboundReferralCreate.model_validate(
                {
                    "person": {"given_name": "Eva"},
                    "buurt_code": world.buurten[0 if team == "a" else 2].code,
                    "reason_domain": "finances",
                    "legal_basis": "legal_duty",
                    "legal_basis_note": "Wgs",
                }
            )
            submitted = run(self._in_tx(submit_directly, principals[partner], body, key=uuid.uuid4().hex))
            return self._track(submitted.read.id, "inbound", sender=partner, recipient=f"generalist_{team}")

        def _refer_out(self, partner: str) -> uuid.UUID:
            home = homes["a"]
            body = OutboundReferralCreate(
                member_id=home.members[0],
                organisation_id=world.organisations[partner[-1]].id,
                reason_domain="finances",
                legal_basis="consent",
            )
            read = run(self._in_tx(intake.refer_outbound, principals["generalist_a"], home.id, body))
            return self._track(read[0].id, "outbound", sender="generalist_a", recipient=partner)

        def _track(self, referral_id: uuid.UUID, direction: str, *, sender: str, recipient: str) -> uuid.UUID:
            self.model[referral_id] = {
                "direction": direction,
                "status": "submitted",
                "sender": sender,
                "recipient": recipient,
                "outsiders": sorted(set(principals) - {sender, recipient}),
                "transitions": 1,
            }
            return referral_id

        async def _in_tx(self, function: Any, *args: Any, **kwargs: Any) -> Any:
            async with unit_of_work(db, world.app.state.wiring) as uow:
                return await function(uow, *args, **kwargs)

        async def _count(self, model: Any, *where: Any) -> int:
            async with db.transaction() as session:
                return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        async def _check_all(self) -> None:
            ids = list(self.model)
            async with db.transaction() as session:
                query = select(col(Referral.id), col(Referral.status)).where(col(Referral.id).in_(ids))
                stored = {row[0]: row[1] for row in await session.execute(query)}
                trails: dict[uuid.UUID, list[tuple[str | None, str]]] = {i: [] for i in ids}
                rows = await session.execute(
                    select(
                        col(ReferralTransition.referral_id),
                        col(ReferralTransition.from_status),
                        col(ReferralTransition.to_status),
                    )
                    .where(col(ReferralTransition.referral_id).in_(ids))
                    .order_by(col(ReferralTransition.occurred_at), col(ReferralTransition.id))
                )
                for referral_id, before, after in rows:
                    trails[referral_id].append((before, after))
                counted = (
                    select(col(WebhookEvent.referral_id), func.count())
                    .where(col(WebhookEvent.referral_id).in_(ids))
                    .group_by(col(WebhookEvent.referral_id))
                )
                events = {row[0]: row[1] for row in await session.execute(counted)}
            for referral_id, entry in self.model.items():
                assert stored[referral_id] == entry["status"]
                trail = trails[referral_id]
                assert trail[0] == (None, "submitted")
                for (_, reached), (left, arrived) in itertools.pairwise(trail):
                    assert left == reached and arrived in SPEC[left]
                assert trail[-1][1] == entry["status"]
                assert len(trail) == entry["transitions"] == events[referral_id]

    try:
        run_state_machine_as_test(
            Lifecycle,
            settings=hypothesis_settings(
                max_examples=30,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
