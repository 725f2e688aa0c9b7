"""Demo case work for the demo households: assessments, informal network maps and plans.

Runs after the households loader (band 30; it makes the network maps too, because plan actions name
network people). It fills every demo household that has none of these yet, so a second load adds
nothing and households added later get theirs. Built for volume (``demo-data --households 100000``):
rows are generated in Python from ``ctx.rng`` and written with COPY, a batch of households at a time.

What a household gets depends on its status: registered ones nothing yet; intake a first assessment
and a start of the network map; active and aftercare several assessments over time (improving, on
average), a network map and a plan (aftercare ones agreed, some with an older superseded version);
closed ones their assessment history and network map.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.demo import DemoContext, demo_loader
from app.domain.assessments.models import Assessment, AssessmentScore
from app.domain.base import utcnow
from app.domain.households.models import Household, HouseholdStatus, Member
from app.domain.networks.models import Frequency, NetworkPerson, Relation, SupportKind
from app.domain.plans.models import PerformerKind, Plan, PlanAction, PlanGoal, PlanStatus
from app.domain.reference.models import LifeDomain

CHUNK = 5_000  # households per member query
HOUSEHOLDS_PER_BATCH = 2_000  # generated and copied at once: bounded memory at 100k households
S = HouseholdStatus

LABELS: dict[Relation, Sequence[str]] = {
    Relation.family: ("oma", "opa", "zus", "broer", "tante", "oom", "nicht", "schoonmoeder"),
    Relation.friend: ("Ans", "Bram", "Fatma", "Joost", "Mirjam", "Youssef", "vriendin"),
    Relation.neighbour: ("buurvrouw", "buurman", "de bovenburen"),
    Relation.acquaintance: ("kennis van het werk", "ouder van school"),
    Relation.informal_carer: ("mantelzorger", "dochter"),
    Relation.volunteer: ("maatje", "taalmaatje", "vrijwilliger thuisadministratie"),
    Relation.community: ("kerk", "moskee", "voetbalclub", "buurthuis"),
}
ACTIONS: dict[PerformerKind, Sequence[str]] = {
    PerformerKind.household: ("Post wekelijks openen en sorteren", "Zelf afspraak maken bij de huisarts"),
    PerformerKind.network_member: (
        "Helpt met boodschappen",
        "Gaat mee naar afspraken",
        "Komt wekelijks koffie drinken",
    ),
    PerformerKind.volunteer: ("Maatje zoeken via het vrijwilligerscentrum", "Hulp bij de thuisadministratie"),
    PerformerKind.worker: ("Budgetplan opstellen", "Gesprek met school voorbereiden"),
    PerformerKind.partner: ("Aanmelding schuldhulpverlening", "Gesprek met de woningcorporatie"),
}


# Ids: fast and unique, but not from ctx.rng (a later load replays that sequence and would collide).
_IDS = random.Random()  # noqa: S311 - seeded from os.urandom; ids need uniqueness, not secrecy


def _new_id() -> uuid.UUID:
    return uuid.UUID(int=_IDS.getrandbits(128), version=4)


@dataclass
class Rows:
    """Everything to insert, per table, in insertion order (plans before their goals and actions)."""

    assessments: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    goals: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    id: uuid.UUID
    status: str
    coordinator_id: uuid.UUID | None
    registered_on: date
    members: tuple[uuid.UUID, ...]


@demo_loader(order=30)
async def load(session: AsyncSession, ctx: DemoContext) -> None:
    """Assessments, network maps and plans for every demo household that has none yet."""
    targets = await _targets(session, list(ctx.teams.values()))
    if not targets:
        return
    domains = list(
        await session.scalars(
            select(LifeDomain.code).where(col(LifeDomain.active).is_(True)).order_by(col(LifeDomain.position))
        )
    )
    today = utcnow().date()
    for start in range(0, len(targets), HOUSEHOLDS_PER_BATCH):
        rows = Rows()
        for target in targets[start : start + HOUSEHOLDS_PER_BATCH]:
            _household(rows, target, domains, ctx.rng, today)
        await _insert(session, rows)


async def _insert(session: AsyncSession, rows: Rows) -> None:
    """COPY into each table, parents before children (10-50x faster than INSERTs at demo volume),
    on the session's own connection, so inside its transaction. Unlisted columns take their defaults."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    for model, batch in (
        (Assessment, rows.assessments),
        (AssessmentScore, rows.scores),
        (NetworkPerson, rows.people),
        (Plan, rows.plans),
        (PlanGoal, rows.goals),
        (PlanAction, rows.actions),
    ):
        if batch:
            columns = list(batch[0])
            records = [tuple(row[c] for c in columns) for row in batch]
            await driver.copy_records_to_table(str(model.__tablename__), records=records, columns=columns)


async def _targets(session: AsyncSession, team_ids: list[uuid.UUID]) -> list[Target]:
    """Demo households without any case work yet, with their members (two queries)."""
    if not team_ids:
        return []
    untouched = sa.and_(
        *(
            ~sa.exists().where(col(column) == col(Household.id))
            for column in (Assessment.household_id, NetworkPerson.household_id, Plan.household_id)
        )
    )
    households = (
        await session.execute(
            select(Household.id, Household.status, Household.coordinator_id, Household.registered_at)
            .where(col(Household.team_id).in_(team_ids), col(Household.status) != S.registered, untouched)
            .order_by(col(Household.registered_at), col(Household.id))
        )
    ).all()
    members: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    ids = [h.id for h in households]
    for start in range(0, len(ids), CHUNK):
        for member_id, household_id in await session.execute(
            select(Member.id, Member.household_id)
            .where(col(Member.household_id).in_(ids[start : start + CHUNK]))
            .order_by(col(Member.created_at), col(Member.id))
        ):
            members[household_id].append(member_id)
    return [
        Target(h.id, h.status, h.coordinator_id, h.registered_at.date(), tuple(members[h.id]))
        for h in households
    ]


def _household(rows: Rows, target: Target, domains: list[str], rng: random.Random, today: date) -> None:
    visits = {
        S.intake: 1,
        S.active: rng.randint(2, 4),
        S.aftercare: rng.randint(3, 4),
        S.closed: rng.randint(2, 3),
    }
    problems = rng.sample(domains, k=min(len(domains), rng.randint(2, 4)))
    _assessments(rows, target, problems, domains, visits.get(S(target.status), 0), rng, today)
    people = _network(rows, target, rng, 1 if target.status == S.intake else rng.randint(2, 5))
    if target.status in (S.active, S.aftercare):
        versions = 2 if rng.random() < 0.3 else 1
        for revision in range(1, versions + 1):
            _plan(rows, target, problems, people, rng, today, revision, last=revision == versions)


def _assessments(
    rows: Rows,
    target: Target,
    problems: list[str],
    domains: list[str],
    count: int,
    rng: random.Random,
    today: date,
) -> None:
    """``count`` assessments spread from registration to today; problem domains improve slowly."""
    span = max((today - target.registered_on).days, count)
    start = {d: rng.randint(1, 3) for d in problems}
    for visit in range(count):
        assessed_on = min(today, target.registered_on + timedelta(days=span * visit // max(count, 1)))
        member = target.members[-1] if target.members and visit == 0 and rng.random() < 0.15 else None
        assessment_id = _new_id()
        rows.assessments.append(
            {
                "id": assessment_id,
                "household_id": target.id,
                "member_id": member,
                "assessed_on": assessed_on,
                "assessed_by": target.coordinator_id,
                "note": None,
                "created_at": datetime.combine(assessed_on, time(10), UTC),
                "updated_at": datetime.combine(assessed_on, time(10), UTC),
            }
        )
        scored = problems + rng.sample(
            [d for d in domains if d not in problems], k=min(2, len(domains) - len(problems))
        )
        for domain in scored:
            base = start.get(domain, rng.randint(4, 5))
            score = min(5, base + (visit if domain in start and rng.random() < 0.7 else 0))
            rows.scores.append({"assessment_id": assessment_id, "domain_code": domain, "score": score})


def _network(rows: Rows, target: Target, rng: random.Random, count: int) -> list[uuid.UUID]:
    people: list[uuid.UUID] = []
    for _ in range(count):
        relation = rng.choice(list(LABELS))
        person_id = _new_id()
        people.append(person_id)
        rows.people.append(
            {
                "id": person_id,
                "household_id": target.id,
                "label": rng.choice(LABELS[relation]),
                "relation": str(relation),
                "support_kinds": [str(k) for k in rng.sample(list(SupportKind), k=rng.randint(1, 3))],
                "frequency": str(rng.choice(list(Frequency))),
                "reliability": rng.randint(2, 5),
                "engaged": rng.random() < 0.6,
            }
        )
    return people


def _plan(
    rows: Rows,
    target: Target,
    problems: list[str],
    people: list[uuid.UUID],
    rng: random.Random,
    today: date,
    revision: int,
    *,
    last: bool,
) -> None:
    plan_id = _new_id()
    previous = rows.plans[-1]["id"] if revision > 1 else None
    made = datetime.combine(min(today, target.registered_on + timedelta(days=30 * revision)), time(11), UTC)
    agreed = target.status == S.aftercare or rng.random() < 0.6
    rows.plans.append(
        {
            "id": plan_id,
            "household_id": target.id,
            "revision": revision,
            "status": str(PlanStatus.active if last else PlanStatus.superseded),
            "supersedes_id": previous,
            "summary": None,
            "evaluation_date": today + timedelta(days=rng.randint(30, 120)) if last else None,
            "agreed_at": made + timedelta(days=2) if agreed and target.members else None,
            "agreed_by_member_id": target.members[0] if agreed and target.members else None,
            "created_by": target.coordinator_id,
            "superseded_at": None if last else made + timedelta(days=30),
            "created_at": made,
            "updated_at": made,
        }
    )
    for position, domain in enumerate(problems[: rng.randint(1, 3)]):
        goal_id = _new_id()
        rows.goals.append(
            {
                "id": goal_id,
                "plan_id": plan_id,
                "domain_code": domain,
                "target_score": rng.randint(3, 5),
                "description": None,
                "position": position,
            }
        )
        _actions(rows, plan_id, goal_id, people, target, rng, today)


def _actions(
    rows: Rows,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    people: Iterable[uuid.UUID],
    target: Target,
    rng: random.Random,
    today: date,
) -> None:
    candidates = list(people)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(list(PerformerKind))
        if kind == PerformerKind.network_member and not candidates:
            kind = PerformerKind.household
        done = rng.random() < 0.3
        rows.actions.append(
            {
                "id": _new_id(),
                "plan_id": plan_id,
                "goal_id": goal_id,
                "description": rng.choice(ACTIONS[kind]),
                "performer_kind": str(kind),
                "network_person_id": rng.choice(candidates) if kind == PerformerKind.network_member else None,
                "worker_id": target.coordinator_id if kind == PerformerKind.worker else None,
                "referral_id": None,  # the referrals demo links its referrals to partner actions
                "due_date": today + timedelta(days=rng.randint(-10, 60)),
                "done": done,
                "done_at": utcnow() if done else None,
                "position": len(rows.actions),
            }
        )
