"""Small hand-made datasets for the statistics tests, written straight into the tables of one world.

Times are given as local (Europe/Amsterdam) noon of a date, so each event falls clearly in one day.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import insert, update
from sqlmodel import col

from app.domain.assessments.models import Assessment, AssessmentScore
from app.domain.households.models import ContactMoment, Household, HouseholdTheme
from app.domain.initiatives.models import Grant, Initiative, ResidentNetwork, YearPlan
from app.domain.organisation.models import Area, Municipality, PartnerOrganisation, Team
from app.domain.plans.models import Plan, PlanAction
from app.domain.referrals.models import Referral, ReferralTransition
from app.domain.unit_of_work.burden import IntakeBurden
from tests.factories import World

ZONE = ZoneInfo("Europe/Amsterdam")


def at(day: date, hours: float = 12) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(hours=hours)


@dataclass
class Place:
    """The areas of one municipality, shaped like a World for the dataset and fetch helpers."""

    world: World
    municipality: Municipality
    wijken: list[Area]
    buurten: list[Area]  # 0-1 in wijk 0 (team a), 2-3 in wijk 1 (team b)
    teams: dict[str, Team]

    @property
    def app(self) -> FastAPI:
        return self.world.app

    async def headers(self, actor: str) -> dict[str, Any]:
        return await self.world.headers(actor)


class Dataset:
    def __init__(self, world: Place | World) -> None:
        self.world = world
        self._team_of = {b.id: world.teams["a" if i < 2 else "b"].id for i, b in enumerate(world.buurten)}

    async def _insert(self, model: Any, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            async with self.world.app.state.db.transaction() as session:
                await session.execute(insert(model), list(rows))

    async def households(
        self,
        buurt: Area,
        count: int,
        *,
        registered: date,
        closed: date | None = None,
        reason: str = "goals_reached",
    ) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in range(count)]
        await self._insert(
            Household,
            [
                {
                    "id": i,
                    "reference": f"ST-{i.hex[:16]}",
                    "team_id": self._team_of[buurt.id],
                    "buurt_id": buurt.id,
                    "postcode": "1234AB",
                    "house_number": n + 1,
                    "status": "closed" if closed else "active",
                    "closing_reason": reason if closed else None,
                    "registered_at": at(registered),
                    "closed_at": at(closed) if closed else None,
                }
                for n, i in enumerate(ids)
            ],
        )
        return ids

    async def intakes(
        self, households: Sequence[uuid.UUID], requests: Sequence[int], agreed: date | None
    ) -> None:
        """The counters the unit of work keeps of each intake: ``requests`` write requests (three fields
        each), ended by a plan agreed on ``agreed`` (None: still open)."""
        ended = at(agreed) if agreed else None
        rows = [
            {"household_id": h, "write_requests": n, "fields_entered": 3 * n, "plan_agreed_at": ended}
            for h, n in zip(households, requests, strict=True)
        ]
        await self._insert(IntakeBurden, rows)

    async def themes(self, households: Sequence[uuid.UUID], code: str, added: date) -> None:
        await self._insert(
            HouseholdTheme,
            [{"household_id": h, "theme_code": code, "added_at": at(added)} for h in households],
        )

    async def contacts(self, household: uuid.UUID, *days: date) -> None:
        await self._insert(
            ContactMoment,
            [
                {"id": uuid.uuid4(), "household_id": household, "kind": "phone", "occurred_at": at(d)}
                for d in days
            ],
        )

    async def partner(self, kind: str) -> PartnerOrganisation:
        organisation = PartnerOrganisation(name=f"{kind} {uuid.uuid4().hex[:6]}", kind=kind)
        async with self.world.app.state.db.transaction() as session:
            session.add(organisation)
        return organisation

    async def referrals(
        self,
        organisation: PartnerOrganisation,
        count: int,
        *,
        submitted: date,
        direction: str = "inbound",
        buurt: Area | None = None,
        households: Sequence[uuid.UUID] = (),
        status: str = "submitted",
        answered_after: timedelta | None = None,
    ) -> list[uuid.UUID]:
        """``count`` referrals (one per household when households are given), each with its
        submission transition and, when ``answered_after`` is set, the receiving side's answer."""
        team = self.world.teams["a"].id
        ids = [uuid.uuid4() for _ in range(count)]
        rows = [
            {
                "id": i,
                "direction": direction,
                "status": status,
                "organisation_id": organisation.id,
                "team_id": team,
                "buurt_id": buurt.id if buurt else None,
                "household_id": households[n] if households else None,
                "given_name": "Anon",
                "reason_domain": "finances",
                "legal_basis": "legal_duty",
                "status_reason": "test" if status in ("declined", "cancelled") else None,
                "created_at": at(submitted),
            }
            for n, i in enumerate(ids)
        ]
        await self._insert(Referral, rows)
        sender, receiver = ("partner", "team") if direction == "inbound" else ("team", "partner")
        transitions = [
            {
                "id": uuid.uuid4(),
                "referral_id": i,
                "from_status": None,
                "to_status": "submitted",
                "side": sender,
                "actor_subject": "x",
                "occurred_at": at(submitted),
            }
            for i in ids
        ]
        if answered_after is not None:
            transitions += [
                {
                    "id": uuid.uuid4(),
                    "referral_id": i,
                    "from_status": "submitted",
                    "to_status": "accepted",
                    "side": receiver,
                    "actor_subject": "y",
                    "occurred_at": at(submitted) + answered_after,
                }
                for i in ids
            ]
        await self._insert(ReferralTransition, transitions)
        return ids

    async def scores(self, household: uuid.UUID, domain: str, *dated_scores: tuple[date, int]) -> None:
        for day, score in dated_scores:
            assessment = uuid.uuid4()
            await self._insert(
                Assessment, [{"id": assessment, "household_id": household, "assessed_on": day}]
            )
            await self._insert(
                AssessmentScore, [{"assessment_id": assessment, "domain_code": domain, "score": score}]
            )

    async def network(self, name: str = "Net") -> tuple[uuid.UUID, uuid.UUID]:
        network, plan = uuid.uuid4(), uuid.uuid4()
        municipality = self.world.municipality.id
        await self._insert(ResidentNetwork, [{"id": network, "municipality_id": municipality, "name": name}])
        await self._insert(
            YearPlan, [{"id": plan, "network_id": network, "year": 2025, "budget_cents": 10_000_000}]
        )
        return network, plan

    async def initiatives(
        self,
        network: uuid.UUID,
        buurt: Area,
        count: int,
        *,
        created: date,
        status: str,
        participants: int | None = None,
        themes: Sequence[str] = (),
    ) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in range(count)]
        await self._insert(
            Initiative,
            [
                {
                    "id": i,
                    "network_id": network,
                    "buurt_id": buurt.id,
                    "title": "Initiatief",
                    "summary": "Samen",
                    "themes": list(themes),
                    "status": status,
                    "initiator_name": "Bewoner",
                    "participants_reached": participants,
                    "created_at": at(created),
                }
                for i in ids
            ],
        )
        return ids

    async def spent(self, initiatives: Sequence[uuid.UUID], cents: int) -> None:
        async with self.world.app.state.db.transaction() as session:
            await session.execute(
                update(Initiative).where(col(Initiative.id).in_(initiatives)).values(spent_cents=cents)
            )

    async def plans(
        self,
        households: Sequence[uuid.UUID],
        *,
        created: date,
        superseded: date | None = None,
        actions: Mapping[str, int],
    ) -> None:
        """One plan version per household, with ``actions`` (performer kind -> how many) each."""
        plans = [uuid.uuid4() for _ in households]
        await self._insert(
            Plan,
            [
                {
                    "id": plan,
                    "household_id": household,
                    "revision": 2 if superseded is None else 1,
                    "status": "superseded" if superseded else "active",
                    "created_at": at(created),
                    "superseded_at": at(superseded) if superseded else None,
                }
                for plan, household in zip(plans, households, strict=True)
            ],
        )
        await self._insert(
            PlanAction,
            [
                {"id": uuid.uuid4(), "plan_id": plan, "description": "Actie", "performer_kind": kind}
                for plan in plans
                for kind, count in actions.items()
                for _ in range(count)
            ],
        )

    async def grants(
        self, plan: uuid.UUID, initiatives: Sequence[uuid.UUID], cents: int, decided: date
    ) -> None:
        await self._insert(
            Grant,
            [
                {
                    "id": uuid.uuid4(),
                    "initiative_id": i,
                    "year_plan_id": plan,
                    "decision": "granted",
                    "amount_cents": cents,
                    "reason": "ok",
                    "decided_at": at(decided),
                }
                for i in initiatives
            ],
        )
