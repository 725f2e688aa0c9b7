"""Builders for the purge tests: real rows in the real database, placed just before or just after
each category's cutoff (measured on the database clock), and small queries to see what is left."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.households.models import ContactMoment, Household, HouseholdAssignment
from app.domain.idempotency.models import IdempotencyKey
from app.domain.identity.models import AuthorizationCode, RefreshToken, UsedClientAssertion
from app.domain.plans.models import Plan, PlanAction
from app.domain.referrals.models import Referral, ReferralTransition
from app.domain.retention.rules import Category, Terms
from app.domain.support_network.models import NetworkPerson
from app.domain.unit_of_work.change_feed import CaseChange
from app.domain.unit_of_work.work import Wiring
from app.domain.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from app.settings import Settings
from tests.referrals.helpers import Home, Partnering

# How far from a cutoff the "just expired" and "just kept" rows lie. The purge reads the clock a moment
# after the test does, so its cutoff lies a little later: a minute is far more than that moment.
MARGIN = timedelta(minutes=1)


@dataclass
class Estate(Partnering):
    """Partnering's household, consent and referral helpers, plus rows at chosen ages."""

    settings: Settings

    @property
    def db(self) -> Any:
        return self.world.app.state.db

    @property
    def wiring(self) -> Wiring:
        wiring: Wiring = self.world.app.state.wiring
        return wiring

    async def now(self) -> datetime:
        async with self.db.transaction() as session:
            moment = await session.scalar(sa.select(sa.func.now()))
        assert isinstance(moment, datetime)
        return moment

    async def cutoff(self, category: Category) -> datetime:
        """The moment before which rows of ``category`` are due now (for the partitioned change feed
        and access log, the start of a month)."""
        return Terms.from_settings(self.settings).cutoffs(await self.now())[category]

    async def add(self, *rows: Any) -> None:
        async with self.db.transaction() as session:
            session.add_all(rows)

    async def update(self, model: Any, key: Any, **values: Any) -> None:
        """Set columns directly (backdating: nothing in the API writes the past)."""
        table = table_of(model)
        pk = _key(table)
        async with self.db.transaction() as session:
            await session.execute(sa.update(table).where(pk == key).values(**values))

    async def close(self, home: Home | uuid.UUID, at: datetime) -> uuid.UUID:
        household_id = home.id if isinstance(home, Home) else home
        await self.update(Household, household_id, status="closed", closing_reason="moved", closed_at=at)
        return household_id

    async def exists(self, model: Any, key: Any) -> bool:
        return await self.count(model, _key(table_of(model)) == key) == 1

    # -- case rows ----------------------------------------------------------------------------------

    async def contact(self, household_id: uuid.UUID, occurred_at: datetime, note: str | None) -> uuid.UUID:
        contact = ContactMoment(
            household_id=household_id, kind="home_visit", occurred_at=occurred_at, minutes=45, note=note
        )
        await self.add(contact)
        return contact.id

    async def network_person(self, household_id: uuid.UUID, label: str = "buurvrouw") -> uuid.UUID:
        person = NetworkPerson(household_id=household_id, label=label, relation="neighbour")
        await self.add(person)
        return person.id

    async def full_file(self) -> dict[str, Any]:
        """A household with something in every table under it, made through the API where another
        context owns the route: consent, outbound referral carrying a plan action (and its webhook
        events), network person, contact with a note, assessment; plus an assignment."""
        home = await self.household()
        consent = await self.consent(home)
        first = Plan(household_id=home.id, revision=1, status="superseded")
        await self.add(first)
        plan = Plan(household_id=home.id, revision=2, supersedes_id=first.id)  # versions point back
        await self.add(plan)
        action = PlanAction(plan_id=plan.id, description="Aanmelding schuldhulp", performer_kind="partner")
        await self.add(action)
        referral = await self.outbound(home, plan_action_id=str(action.id), consent_id=consent["id"])
        headers = await self.world.headers("generalist_a")
        base = f"/api/v1/households/{home.id}"
        posts = {
            "/network": {"label": "tante", "relation": "family", "support_kinds": ["practical"]},
            "/contacts": {
                "kind": "phone",
                "occurred_at": "2026-01-05T10:00:00Z",
                "note": "Gesprek over huur.",
            },
            "/assessments": {"assessed_on": "2026-01-15", "scores": [{"domain": "finances", "score": 2}]},
        }
        for path, body in posts.items():
            response = await self.client.post(base + path, json=body, headers=headers)
            assert response.status_code == 201, response.text
        worker = self.world.people["generalist_a2"].worker
        assert worker is not None
        await self.add(HouseholdAssignment(household_id=home.id, worker_id=worker.id))
        # An event resting on the consent alone (no referral): it must go with the consent.
        await self.add(
            WebhookEvent(
                event_type="referral.message",
                organisation_id=self.world.organisations["a"].id,
                consent_id=uuid.UUID(consent["id"]),
                payload={},
            )
        )
        ids = {"referral": uuid.UUID(referral["id"]), "consent": uuid.UUID(consent["id"])}
        assert await self.events_for(ids["referral"], [ids["consent"]]) >= 2
        return {"home": home, "plans": [first.id, plan.id], **ids}

    async def unlinked_referral(self, status: str, updated_at: datetime) -> uuid.UUID:
        """An inbound referral that never joined a file, with one transition."""
        referral = Referral(
            direction="inbound",
            status=status,
            organisation_id=self.world.organisations["a"].id,
            team_id=self.world.teams["a"].id,
            given_name="Sanne",
            family_name="Jansen",
            reason_domain="finances",
            legal_basis="legal_duty",
            status_reason="Past niet bij het team." if status in {"declined", "cancelled"} else None,
        )
        await self.add(referral)
        await self.add(
            ReferralTransition(
                referral_id=referral.id, to_status="submitted", side="partner", actor_subject="p"
            )
        )
        await self.update(Referral, referral.id, updated_at=updated_at)
        return referral.id

    # -- technical rows -----------------------------------------------------------------------------

    async def outbox_event(self, created_at: datetime, delivery: str | None = None) -> uuid.UUID:
        organisation = self.world.organisations["a"].id
        event = WebhookEvent(event_type="referral.accepted", organisation_id=organisation, payload={})
        await self.add(event)
        if delivery is not None:
            subscription = WebhookSubscription(
                organisation_id=organisation,
                created_by_client_id="partner",
                url="https://partner.example/hook",
                event_types=["referral.accepted"],
                secret_encrypted="x",
            )
            await self.add(subscription)
            await self.add(
                WebhookDelivery(event_id=event.id, subscription_id=subscription.id, status=delivery)
            )
        await self.update(WebhookEvent, event.id, created_at=created_at)
        return event.id

    async def idempotency_key(self, expires_at: datetime) -> str:
        key = secrets.token_hex(8)
        row = IdempotencyKey(
            owner="retention-test",
            key=key,
            client_id="mobile",
            fingerprint="0" * 64,
            state="done",
            claim_token=uuid.uuid4(),
            response_body=b'{"given_name": "Ina"}',
            expires_at=expires_at,
        )
        await self.add(row)
        return key

    async def client_assertion(self, expires_at: datetime) -> str:
        jti = secrets.token_hex(8)
        await self.add(UsedClientAssertion(client_id="retention-test", jti=jti, expires_at=expires_at))
        return jti

    async def authorization_code(self, expires_at: datetime) -> str:
        code_hash = secrets.token_hex(32)
        await self.add(
            AuthorizationCode(
                code_hash=code_hash,
                client_id=self.world.clients["mobile_app"].client_id,
                user_id=self.world.people["generalist_a"].user.id,
                redirect_uri="http://127.0.0.1/callback",
                scope="cases:read",
                code_challenge="c" * 43,
                expires_at=expires_at,
            )
        )
        return code_hash

    async def refresh_token(self, expires_at: datetime) -> uuid.UUID:
        """A lone refresh token whose family ends at ``expires_at`` (tests/retention/test_refresh_tokens.py
        ends families through the real sign-in and refresh flow)."""
        token = RefreshToken(
            token_hash=secrets.token_hex(32),
            family_id=uuid.uuid4(),
            client_id=self.world.clients["mobile_app"].client_id,
            user_id=self.world.people["generalist_a"].user.id,
            role=self.world.people["generalist_a"].user.role,
            scope="cases:read",
            expires_at=expires_at,
            idle_expires_at=expires_at,
        )
        await self.add(token)
        return token.id

    async def change_row(self, household_id: uuid.UUID, changed_at: datetime) -> tuple[int, int]:
        """One change-feed row (its own transaction), then backdated; returns (seq, txid)."""
        async with self.db.transaction() as session:
            row = (
                await session.execute(
                    sa.insert(CaseChange)
                    .values(
                        household_id=household_id, entity="household", entity_id=household_id, op="upsert"
                    )
                    .returning(col(CaseChange.seq), col(CaseChange.txid))
                )
            ).one()
        await self.update(CaseChange, row[0], changed_at=changed_at)
        return int(row[0]), int(row[1])

    async def plan_rows(self, plan_id: uuid.UUID) -> int:
        return await self.count(Plan, col(Plan.id) == plan_id) + await self.count(
            PlanAction, col(PlanAction.plan_id) == plan_id
        )

    async def events_for(self, referral_id: uuid.UUID, consent_ids: list[uuid.UUID]) -> int:
        return await self.count(
            WebhookEvent,
            sa.or_(
                col(WebhookEvent.referral_id) == referral_id, col(WebhookEvent.consent_id).in_(consent_ids)
            ),
        )

    async def note_of(self, contact_id: uuid.UUID) -> tuple[str | None, int]:
        async with self.db.transaction() as session:
            row = (
                await session.execute(
                    select(ContactMoment.note, ContactMoment.minutes).where(
                        col(ContactMoment.id) == contact_id
                    )
                )
            ).one()
        return row[0], row[1]


def _key(table: sa.Table) -> Any:
    """The column that identifies a row: the first of the primary key (a partitioned table, such as
    the change feed, adds its partition key after it)."""
    return next(iter(table.primary_key.columns))
