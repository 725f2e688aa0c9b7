"""Demo resident networks, year plans, ~50 initiatives in every state, meetings and grants.

Everything goes through the initiatives services (as the demo network coordinator), so demo data
obeys the same rules as the API: the resident majority, the lifecycle and the year plan budgets. Each
network meets twice; its grants are decided at the latest meeting, by the votes of the members present,
and completed initiatives report what they spent (the rest returns to the year plan's budget).
No real names: members and initiators are named after their role.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from app.demo import DemoContext, demo_loader
from app.demo.organisation import BUURTEN
from app.domain.concurrency import ExpectedVersion
from app.domain.initiatives import member_repository as member_repo
from app.domain.initiatives import network_service, service
from app.domain.initiatives import repository as repo
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.models import GrantDecision, InitiativeStatus, NetworkRole, Vote
from app.domain.initiatives.schemas import (
    ContactIn,
    GrantDecisionIn,
    GrantRequest,
    InitiativeCreate,
    InitiativeReportIn,
    InitiativeView,
    MeetingCreate,
    MemberCreate,
    NetworkCreate,
    VoteIn,
    YearPlanCreate,
)
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import ROLE_SCOPES, Role

NETWORKS = {"WK999901": "Wijknetwerk Stedenwijk (demo)", "WK999902": "Wijknetwerk Huizum (demo)"}
IDEAS: list[tuple[str, str, list[str]]] = [
    (
        "Financieel café",
        "Monthly coffee morning where volunteers help with letters and bills.",
        ["debts", "poverty"],
    ),
    ("Samen koken op vrijdag", "Neighbours cook and eat together every Friday.", ["loneliness", "meeting"]),
    ("Taalcafé", "Practise Dutch over coffee with neighbours.", ["language", "meeting"]),
    ("Huiswerkklas", "Students help primary school children with homework.", ["youth"]),
    ("Buurtmoestuin", "A shared vegetable garden on the empty corner plot.", ["meeting", "health"]),
    ("Wandelgroep 65+", "A weekly walk for older residents, with coffee afterwards.", ["elderly", "health"]),
    ("Mantelzorgontbijt", "A breakfast for informal carers to meet and rest.", ["informal_care"]),
    ("Repair café", "Fix bikes, toasters and clothes together.", ["poverty", "meeting"]),
    ("Speeltuin opknappen", "Parents repaint and repair the playground.", ["youth", "safety"]),
    ("Opvoedpraat", "Parents share questions about raising teenagers.", ["parenting"]),
    ("Klusjesdienst", "Handy neighbours help older residents with small jobs.", ["elderly", "housing"]),
    ("Sollicitatiecafé", "Help with CVs and job applications.", ["work_income"]),
    ("Buurtpreventie", "Evening walks and a WhatsApp group for a safer street.", ["safety"]),
]
# How the ~50 initiatives are spread over the lifecycle (per network, 25 each).
STATES: list[InitiativeStatus] = (
    [InitiativeStatus.idea] * 4
    + [InitiativeStatus.requested] * 4
    + [InitiativeStatus.rejected] * 3
    + [InitiativeStatus.granted] * 5
    + [InitiativeStatus.running] * 5
    + [InitiativeStatus.completed] * 4
)


@demo_loader(order=60)
async def initiatives(uow: UnitOfWork, ctx: DemoContext) -> None:
    coordinator = ctx.users.get("network_coordinator")
    if ctx.municipality_id is None or coordinator is None:
        return
    session = uow.session
    if await repo.network_name_taken(session, ctx.municipality_id, NETWORKS["WK999901"]):
        return  # loaded before
    year = date.today().year
    principal = Principal(
        subject=str(coordinator),
        role=Role.network_coordinator,
        scopes=frozenset(str(s) for s in ROLE_SCOPES[Role.network_coordinator]),
        client_id="demo-data",
        user_id=coordinator,
    )
    for number, (wijk, name) in enumerate(NETWORKS.items()):
        network_id = await _network(uow, ctx, wijk, name, number)
        viewer = await service.viewer(session, principal)
        for plan_year, budget in ((year - 1, 2_000_000), (year, 2_500_000)):
            priorities = ["loneliness", "debts"] if number == 0 else ["youth", "elderly"]
            plan = YearPlanCreate(year=plan_year, budget_cents=budget, priorities=priorities)
            await network_service.create_year_plan(uow, viewer, network_id, plan)
        buurten = [code for code in ctx.buurten if code.startswith("BU" + wijk[2:])]
        meeting = await _meetings(uow, viewer, network_id)
        for index, status in enumerate(STATES):
            await _initiative(uow, ctx, viewer, meeting, buurten, number * 100 + index, status, year)


@dataclass(frozen=True)
class DemoMeeting:
    network_id: uuid.UUID
    id: uuid.UUID
    residents: list[uuid.UUID]
    partners: list[uuid.UUID]

    def votes(self, granted: bool) -> list[VoteIn]:
        """Residents carry the decision; partners abstain."""
        vote = Vote.for_ if granted else Vote.against
        return [
            *(VoteIn(member_id=m, vote=vote) for m in self.residents),
            *(VoteIn(member_id=m, vote=Vote.abstain) for m in self.partners),
        ]


async def _meetings(uow: UnitOfWork, viewer: Viewer, network_id: uuid.UUID) -> DemoMeeting:
    """Two meetings: one of a few members (no quorum of residents: it cannot decide) and the one
    every member attended, where the grants are decided."""
    members = (await member_repo.members_of_networks(uow.session, viewer, [network_id]))[network_id]
    # The coordinator enters every demo initiative, so is recused on each (conflict: initiator).
    voters = [m for m in members if m.role != NetworkRole.coordinator]
    residents = [m.id for m in voters if m.is_resident]
    partners = [m.id for m in voters if not m.is_resident]
    today = date.today()
    few = MeetingCreate(held_on=today - timedelta(days=60), present_member_ids=[residents[0], *partners])
    await network_service.record_meeting(uow, viewer, network_id, few)
    everyone = MeetingCreate(held_on=today - timedelta(days=30), present_member_ids=[m.id for m in members])
    held = await network_service.record_meeting(uow, viewer, network_id, everyone)
    return DemoMeeting(network_id, held.id, residents, partners)


async def _network(uow: UnitOfWork, ctx: DemoContext, wijk: str, name: str, number: int) -> uuid.UUID:
    """A network over the buurten of one wijk: the demo coordinator (and, in the first, the demo
    resident) with accounts; other residents and partners without."""
    assert ctx.municipality_id is not None
    members = [
        MemberCreate(
            display_name="Coordinator (demo)",
            is_resident=True,
            role=NetworkRole.coordinator,
            user_id=ctx.users["network_coordinator"],
            email="coordinator@example.org",
        ),
        *(MemberCreate(display_name=f"Resident {n} (demo)", is_resident=True) for n in range(1, 5)),
        MemberCreate(display_name="Library (demo)", is_resident=False, email="library@example.org"),
        MemberCreate(display_name="Welfare organisation (demo)", is_resident=False),
    ]
    if number == 0 and "resident" in ctx.users:
        members.append(
            MemberCreate(display_name="Resident (demo)", is_resident=True, user_id=ctx.users["resident"])
        )
    buurten = [code for code in ctx.buurten if code.startswith("BU" + wijk[2:])]
    data = NetworkCreate(municipality_id=ctx.municipality_id, name=name, buurten=buurten)
    network = await network_service.create_network(uow, data, members)
    return network.id


def _current(view: InitiativeView) -> ExpectedVersion:
    """The version just read: each step of the walk edits what the previous one answered."""
    return ExpectedVersion(view.version, view.id)


async def _initiative(
    uow: UnitOfWork,
    ctx: DemoContext,
    viewer: Viewer,
    meeting: DemoMeeting,
    buurten: list[str],
    number: int,
    status: InitiativeStatus,
    year: int,
) -> None:
    """One initiative walked through the lifecycle up to ``status``, through the services."""
    title, summary, themes = IDEAS[number % len(IDEAS)]
    buurt = buurten[number % len(buurten)]
    plan_year = year - 1 if status is InitiativeStatus.completed else year
    starts = date(plan_year, 1, 15) + timedelta(days=ctx.rng.randrange(0, 300))
    data = InitiativeCreate(
        network_id=meeting.network_id,
        buurt=buurt,
        title=f"{title} {BUURTEN[buurt]}",
        summary=summary,
        themes=themes,
        initiator=ContactIn(name=f"Initiator {number} (demo)", email=f"initiator{number}@example.org"),
        starts_on=starts,
        ends_on=starts + timedelta(days=ctx.rng.randrange(30, 180)),
    )
    view = await service.propose(uow, viewer, data)
    if status is InitiativeStatus.idea:
        return
    requested = ctx.rng.randrange(250, 1500) * 100
    request = GrantRequest(amount_cents=requested, year=plan_year)
    view = await service.request_grant(uow, viewer, view.id, _current(view), request)
    if status is InitiativeStatus.requested:
        return
    if status is InitiativeStatus.rejected:
        decision = GrantDecisionIn(
            decision=GrantDecision.rejected,
            reason="Does not fit this year's priorities (demo).",
            meeting_id=meeting.id,
            votes=meeting.votes(granted=False),
            public_summary="Not granted: the residents chose other priorities this year.",
        )
    else:
        amount = requested if ctx.rng.random() < 0.6 else requested * 8 // 10
        decision = GrantDecisionIn(
            decision=GrantDecision.granted,
            amount_cents=amount,
            reason="Fits the plan (demo).",
            meeting_id=meeting.id,
            votes=meeting.votes(granted=True),
            public_summary=f"Granted EUR {amount // 100}: it fits the year plan.",
        )
    view = await service.decide_grant(uow, viewer, view.id, _current(view), decision)
    if status in (InitiativeStatus.rejected, InitiativeStatus.granted):
        return
    view = await service.start(uow, viewer, view.id, _current(view))
    if status is InitiativeStatus.running:
        return
    granted = view.granted_cents or 0
    report = InitiativeReportIn(
        participants_reached=ctx.rng.randrange(8, 120),
        report="Went as planned; see the photos (demo).",
        spent_cents=granted * ctx.rng.randrange(70, 101) // 100,  # the rest returns to the budget
    )
    await service.report(uow, viewer, view.id, _current(view), report)
