"""Two resident networks on top of a ``World``: A over team A's buurten, B over team B's.

Network A: coordinator (the world's network_coordinator, a resident), a resident member (the world's
resident), and a non-resident partner member without an account. Network B: its own coordinator and
resident (users ``coordinator_b`` and ``resident_b``). Each has a year plan for this year.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from sqlalchemy import insert, select, update
from sqlmodel import col

from app.domain.initiatives import ledger_repository, network_service
from app.domain.initiatives.models import (
    Grant,
    Initiative,
    MeetingAttendance,
    NetworkMeeting,
    NetworkMember,
    YearPlan,
)
from app.domain.initiatives.schemas import MemberCreate, NetworkCreate
from app.domain.unit_of_work.work import unit_of_work
from tests.factories import World, next_code

YEAR = date.today().year


@dataclass(frozen=True)
class Meeting:
    """A recorded meeting and its members present, by display name."""

    id: uuid.UUID
    present: dict[str, uuid.UUID]

    def votes(self, vote: str = "FOR", *, without: tuple[str, ...] = ()) -> list[dict[str, str]]:
        """Every present member's vote (GraphQL input), but for those ``without`` (recused ones)."""
        return [{"memberId": str(m), "vote": vote} for name, m in self.present.items() if name not in without]

    def decision(
        self, decision: str = "GRANTED", amount: int = 0, *, without: tuple[str, ...] = (), **extra: Any
    ) -> dict[str, Any]:
        """A GrantDecisionInput the votes carry: all for a grant, all against a rejection."""
        vote = "FOR" if decision == "GRANTED" else "AGAINST"
        return {
            "decision": decision,
            "amountCents": amount,
            "reason": "Decided at the meeting.",
            "meetingId": str(self.id),
            "votes": self.votes(vote, without=without),
            **extra,
        }


@dataclass
class Networks:
    world: World
    a: uuid.UUID
    b: uuid.UUID
    plans: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def buurt_a(self) -> str:
        return self.world.buurten[0].code

    @property
    def buurt_b(self) -> str:
        return self.world.buurten[2].code

    async def gql(
        self, client: httpx.AsyncClient, actor: str, query: str, **variables: Any
    ) -> dict[str, Any]:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=await self.world.headers(actor)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def initiatives(
        self, network: str, count: int, *, status: str = "requested", buurt: int | None = None, **extra: Any
    ) -> list[uuid.UUID]:
        """Insert ``count`` initiatives of network "a" or "b" in one statement (fast set-up)."""
        network_id = self.a if network == "a" else self.b
        area = self.world.buurten[buurt if buurt is not None else (0 if network == "a" else 2)]
        ids = [uuid.uuid4() for _ in range(count)]
        rows = [
            {
                "id": i,
                "network_id": network_id,
                "buurt_id": area.id,
                "title": f"Initiative {n}",
                "summary": "Neighbours cook together every Friday.",
                "themes": ["loneliness", "meeting"],
                "status": status,
                "initiator_name": f"Initiator {n}",
                "initiator_email": f"initiator{n}@example.org",
                "requested_cents": 50_000 if status != "idea" else None,
                "year_plan_id": self.plans[network] if status != "idea" else None,
                **extra,
            }
            for n, i in enumerate(ids)
        ]
        async with self.world.app.state.db.transaction() as session:
            await session.execute(insert(Initiative), rows)
        return ids

    async def meeting(
        self, network: str = "a", present: tuple[str, ...] | None = None, *, held_on: date | None = None
    ) -> Meeting:
        """A meeting of network "a" or "b" with these members present (by display name; all by default)."""
        network_id = self.a if network == "a" else self.b
        async with self.world.app.state.db.transaction() as session:
            members = (
                await session.execute(
                    select(
                        col(NetworkMember.id), col(NetworkMember.display_name), col(NetworkMember.is_resident)
                    ).where(col(NetworkMember.network_id) == network_id)
                )
            ).all()
            chosen = [m for m in members if present is None or m.display_name in present]
            meeting = NetworkMeeting(
                network_id=network_id,
                held_on=held_on or date.today(),
                present_count=len(chosen),
                resident_count=sum(1 for m in chosen if m.is_resident),
            )
            session.add(meeting)
            await session.flush()
            session.add_all(
                MeetingAttendance(meeting_id=meeting.id, member_id=m.id, display_name=m.display_name,
                                  is_resident=m.is_resident)
                for m in chosen
            )  # fmt: skip
        return Meeting(meeting.id, {m.display_name: m.id for m in chosen})

    async def funded(
        self, network: str, count: int, *, status: str = "completed", amount: int = 40_000
    ) -> list[uuid.UUID]:
        """Initiatives with a grant (reason, amount booked on the year plan) and, when completed, a report."""
        extra: dict[str, Any] = {"granted_cents": amount}
        if status == "completed":
            extra.update(participants_reached=35, report="Forty neighbours came; Mrs Jansen cooked.")
        ids = await self.initiatives(network, count, status=status, **extra)
        plan = self.plans[network]
        async with self.world.app.state.db.transaction() as session:
            await session.execute(
                insert(Grant),
                [
                    {"initiative_id": i, "year_plan_id": plan, "decision": "granted", "amount_cents": amount,
                     "reason": "Fits the priority on loneliness; Mr De Vries vouches."}
                    for i in ids
                ],
            )  # fmt: skip
            await session.execute(
                update(YearPlan)
                .where(col(YearPlan.id) == plan)
                .values(granted_cents=YearPlan.granted_cents + amount * count)
            )
        return ids


async def make_networks(world: World, *, budget_cents: int = 1_000_000) -> Networks:
    n = next_code()
    async with unit_of_work(world.app.state.db, world.app.state.wiring) as uow:
        await world.add_user(uow.session, "coordinator_b", "network_coordinator", n)
        await world.add_user(uow.session, "resident_b", "resident", n)
        people = world.people
        a = await network_service.create_network(
            uow,
            NetworkCreate(
                municipality_id=world.municipality.id,
                name=f"Wijknetwerk Noord {n}",
                buurten=[b.code for b in world.buurten[:2]],
            ),
            [
                MemberCreate(
                    display_name="Coordinator A",
                    is_resident=True,
                    role="coordinator",
                    user_id=people["network_coordinator"].user.id,
                    email="coordinator.a@example.org",
                    phone="+31 6 1234 5678",
                ),
                MemberCreate(display_name="Resident A", is_resident=True, user_id=people["resident"].user.id),
                MemberCreate(display_name="Partner A", is_resident=False, email="partner.a@example.org"),
            ],
        )
        b = await network_service.create_network(
            uow,
            NetworkCreate(
                municipality_id=world.municipality.id,
                name=f"Wijknetwerk Zuid {n}",
                buurten=[b.code for b in world.buurten[2:]],
            ),
            [
                MemberCreate(
                    display_name="Coordinator B",
                    is_resident=True,
                    role="coordinator",
                    user_id=people["coordinator_b"].user.id,
                ),
                MemberCreate(
                    display_name="Resident B", is_resident=True, user_id=people["resident_b"].user.id
                ),
            ],
        )
        plans = {
            key: YearPlan(network_id=network.id, year=YEAR, budget_cents=budget_cents, priorities=["debts"])
            for key, network in (("a", a), ("b", b))
        }
        uow.session.add_all(plans.values())
        await uow.session.flush()
        for plan in plans.values():  # the ledger opens with the budget, as create_year_plan does
            await ledger_repository.open_budget(uow.session, plan, None)
    return Networks(world, a.id, b.id, {k: p.id for k, p in plans.items()})
