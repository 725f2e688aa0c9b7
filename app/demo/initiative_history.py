"""Demo initiative history (band 65, after the networks and their current initiatives): the
initiatives of the networks' past quarters, so the initiative figures of finished periods (the
public ones of the dashboards) have something to show.

For each demo network, ``PER_QUARTER`` initiatives (at the default demo size) in every quarter of
the last three years up to the current one, in the network's buurten. Older ones have run their
course: mostly completed (with participants and what they spent), some rejected, a few ideas that
never asked for money; recent ones are still requested, granted or running. Grants are decided weeks
after the proposal, against the network's year plan of that year: plans of past years are made, and
the current ones' budgets grow with what the history granted (``granted_cents`` stays within the
budget). Themes lean to a few popular ones, as in a real network.

Written as rows with COPY (the current initiatives go through the services), then booked into the
year plans' ledgers in one statement; nothing in the future.
A second load adds nothing.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.demo import DemoContext, demo_loader
from app.demo.households import DEFAULT_HOUSEHOLDS, OrderedIds, copy_rows
from app.demo.initiatives import IDEAS, NETWORKS
from app.demo.organisation import BUURTEN
from app.domain.base import utcnow
from app.domain.initiatives import ledger_repository
from app.domain.initiatives.models import (
    GrantDecision,
    Initiative,
    InitiativeStatus,
    NetworkArea,
    ResidentNetwork,
    YearPlan,
)
from app.domain.organisation.models import Area
from app.domain.unit_of_work.work import UnitOfWork

St = InitiativeStatus
PER_QUARTER = 40  # initiatives per network and quarter
QUARTERS = 12
INITIATOR = "Initiator (demo history)"
THEME_WEIGHTS = {
    "meeting": 40, "youth": 25, "elderly": 22, "loneliness": 18, "health": 14, "poverty": 10,
    "language": 8, "safety": 8, "informal_care": 6, "parenting": 6, "debts": 5, "work_income": 4,
    "housing": 4,
}  # fmt: skip
# How initiatives older than half a year ended, by weight; younger ones are still under way.
ENDED = {St.completed: 68, St.rejected: 20, St.idea: 12}
UNDER_WAY = {St.idea: 15, St.requested: 20, St.rejected: 15, St.granted: 20, St.running: 30}

INITIATIVE_COLUMNS = (
    "id", "network_id", "buurt_id", "year_plan_id", "title", "summary", "themes", "status",
    "initiator_name", "requested_cents", "granted_cents", "spent_cents", "starts_on", "ends_on",
    "participants_reached", "report", "version", "created_at", "updated_at",
)  # fmt: skip
GRANT_COLUMNS = ("id", "initiative_id", "year_plan_id", "decision", "amount_cents", "reason", "decided_at")
YEAR_PLAN_COLUMNS = ("id", "network_id", "year", "priorities", "budget_cents", "granted_cents", "summary")


@dataclass(frozen=True)
class Network:
    id: uuid.UUID
    buurten: list[tuple[uuid.UUID, str]]  # id, name


@dataclass
class Rows:
    initiatives: list[tuple[Any, ...]] = field(default_factory=list)
    grants: list[tuple[Any, ...]] = field(default_factory=list)
    granted: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))  # per year plan


@demo_loader(order=65)
async def initiative_history(uow: UnitOfWork, ctx: DemoContext) -> None:
    session = uow.session
    if ctx.municipality_id is None or await _loaded(session):
        return
    networks = await _networks(session, ctx.municipality_id)
    if not networks:
        return
    plans = YearPlans(await _existing_plans(session, [n.id for n in networks]))
    history = _History(ctx.rng, utcnow(), plans)
    rows = Rows()
    # A smaller demo (``--households N``) has a smaller history; a larger one no larger than the default.
    per_quarter = max(
        1, PER_QUARTER * min(ctx.households or DEFAULT_HOUSEHOLDS, DEFAULT_HOUSEHOLDS) // DEFAULT_HOUSEHOLDS
    )
    for network in networks:
        for quarters_ago in range(QUARTERS, 0, -1):
            for _ in range(per_quarter):
                history.initiative(rows, network, quarters_ago)
    await plans.write(session, rows.granted)
    await copy_rows(session, "initiatives", INITIATIVE_COLUMNS, rows.initiatives)
    await copy_rows(session, "initiative_grants", GRANT_COLUMNS, rows.grants)
    # The plans' ledgers learn the history's budgets, grants and returns (the money adds up).
    await ledger_repository.book_imported(session, [row[0] for row in rows.initiatives])


async def _loaded(session: AsyncSession) -> bool:
    query = select(Initiative.id).where(col(Initiative.initiator_name) == INITIATOR).limit(1)
    return (await session.execute(query)).first() is not None


async def _networks(session: AsyncSession, municipality_id: uuid.UUID) -> list[Network]:
    found = await session.execute(
        select(ResidentNetwork.id, Area.id, Area.code)
        .join(NetworkArea, col(NetworkArea.network_id) == col(ResidentNetwork.id))
        .join(Area, col(Area.id) == col(NetworkArea.area_id))
        .where(
            col(ResidentNetwork.municipality_id) == municipality_id,
            col(ResidentNetwork.name).in_(list(NETWORKS.values())),
        )
        .order_by(col(ResidentNetwork.name), col(Area.code))
    )
    buurten: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for network_id, area_id, code in found.all():
        buurten[network_id].append((area_id, BUURTEN.get(code, code)))
    return [Network(network_id, areas) for network_id, areas in buurten.items()]


PlanKey = tuple[uuid.UUID, int]  # network id, year


async def _existing_plans(session: AsyncSession, network_ids: list[uuid.UUID]) -> dict[PlanKey, uuid.UUID]:
    query = select(YearPlan.network_id, YearPlan.year, YearPlan.id)
    found = await session.execute(query.where(col(YearPlan.network_id).in_(network_ids)))
    return {(network_id, year): plan_id for network_id, year, plan_id in found.all()}


class YearPlans:
    """The year plan of each network and year: the existing ones (the current initiatives' plans) and
    those the history needs for older years, made when the history is written."""

    def __init__(self, existing: dict[PlanKey, uuid.UUID]) -> None:
        self.existing = existing
        self.made: dict[PlanKey, uuid.UUID] = {}

    def of(self, network_id: uuid.UUID, year: int) -> uuid.UUID:
        key = (network_id, year)
        found = self.existing.get(key) or self.made.get(key)
        if found is None:
            found = self.made[key] = uuid.uuid4()
        return found

    async def write(self, session: AsyncSession, granted: dict[uuid.UUID, int]) -> None:
        """Existing plans get the history's grants on top of their budget and total; the new ones a
        budget a quarter above what they granted."""
        for plan_id in self.existing.values():
            cents = granted.get(plan_id, 0)
            if cents:
                await session.execute(
                    sa.update(YearPlan)
                    .where(col(YearPlan.id) == plan_id)
                    .values(
                        budget_cents=col(YearPlan.budget_cents) + cents,
                        granted_cents=col(YearPlan.granted_cents) + cents,
                    )
                )
        rows = [
            (plan_id, network_id, year, ["meeting", "youth"], granted[plan_id] * 5 // 4 + 100_000,
             granted[plan_id], "Jaarplan uit de demo-historie.")
            for (network_id, year), plan_id in self.made.items()
        ]  # fmt: skip
        await copy_rows(session, "year_plans", YEAR_PLAN_COLUMNS, rows)


class _History:
    def __init__(self, rng: random.Random, now: datetime, plans: YearPlans) -> None:
        self.rng = rng
        self.now = now
        self.plans = plans
        self.new_id = OrderedIds()
        self.quarter_start = _quarter_start(now)

    def initiative(self, rows: Rows, network: Network, quarters_ago: int) -> None:
        """One initiative proposed ``quarters_ago`` quarters back, walked to a status fitting its age."""
        rng, now = self.rng, self.now
        start = _months_before(self.quarter_start, 3 * quarters_ago)
        end = min(_months_before(self.quarter_start, 3 * (quarters_ago - 1)), now - timedelta(days=1))
        created = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        pool = ENDED if now - created > timedelta(days=180) else UNDER_WAY
        status = rng.choices(list(pool), weights=list(pool.values()))[0]
        buurt_id, buurt_name = rng.choice(network.buurten)
        title, summary, _ = rng.choice(IDEAS)
        themes = sorted(set(rng.choices(list(THEME_WEIGHTS), weights=list(THEME_WEIGHTS.values()), k=2)))
        initiative_id = self.new_id()
        decided = min(created + timedelta(days=rng.uniform(14, 42)), now - timedelta(hours=1))
        requested = rng.randrange(250, 1500) * 100 if status is not St.idea else None
        plan_id = self.plans.of(network.id, decided.year) if requested is not None else None
        granted: int | None = None
        if requested is not None and plan_id is not None and status is not St.requested:
            rejected = status is St.rejected
            amount = 0 if rejected else (requested if rng.random() < 0.6 else requested * 8 // 10)
            decision = GrantDecision.rejected if rejected else GrantDecision.granted
            reason = "Past niet bij de prioriteiten (demo)." if rejected else "Past in het jaarplan (demo)."
            grant = (self.new_id(), initiative_id, plan_id, str(decision), amount, reason, decided)
            rows.grants.append(grant)
            rows.granted[plan_id] += amount
            granted = amount if not rejected else None
        done = status is St.completed
        starts = min(decided + timedelta(days=rng.randint(7, 40)), now).date() if granted else None
        rows.initiatives.append(
            (
                *(initiative_id, network.id, buurt_id, plan_id, f"{title} {buurt_name}", summary, themes),
                *(str(status), INITIATOR, requested, granted),
                granted * rng.randint(70, 100) // 100 if done and granted else None,
                starts,
                starts + timedelta(days=rng.randint(1, 120)) if starts else None,
                rng.randrange(8, 120) if done else None,
                "Liep zoals gepland (demo)." if done else None,
                1,
                created,
                decided if plan_id is not None and status is not St.requested else created,
            )
        )


def _quarter_start(moment: datetime) -> datetime:
    return datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1, tzinfo=UTC)


def _months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
