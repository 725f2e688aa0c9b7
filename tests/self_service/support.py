"""Helpers for the self-service tests: a household made through the real API (members, a network
person, a plan), a household member's account bound to one of its members, and real tokens for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.domain.households.models import Household, Member
from app.domain.identity.grants import mint_for_user
from app.domain.identity.models import User
from app.domain.identity.tokens import TokenVerifier
from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.factories import World, next_code
from tests.households.support import create_household, fresh_bsn

COORDINATOR = "generalist_a"


@dataclass
class Home:
    """A household of team A coordinated by generalist_a: Anna (parent, with a BSN), Ewout (her
    partner, another adult), Bram (a child), a network person and an active plan."""

    world: World
    client: httpx.AsyncClient
    id: str
    members: dict[str, str]  # given name -> member id
    bsn: str
    plan: dict[str, Any] = field(default_factory=dict)
    person_id: str = ""

    async def post(
        self, path: str, body: Any = None, actor: str = COORDINATOR, **headers: str
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers={**await self.world.headers(actor), **headers})

    async def get(self, path: str, actor: str = COORDINATOR, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=await self.world.headers(actor))


async def make_home(
    world: World, client: httpx.AsyncClient, *, confidential: bool = False, with_plan: bool = True
) -> Home:
    bsn = fresh_bsn()
    made = await create_household(
        client,
        world,
        confidential=confidential,
        members=[
            {"given_name": "Anna", "family_name": "de Vries", "birth_date": "1984-03-02", "role": "parent",
             "bsn": bsn},
            {"given_name": "Ewout", "family_name": "Bakker", "birth_date": "1979-11-20", "role": "partner"},
            {"given_name": "Bram", "role": "child"},
        ],
    )  # fmt: skip
    home = Home(world, client, made["id"], {m["given_name"]: m["id"] for m in made["members"]}, bsn)
    if with_plan:
        await _plan(home)
    return home


async def _plan(home: Home) -> None:
    base = f"/api/v1/households/{home.id}"
    person = await home.post(
        base + "/network",
        {"label": "buurvrouw Tineke", "relation": "neighbour", "support_kinds": ["practical"]},
    )
    assert person.status_code == 201, person.text
    home.person_id = person.json()["id"]
    worker = home.world.people[COORDINATOR].worker
    assert worker is not None
    body = {
        "supersedes_id": None,
        "summary": "Rust in de financiën en hulp uit de buurt.",
        "evaluation_date": "2027-03-01",
        "goals": [
            {
                "domain": "finances",
                "target_score": 4,
                "description": "Overzicht van de schulden",
                "actions": [
                    {"description": "Post samen sorteren", "performer_kind": "household"},
                    {"description": "Budgetplan opstellen", "performer_kind": "worker",
                     "worker_id": str(worker.id)},
                    {"description": "Boodschappen op dinsdag", "performer_kind": "network_member",
                     "network_person_id": home.person_id},
                ],
            }
        ],
    }  # fmt: skip
    plan = await home.post(base + "/plans", body)
    assert plan.status_code == 201, plan.text
    home.plan = plan.json()


@dataclass
class Signed:
    """A household member's account and real tokens for it."""

    world: World
    user: User
    member_id: str
    household_id: str

    async def token(self, scopes: set[str] | None = None) -> str:
        verifier: TokenVerifier = self.world.app.state.token_verifier
        keyring = await verifier.keys()
        async with self.world.app.state.db.transaction() as session:
            token, _, _ = await mint_for_user(
                session,
                keyring,
                self.world.app.state.settings,
                self.user,
                self.world.clients["mobile_app"],
                scopes,
            )
        return token

    async def headers(self, scopes: set[str] | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(scopes)}", **extra}


async def account(world: World, home: Home, given_name: str = "Anna") -> Signed:
    """An account bound to a member of ``home``, with the test password (as if activated)."""
    member_id = home.members[given_name]
    async with world.app.state.db.transaction() as session:
        user = User(
            username=f"bewoner-{next_code()}-{uuid.uuid4().hex[:6]}",
            password_hash=world.password_hash,  # of PASSWORD
            display_name=given_name,
            role="household_member",
            member_id=uuid.UUID(member_id),
            household_id=uuid.UUID(home.id),
        )
        session.add(user)
        await session.flush()
    return Signed(world, user, member_id, home.id)


async def log_rows(world: World, request_id: str) -> list[AccessLogEntry]:
    async with world.app.state.db.transaction() as session:
        query = sa.select(AccessLogEntry).where(col(AccessLogEntry.request_id) == request_id)
        return list((await session.execute(query)).scalars())


async def consent(home: Home, member: str, organisation: str = "a") -> str:
    """A consent of ``member`` for partner ``organisation`` about finances, recorded by the team."""
    response = await home.post(
        f"/api/v1/households/{home.id}/consents",
        {
            "member_id": home.members[member],
            "organisation_id": str(home.world.organisations[organisation].id),
            "purpose": "finances",
            "categories": ["identity", "address"],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def referral(home: Home, member: str, organisation: str = "a") -> str:
    """An outbound referral of ``member`` to partner ``organisation``, resting on their consent."""
    response = await home.post(
        f"/api/v1/households/{home.id}/referrals",
        {
            "member_id": home.members[member],
            "organisation_id": str(home.world.organisations[organisation].id),
            "reason_domain": "finances",
            "description": "Schuldhulp gewenst.",
            "legal_basis": "consent",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def everything_shown(client: httpx.AsyncClient, signed: Signed) -> list[dict[str, Any]]:
    """Every entry of the member's access-log view, page by page."""
    headers = await signed.headers()
    shown: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/api/v1/me/access-log", params=params, headers=headers)
        assert page.status_code == 200, page.text
        shown += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return shown


async def member_headers(world: World) -> dict[str, str]:
    """An Authorization header of a household member (a household of team A made in the database, so
    no client is needed), for the walks of every route."""
    async with world.app.state.db.transaction() as session:
        household = Household(
            reference=f"HS-{next_code()}-{uuid.uuid4().hex[:6]}",
            team_id=world.teams["a"].id,
            buurt_id=world.buurten[0].id,
            postcode="1234AB",
            house_number=next_code() % 300 + 1,
            status="active",
        )
        session.add(household)
        await session.flush()
        member = Member(household_id=household.id, given_name="Sanne", role="parent")
        session.add(member)
        await session.flush()
        user = User(
            username=f"bewoner-{next_code()}-{uuid.uuid4().hex[:6]}",
            display_name="Sanne",
            role="household_member",
            member_id=member.id,
            household_id=household.id,
        )
        session.add(user)
        await session.flush()
    return await Signed(world, user, str(member.id), str(household.id)).headers()
