"""Factories: each test builds its own small world, so tests never depend on each other's data."""

from __future__ import annotations

import itertools
import random
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.identity.grants import mint_for_client, mint_for_user
from app.domain.identity.models import ClientAuthMethod, OAuthClient, User
from app.domain.identity.passwords import SecretHasher
from app.domain.identity.tokens import TokenVerifier
from app.domain.organisation.models import (
    Area,
    Municipality,
    PartnerOrganisation,
    Team,
    TeamArea,
    Worker,
    WorkerTeam,
)
from app.security.scopes import Role, allowed_scopes

_codes = itertools.count(random.randrange(1_000, 5_000))

PASSWORD = "correct horse battery staple"  # every test user's password


def next_code() -> int:
    return next(_codes)


async def free_place_code(session: AsyncSession) -> int:
    """The next code whose municipality (GMnnnn) and wijk and buurt codes (WKnnnn.., BUnnnn..) are not
    taken yet: other tests (the contract's fuzzing among them) create areas with codes of their own in
    the same database."""
    while True:
        n = next_code()
        taken = await session.scalar(
            sa.select(
                sa.or_(
                    sa.exists().where(col(Municipality.code) == f"GM{n % 10_000:04d}"),
                    sa.exists().where(
                        col(Area.code).in_(
                            [
                                f"WK{n:04d}01",
                                f"WK{n:04d}02",
                                *(f"BU{n:04d}{w:02d}{b:02d}" for w in (1, 2) for b in (0, 1)),
                            ]
                        )
                    ),
                )
            )
        )
        if not taken:
            return n


@dataclass
class Person:
    user: User
    worker: Worker | None = None

    @property
    def username(self) -> str:
        return self.user.username


@dataclass
class World:
    app: FastAPI
    municipality: Municipality
    wijken: list[Area]
    buurten: list[Area]  # buurten[0:2] are team A's, buurten[2:4] team B's
    teams: dict[str, Team]
    people: dict[str, Person] = field(default_factory=dict)
    organisations: dict[str, PartnerOrganisation] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    password_hash: str = ""  # of PASSWORD, shared by the world's people

    @property
    def hasher(self) -> SecretHasher:
        hasher: SecretHasher = self.app.state.secret_hasher
        return hasher

    @classmethod
    async def create(cls, app: FastAPI) -> World:
        async with app.state.db.transaction() as session:
            n = await free_place_code(session)
            municipality = Municipality(code=f"GM{n % 10_000:04d}", name=f"Testgemeente {n}")
            session.add(municipality)
            await session.flush()
            wijken = [
                Area(
                    municipality_id=municipality.id, code=f"WK{n:04d}{i:02d}", name=f"Wijk {i}", level="wijk"
                )
                for i in (1, 2)
            ]
            session.add_all(wijken)
            await session.flush()
            buurten = [
                Area(
                    municipality_id=municipality.id,
                    parent_id=wijken[i // 2].id,
                    code=f"BU{n:04d}{i // 2 + 1:02d}{i % 2:02d}",
                    name=f"Buurt {i}",
                    level="buurt",
                )
                for i in range(4)
            ]
            session.add_all(buurten)
            teams = {
                key: Team(municipality_id=municipality.id, name=f"Team {key.upper()} {n}")
                for key in ("a", "b")
            }
            session.add_all(teams.values())
            await session.flush()
            session.add_all(
                [TeamArea(team_id=teams["a"].id, area_id=b.id) for b in buurten[:2]]
                + [TeamArea(team_id=teams["b"].id, area_id=b.id) for b in buurten[2:]]
            )
            world = cls(app, municipality, wijken, buurten, teams)
            # The app's own hasher: the test settings choose the cheap profile, so a world costs a
            # few inserts, not a dozen argon2 hashes at production cost.
            world.password_hash = world.hasher.hash(PASSWORD)
            await world._people(session, n)
            await world._clients(session, n)
        return world

    async def _people(self, session: AsyncSession, n: int) -> None:
        workers = {
            "generalist_a": ("generalist", "a"),
            "generalist_a2": ("generalist", "a"),
            "team_lead_a": ("team_lead", "a"),
            "generalist_b": ("generalist", "b"),
            "team_lead_b": ("team_lead", "b"),
        }
        for name, (role, team) in workers.items():
            worker = Worker(name=f"{name} {n}", role=role)
            session.add(worker)
            await session.flush()
            session.add(WorkerTeam(worker_id=worker.id, team_id=self.teams[team].id))
            await self.add_user(session, name, role, n, worker=worker)
        for name in ("resident", "network_coordinator", "privacy_officer", "admin", "policy_officer"):
            await self.add_user(session, name, name, n)

    async def add_user(
        self,
        session: AsyncSession,
        name: str,
        role: str,
        n: int,
        *,
        worker: Worker | None = None,
        bsn_read: bool = False,
    ) -> Person:
        user = User(
            username=f"{name}-{n}",
            password_hash=self.password_hash,
            display_name=f"{name} {n}",
            role=role,
            worker_id=worker.id if worker else None,
            bsn_read=bsn_read,
        )
        session.add(user)
        await session.flush()
        self.people[name] = Person(user, worker)
        return self.people[name]

    async def _clients(self, session: AsyncSession, n: int) -> None:
        for key, kind in (("a", "debt_help"), ("b", "housing")):
            organisation = PartnerOrganisation(name=f"Partner {key.upper()} {n}", kind=kind)
            session.add(organisation)
            await session.flush()
            self.organisations[key] = organisation
            self._client(session, f"partner_{key}", n, Role.partner, organisation.id)
        self._client(session, "analyst", n, Role.analyst, None)
        app = OAuthClient(
            client_id=f"mobile-app-{n}",
            name="Wijkwerk app",
            auth_method=ClientAuthMethod.none,
            redirect_uris=["http://127.0.0.1/callback"],
        )
        session.add(app)
        self.clients["mobile_app"] = app
        await session.flush()

    def _client(
        self, session: AsyncSession, name: str, n: int, role: Role, organisation_id: uuid.UUID | None
    ) -> None:
        secret = secrets.token_urlsafe(24)
        client = OAuthClient(
            client_id=f"{name}-{n}",
            name=name,
            role=role,
            organisation_id=organisation_id,
            auth_method=ClientAuthMethod.client_secret_basic,
            secret_hash=self.hasher.hash(secret),
            allowed_scopes=sorted(str(s) for s in allowed_scopes(role)),
        )
        session.add(client)
        self.clients[name] = client
        self.secrets[name] = secret

    # -- tokens ---------------------------------------------------------------------------------

    async def token(self, actor: str, scopes: set[str] | None = None) -> str:
        """A real access token for a person (by name) or a machine client (partner_a, analyst, ...)."""
        verifier: TokenVerifier = self.app.state.token_verifier
        keyring = await verifier.keys()
        settings = self.app.state.settings
        if actor in self.clients and actor != "mobile_app":
            token, _, _ = await mint_for_client(keyring, settings, self.clients[actor], scopes)
            return token
        async with self.app.state.db.transaction() as session:
            token, _, _ = await mint_for_user(
                session, keyring, settings, self.people[actor].user, self.clients["mobile_app"], scopes
            )
        return token

    async def headers(self, actor: str, scopes: set[str] | None = None, **extra: str) -> dict[str, Any]:
        if actor == "anonymous":
            return dict(extra)
        return {"Authorization": f"Bearer {await self.token(actor, scopes)}", **extra}
