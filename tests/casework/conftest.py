"""Case-file fixtures: households of team A and B (one confidential) with members, built in the DB.

Households are made directly with the ORM (the household routes belong to another context), then
everything under test goes through the real HTTP API with real tokens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.domain.households.models import Household, HouseholdAssignment, HouseholdStatus, Member
from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.factories import World, next_code


@dataclass
class Cases:
    world: World
    households: dict[str, Household] = field(default_factory=dict)
    members: dict[str, list[Member]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def add(
        self,
        key: str,
        *,
        team: str = "a",
        confidential: bool = False,
        coordinator: str | None = None,
        assigned: tuple[str, ...] = (),
        members: int = 2,
        status: HouseholdStatus = HouseholdStatus.active,
    ) -> Household:
        world = self.world
        buurt = world.buurten[0] if team == "a" else world.buurten[2]
        async with world.app.state.db.transaction() as session:
            household = Household(
                reference=f"HH-{next_code()}-{uuid.uuid4().hex[:6]}",
                team_id=world.teams[team].id,
                buurt_id=buurt.id,
                postcode="1234AB",
                house_number=next_code() % 200 + 1,
                status=status,
                confidential=confidential,
                closing_reason="goals_reached" if status == HouseholdStatus.closed else None,
                coordinator_id=_worker_id(world, coordinator) if coordinator else None,
            )
            session.add(household)
            await session.flush()
            for name in assigned:
                session.add(HouseholdAssignment(household_id=household.id, worker_id=_worker_id(world, name)))
            people = [
                Member(household_id=household.id, given_name=f"Lid{i}", role="parent" if i == 0 else "child")
                for i in range(members)
            ]
            session.add_all(people)
        self.households[key] = household
        self.members[key] = people
        return household

    def hid(self, key: str) -> uuid.UUID:
        return self.households[key].id

    async def headers(self, actor: str, **extra: str) -> dict[str, Any]:
        """Real tokens, minted once per actor for this test (they live 15 minutes)."""
        if actor not in self.tokens:
            self.tokens[actor] = await self.world.headers(actor)
        return {**self.tokens[actor], **extra}

    async def access_rows(self, household_id: uuid.UUID) -> int:
        async with self.world.app.state.db.transaction() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(AccessLogEntry)
                .where(col(AccessLogEntry.household_id) == household_id)
            )
        return int(count or 0)


def _worker_id(world: World, name: str) -> uuid.UUID:
    worker = world.people[name].worker
    assert worker is not None
    return worker.id


@pytest.fixture
async def cases(world: World) -> Cases:
    """Team A's open household "a", team B's "b", and team A's confidential "conf" coordinated by
    generalist_a (generalist_a2 is in team A but not assigned)."""
    built = Cases(world)
    await built.add("a")
    await built.add("b", team="b")
    await built.add("conf", confidential=True, coordinator="generalist_a")
    return built


def problem_core(response: httpx.Response) -> dict[str, Any]:
    """A problem body without the parts that name the request (instance path, request id)."""
    body = dict(response.json())
    body.pop("instance", None)
    body.pop("request_id", None)
    return body
