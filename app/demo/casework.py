"""Demo case work for the demo households: assessments, informal network maps and plans.

Runs after the households loader (band 30; it makes the network maps too, because plan actions name
network people). It fills every demo household that has none of these yet, so a second load adds
nothing and households added later get theirs. Built for volume (``demo-data --households 100000``):
rows are generated in Python from ``ctx.rng`` and written with COPY, a batch of households at a time;
the next batch is generated while PostgreSQL takes the previous one (``households.pipelined``).

What a household gets depends on its status: registered ones nothing yet; intake a first assessment
and a start of the network map; active and aftercare several assessments over time (improving, on
average), a network map and a plan (aftercare ones agreed, some with an older superseded version);
closed ones their assessment history and network map.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.demo import DemoContext, demo_loader
from app.demo.households import OrderedIds, allow_bulk_statements, analyze, copy_rows, pipelined
from app.domain.assessments.models import Assessment, AssessmentScore
from app.domain.base import utcnow
from app.domain.households.models import Household, HouseholdStatus, Member, RecordedBy
from app.domain.plans.models import (
    GoalResult,
    PerformerKind,
    Plan,
    PlanAction,
    PlanEvaluation,
    PlanGoal,
    PlanGoalEvaluation,
    PlanStatus,
)
from app.domain.reference.models import LifeDomain
from app.domain.support_network.models import Frequency, NetworkPerson, Relation, SupportKind
from app.domain.unit_of_work.work import UnitOfWork

CHUNK = 5_000  # households per member query
HOUSEHOLDS_PER_BATCH = 5_000  # generated (the next batch) while the previous one is copied
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
RELATIONS = list(LABELS)
SUPPORT_KINDS = list(SupportKind)
FREQUENCIES = list(Frequency)
PERFORMERS = list(PerformerKind)


# Columns of each table in the order the generated tuples hold them (parents before children).
ASSESSMENT_COLUMNS = (
    "id", "household_id", "member_id", "assessed_on", "assessed_by", "note", "created_at", "updated_at",
)  # fmt: skip
SCORE_COLUMNS = ("assessment_id", "domain_code", "score")
PERSON_COLUMNS = (
    "id", "household_id", "label", "relation", "support_kinds", "frequency", "reliability", "engaged",
)  # fmt: skip
PLAN_COLUMNS = (
    "id", "household_id", "revision", "status", "supersedes_id", "summary", "evaluation_date", "agreed_at",
    "agreed_by_member_id", "agreement_recorded_by", "created_by", "superseded_at", "created_at", "updated_at",
)  # fmt: skip
GOAL_COLUMNS = ("id", "plan_id", "domain_code", "target_score", "description", "position")
ACTION_COLUMNS = (
    "id", "plan_id", "goal_id", "description", "performer_kind", "network_person_id", "worker_id",
    "referral_id", "due_date", "done", "done_at", "position",
)  # fmt: skip
EVALUATION_COLUMNS = ("id", "plan_id", "evaluated_on", "evaluated_by", "member_ids", "household_view")
GOAL_EVALUATION_COLUMNS = ("evaluation_id", "goal_id", "result", "note", "score")
VIEWS = ("Het gaat beter, de post is bij.", "Nog veel zorgen over geld.", "Blij met de hulp van de buren.")


@dataclass
class Rows:
    """Everything to insert, per table, in insertion order (plans before their goals and actions)."""

    assessments: list[tuple[Any, ...]] = field(default_factory=list)
    scores: list[tuple[Any, ...]] = field(default_factory=list)
    people: list[tuple[Any, ...]] = field(default_factory=list)
    plans: list[tuple[Any, ...]] = field(default_factory=list)
    goals: list[tuple[Any, ...]] = field(default_factory=list)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    evaluations: list[tuple[Any, ...]] = field(default_factory=list)
    goal_evaluations: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    id: uuid.UUID
    status: str
    coordinator_id: uuid.UUID | None
    registered_on: date
    closed_on: date | None
    members: tuple[uuid.UUID, ...]


@demo_loader(order=30)
async def load(uow: UnitOfWork, ctx: DemoContext) -> None:
    """Assessments, network maps and plans for every demo household that has none yet."""
    session = uow.session
    targets = await _targets(session, list(ctx.teams.values()))
    if not targets:
        return
    await allow_bulk_statements(session)
    domains = list(
        await session.scalars(
            select(LifeDomain.code).where(col(LifeDomain.active).is_(True)).order_by(col(LifeDomain.position))
        )
    )
    maker = _Maker(domains, ctx.rng, utcnow().date())
    batches = [targets[s : s + HOUSEHOLDS_PER_BATCH] for s in range(0, len(targets), HOUSEHOLDS_PER_BATCH)]
    await pipelined(batches, maker.rows, lambda rows: _insert(session, rows))
    await analyze(
        session,
        *(
            str(m.__tablename__)
            for m in (
                Assessment,
                AssessmentScore,
                NetworkPerson,
                Plan,
                PlanGoal,
                PlanAction,
                PlanEvaluation,
                PlanGoalEvaluation,
            )
        ),
    )


async def _insert(session: AsyncSession, rows: Rows) -> None:
    """COPY into each table, parents before children, inside the session's transaction."""
    for table, columns, batch in (
        (Assessment.__tablename__, ASSESSMENT_COLUMNS, rows.assessments),
        (AssessmentScore.__tablename__, SCORE_COLUMNS, rows.scores),
        (NetworkPerson.__tablename__, PERSON_COLUMNS, rows.people),
        (Plan.__tablename__, PLAN_COLUMNS, rows.plans),
        (PlanGoal.__tablename__, GOAL_COLUMNS, rows.goals),
        (PlanAction.__tablename__, ACTION_COLUMNS, rows.actions),
        (PlanEvaluation.__tablename__, EVALUATION_COLUMNS, rows.evaluations),
        (PlanGoalEvaluation.__tablename__, GOAL_EVALUATION_COLUMNS, rows.goal_evaluations),
    ):
        await copy_rows(session, str(table), columns, batch)


async def _targets(session: AsyncSession, team_ids: list[uuid.UUID]) -> list[Target]:
    """Demo households without any case work yet, with their members (a query per CHUNK households).
    In id order: the demo's ids ascend as they were made, so the new rows' indexes grow at one end."""
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
            sa.select(
                col(Household.id),
                col(Household.status),
                col(Household.coordinator_id),
                col(Household.registered_at),
                col(Household.closed_at),
            )
            .where(col(Household.team_id).in_(team_ids), col(Household.status) != S.registered, untouched)
            .order_by(col(Household.id))
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
        Target(
            h.id,
            h.status,
            h.coordinator_id,
            h.registered_at.date(),
            h.closed_at.date() if h.closed_at else None,
            tuple(members[h.id]),
        )
        for h in households
    ]


class _Maker:
    """Generates the rows of a batch of households from the load's random source."""

    def __init__(self, domains: list[str], rng: random.Random, today: date) -> None:
        self.domains = domains
        self.rng = rng
        self.today = today
        self.new_id = OrderedIds()

    def rows(self, targets: Sequence[Target]) -> Rows:
        rows = Rows()
        for target in targets:
            self.household(rows, target)
        return rows

    def household(self, rows: Rows, target: Target) -> None:
        rng = self.rng
        visits = {  # about three per household on average: ~300k assessments at 100k households
            S.intake: 1,
            S.active: rng.randint(2, 5),
            S.aftercare: rng.randint(3, 5),
            S.closed: rng.randint(2, 4),
        }
        problems = rng.sample(self.domains, k=min(len(self.domains), rng.randint(2, 4)))
        self._assessments(rows, target, problems, visits.get(S(target.status), 0))
        people = self._network(rows, target, 1 if target.status == S.intake else rng.randint(2, 5))
        if target.status in (S.active, S.aftercare):
            versions = 2 if rng.random() < 0.3 else 1
            for revision in range(1, versions + 1):
                self._plan(rows, target, problems, people, revision, last=revision == versions)

    def _assessments(self, rows: Rows, target: Target, problems: list[str], count: int) -> None:
        """``count`` assessments spread from registration to closing (or today); problem domains
        improve slowly."""
        rng, domains = self.rng, self.domains
        today = target.closed_on or self.today
        span = max((today - target.registered_on).days, count)
        start = {d: rng.randint(1, 3) for d in problems}
        others = [d for d in domains if d not in problems]
        for visit in range(count):
            assessed_on = min(today, target.registered_on + timedelta(days=span * visit // max(count, 1)))
            member = target.members[-1] if target.members and visit == 0 and rng.random() < 0.15 else None
            assessment_id = self.new_id()
            at = datetime.combine(assessed_on, time(10), UTC)
            rows.assessments.append(
                (assessment_id, target.id, member, assessed_on, target.coordinator_id, None, at, at)
            )
            for domain in problems + rng.sample(others, k=min(2, len(others))):
                base = start.get(domain, rng.randint(4, 5))
                score = min(5, base + (visit if domain in start and rng.random() < 0.7 else 0))
                rows.scores.append((assessment_id, domain, score))

    def _network(self, rows: Rows, target: Target, count: int) -> list[uuid.UUID]:
        rng = self.rng
        people: list[uuid.UUID] = []
        for _ in range(count):
            relation = rng.choice(RELATIONS)
            person_id = self.new_id()
            people.append(person_id)
            rows.people.append(
                (
                    person_id,
                    target.id,
                    rng.choice(LABELS[relation]),
                    str(relation),
                    [str(k) for k in rng.sample(SUPPORT_KINDS, k=rng.randint(1, 3))],
                    str(rng.choice(FREQUENCIES)),
                    rng.randint(2, 5),
                    rng.random() < 0.6,
                )
            )
        return people

    def _plan(
        self,
        rows: Rows,
        target: Target,
        problems: list[str],
        people: list[uuid.UUID],
        revision: int,
        *,
        last: bool,
    ) -> None:
        rng, today = self.rng, self.today
        plan_id = self.new_id()
        previous = rows.plans[-1][0] if revision > 1 else None
        made = datetime.combine(
            min(today, target.registered_on + timedelta(days=30 * revision)), time(11), UTC
        )
        agreed = (target.status == S.aftercare or rng.random() < 0.6) and bool(target.members)
        rows.plans.append(
            (
                plan_id,
                target.id,
                revision,
                str(PlanStatus.active if last else PlanStatus.superseded),
                previous,
                None,
                # Some evaluations are overdue, some come up within the worklist's horizon.
                today + timedelta(days=rng.randint(-20, 100)) if last else None,
                made + timedelta(days=2) if agreed else None,
                target.members[0] if agreed else None,
                str(RecordedBy.team) if agreed else None,
                target.coordinator_id,
                None if last else made + timedelta(days=30),
                made,
                made,
            )
        )
        goal_ids = []
        for position, domain in enumerate(problems[: rng.randint(1, 3)]):
            goal_id = self.new_id()
            goal_ids.append(goal_id)
            rows.goals.append((goal_id, plan_id, domain, rng.randint(3, 5), None, position))
            self._actions(rows, plan_id, goal_id, people, target)
        if agreed and not last:  # the version was evaluated before the next one replaced it
            self._evaluation(rows, plan_id, goal_ids, target, (made + timedelta(days=28)).date())

    def _evaluation(
        self, rows: Rows, plan_id: uuid.UUID, goal_ids: list[uuid.UUID], target: Target, on: date
    ) -> None:
        rng = self.rng
        evaluation_id = self.new_id()
        members = list(target.members[:1])
        rows.evaluations.append(
            (evaluation_id, plan_id, on, target.coordinator_id, members, rng.choice(VIEWS))
        )
        for goal_id in goal_ids:
            result = rng.choice(list(GoalResult))
            rows.goal_evaluations.append((evaluation_id, goal_id, str(result), None, rng.randint(2, 4)))

    def _actions(
        self, rows: Rows, plan_id: uuid.UUID, goal_id: uuid.UUID, people: list[uuid.UUID], target: Target
    ) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(PERFORMERS)
            if kind == PerformerKind.network_member and not people:
                kind = PerformerKind.household
            done = rng.random() < 0.3
            rows.actions.append(
                (
                    self.new_id(),
                    plan_id,
                    goal_id,
                    rng.choice(ACTIONS[kind]),
                    str(kind),
                    rng.choice(people) if kind == PerformerKind.network_member else None,
                    target.coordinator_id if kind == PerformerKind.worker else None,
                    None,  # the referrals demo links its referrals to partner actions
                    self.today + timedelta(days=rng.randint(-10, 60)),
                    done,
                    utcnow() if done else None,
                    len(rows.actions),
                )
            )
