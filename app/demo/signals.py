"""Demo policy signals (band 90, after the households): the two Leeuwarden situations and two more.

* team B's PGB signal, submitted, bundled into team A's on the same rule, answered with an exemption
  (the team lead of A finds the answer on the worklist);
* team A's stair-lift signal, answered and closed (the policy will change);
* a draft of team A about remission of municipal taxes.

Written through the signals service with demo principals, as the team app and the policy staff would.
Loaded once: nothing is added when the demo municipality has signals already.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.demo import DemoContext, demo_loader
from app.domain.concurrency import ExpectedVersion
from app.domain.households.models import Household
from app.domain.signals import service
from app.domain.signals.models import PolicySignal, SignalAnswer, SignalStatus
from app.domain.signals.schemas import SignalCreate, SignalDecision, SignalRead, SignalSubmit
from app.domain.stats.service import policy_from
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import ROLE_SCOPES, Role

PGB: dict[str, Any] = {
    "title": "A PGB may not pay a daughter without a job for her mother's care",
    "situation": "A mother needs daily care. Her daughter has no job and lives nearby; she could give "
    "the care and be paid from the PGB, but the rule does not allow paying a relative for it.",
    "rule_reference": "Beleidsregels Wmo, artikel 4.2",
    "rule_quote": "Een pgb wordt niet verstrekt voor hulp door een bloed- of aanverwant in de eerste graad.",
    "solution": "An exemption for these cases: the daughter is paid from the PGB for the care she gives.",
    "themes": ["informal_care"],
    "life_domains": ["physical_health"],
}
STAIR_LIFT: dict[str, Any] = {
    "title": "A stair lift is the only Wmo answer where a second vacuum cleaner would do",
    "situation": "A resident cannot carry the vacuum cleaner up the stairs and asked for a stair lift. A "
    "second vacuum cleaner upstairs solves it for a fraction, but the rules only know the lift.",
    "rule_reference": "Verordening maatschappelijke ondersteuning, artikel 9",
    "solution": "Let the team provide small practical solutions from a team budget.",
    "themes": ["elderly"],
    "life_domains": ["daily_living_skills"],
}
REMISSION: dict[str, Any] = {
    "title": "Remission of municipal taxes waits for a debt arrangement",
    "situation": "Households in a debt arrangement wait months for remission of the municipal taxes, "
    "and new arrears build up meanwhile.",
    "rule_reference": "Leidraad invordering, hoofdstuk 26",
    "solution": "Grant remission at once when the team and the debt help agree on a plan.",
    "themes": ["debts"],
    "life_domains": ["finances"],
}


def _worker(ctx: DemoContext, key: str, role: Role) -> Principal:
    return Principal(
        subject=f"demo-data:{key}",
        role=role,
        scopes=frozenset(str(s) for s in ROLE_SCOPES[role]),
        client_id="demo-data",
        worker_id=ctx.workers[key],
    )


def _officer(user_id: uuid.UUID) -> Principal:
    return Principal(
        subject=str(user_id),
        role=Role.policy_officer,
        scopes=frozenset(str(s) for s in ROLE_SCOPES[Role.policy_officer]),
        client_id="demo-data",
        user_id=user_id,
    )


async def _households(uow: UnitOfWork, team_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    rows = await uow.session.scalars(
        sa.select(col(Household.id))
        .where(col(Household.team_id) == team_id, col(Household.confidential).is_(False))
        .order_by(col(Household.reference))
        .limit(n)
    )
    return list(rows)


def _known(found: set[str], codes: list[str]) -> list[str]:
    return [c for c in codes if c in found] or sorted(found)[:1]


@demo_loader(order=90)
async def signals(uow: UnitOfWork, ctx: DemoContext) -> None:
    officer = ctx.users.get("policy_officer")
    needed = ("generalist_a", "team_lead_a", "generalist_b", "team_lead_b")
    if ctx.municipality_id is None or officer is None or any(k not in ctx.workers for k in needed):
        return
    taken = await uow.session.scalar(
        sa.select(sa.func.count()).where(col(PolicySignal.municipality_id) == ctx.municipality_id)
    )
    if taken:
        return  # loaded before
    policy = policy_from(ctx.settings)
    themes = set(await uow.session.scalars(sa.text("SELECT code FROM themes WHERE active")))
    domains = set(await uow.session.scalars(sa.text("SELECT code FROM life_domains WHERE active")))

    async def draft(key: str, body: dict[str, Any], households: list[uuid.UUID]) -> SignalRead:
        fields = {
            **body,
            "themes": _known(themes, body["themes"]),
            "life_domains": _known(domains, body["life_domains"]),
            "household_ids": households,
        }
        role = Role.team_lead if key.startswith("team_lead") else Role.generalist
        return await service.create(uow, _worker(ctx, key, role), SignalCreate.model_validate(fields), policy)

    async def submit(key: str, read: SignalRead, bundle: list[uuid.UUID] | None = None) -> SignalRead:
        lead = _worker(ctx, key, Role.team_lead)
        body = SignalSubmit(bundle=bundle or [])
        return await service.submit(uow, lead, read.id, body, ExpectedVersion(read.version), policy)

    async def decide(read: SignalRead, **fields: object) -> SignalRead:
        body = SignalDecision.model_validate(fields)
        return await service.decide(
            uow, _officer(officer), read.id, body, ExpectedVersion(read.version), policy
        )

    team_a = await _households(uow, ctx.teams["a"], 3)
    other = await submit(
        "team_lead_b", await draft("generalist_b", PGB, await _households(uow, ctx.teams["b"], 2))
    )
    pgb = await submit("team_lead_a", await draft("generalist_a", PGB, team_a), [other.id])
    pgb = await decide(pgb, status=SignalStatus.in_consideration)
    await decide(
        pgb,
        status=SignalStatus.answered,
        answer=SignalAnswer.exemption_granted,
        reasoning="The mayor grants the exemption for these households: the care is needed daily and the "
        "daughter is the one who can give it.",
    )
    lift = await submit("team_lead_a", await draft("generalist_a", STAIR_LIFT, team_a[:1]))
    lift = await decide(lift, status=SignalStatus.in_consideration)
    lift = await decide(
        lift,
        status=SignalStatus.answered,
        answer=SignalAnswer.policy_will_change,
        reasoning="Small practical solutions cost less and help sooner; the ordinance will allow them.",
    )
    await decide(
        lift,
        status=SignalStatus.closed,
        outcome="Teams have a budget for small practical solutions.",
        outcome_from=date(date.today().year, 1, 1),
    )
    await draft("generalist_a", REMISSION, [])
