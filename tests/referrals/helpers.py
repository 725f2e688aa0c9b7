"""Helpers for referral, consent and webhook tests: households made in the database (another context
owns their routes), everything under test through the real HTTP API with real tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from app.domain.areas.models import PostcodeArea
from app.domain.households.models import Household, Member
from app.domain.idempotency.repository import StoredAnswer
from app.domain.idempotency.service import KeyRequest
from app.domain.referrals import intake
from app.domain.referrals.schemas import InboundReferralCreate
from app.domain.unit_of_work.work import UnitOfWork
from app.domain.webhooks.models import WebhookEvent
from app.security.principal import Principal
from tests.factories import World, next_code


@dataclass
class Home:
    id: uuid.UUID
    members: list[uuid.UUID]


@dataclass
class Partnering:
    world: World
    client: httpx.AsyncClient

    async def household(
        self, *, team: str = "a", confidential: bool = False, coordinator: str | None = None
    ) -> Home:
        world = self.world
        buurt = world.buurten[0] if team == "a" else world.buurten[2]
        coordinator_person = world.people[coordinator] if coordinator else None
        async with world.app.state.db.transaction() as session:
            household = Household(
                reference=f"HT-{next_code()}-{uuid.uuid4().hex[:6]}",
                team_id=world.teams[team].id,
                buurt_id=buurt.id,
                postcode="1234AB",
                house_number=next_code() % 300 + 1,
                status="active",
                confidential=confidential,
                coordinator_id=coordinator_person.worker.id
                if coordinator_person and coordinator_person.worker
                else None,
            )
            session.add(household)
            await session.flush()
            members = [
                Member(
                    household_id=household.id,
                    given_name="Anna",
                    family_name="de Vries",
                    birth_date=date(1980, 5, 17),
                    role="parent",
                ),
                Member(household_id=household.id, given_name="Bram", role="child"),
            ]
            session.add_all(members)
            await session.flush()
            return Home(household.id, [m.id for m in members])

    async def map_postcode(self, postcode: str, buurt_index: int) -> None:
        async with self.world.app.state.db.transaction() as session:
            session.add(
                PostcodeArea(
                    year=2026,
                    postcode=postcode,
                    house_number_from=1,
                    house_number_to=99_999,
                    area_id=self.world.buurten[buurt_index].id,
                )
            )

    # -- requests -----------------------------------------------------------------------------------

    def inbound_body(self, *, buurt_index: int = 0, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "person": {"given_name": "Sanne", "family_name": "Jansen", "birth_date": "1990-02-03"},
            "buurt_code": self.world.buurten[buurt_index].code,
            "reason_domain": "finances",
            "urgency": "urgent",
            "description": "Twee maanden huurachterstand.",
            "legal_basis": "legal_duty",
            "legal_basis_note": "Wgs: vroegsignalering",
        }
        body.update(overrides)
        return body

    async def post_inbound(
        self, partner: str = "partner_a", *, key: str | None = None, **overrides: Any
    ) -> httpx.Response:
        headers = {**await self.world.headers(partner), "Idempotency-Key": key or uuid.uuid4().hex}
        return await self.client.post(
            "/api/v1/referrals", json=self.inbound_body(**overrides), headers=headers
        )

    async def inbound(self, partner: str = "partner_a", **overrides: Any) -> dict[str, Any]:
        response = await self.post_inbound(partner, **overrides)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def consent(
        self,
        home: Home,
        *,
        partner: str = "partner_a",
        purpose: str = "finances",
        categories: tuple[str, ...] = ("identity", "address"),
        actor: str = "generalist_a",
        member: int = 0,
    ) -> dict[str, Any]:
        body = {
            "member_id": str(home.members[member]),
            "organisation_id": str(self.world.organisations[partner[-1]].id),
            "purpose": purpose,
            "categories": list(categories),
        }
        response = await self.client.post(
            f"/api/v1/households/{home.id}/consents", json=body, headers=await self.world.headers(actor)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def outbound_body(self, home: Home, *, partner: str = "partner_a", **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "member_id": str(home.members[0]),
            "organisation_id": str(self.world.organisations[partner[-1]].id),
            "reason_domain": "finances",
            "description": "Schuldhulp gewenst.",
            "legal_basis": "consent",
        }
        body.update(overrides)
        return body

    async def post_outbound(
        self, home: Home, *, actor: str = "generalist_a", partner: str = "partner_a", **overrides: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/households/{home.id}/referrals",
            json=self.outbound_body(home, partner=partner, **overrides),
            headers=await self.world.headers(actor),
        )

    async def outbound(self, home: Home, **kwargs: Any) -> dict[str, Any]:
        response = await self.post_outbound(home, **kwargs)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def move(self, referral_id: str, actor: str, status: str, **fields: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/referrals/{referral_id}/transitions",
            json={"status": status, **fields},
            headers=await self.world.headers(actor),
        )

    async def get(self, path: str, actor: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, headers=await self.world.headers(actor), params=params)

    async def events_of(self, referral_id: str | uuid.UUID) -> list[str]:
        async with self.world.app.state.db.transaction() as session:
            rows = await session.execute(
                select(col(WebhookEvent.event_type))
                .where(col(WebhookEvent.referral_id) == uuid.UUID(str(referral_id)))
                .order_by(col(WebhookEvent.created_at))
            )
            return [r[0] for r in rows]

    async def count(self, model: Any, *where: Any) -> int:
        async with self.world.app.state.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def submit_directly(
    uow: UnitOfWork, principal: Principal, body: InboundReferralCreate, *, key: str, owner: str | None = None
) -> intake.Inbound:
    """``intake.prepare_inbound`` and ``submit_inbound`` below HTTP (the answer stored with the key is
    a stand-in); ``owner`` claims the key in another caller's key store (the referral keeps the real
    caller's)."""
    wanted = KeyRequest(owner or principal.subject, key, principal.client_id, "0" * 64)
    draft = await intake.prepare_inbound(uow, principal, body, key=wanted)
    assert isinstance(draft, intake.InboundDraft)
    outcome = await intake.submit_inbound(uow, principal, draft, StoredAnswer(201, {}, b"{}"))
    assert isinstance(outcome, intake.Inbound)
    return outcome
