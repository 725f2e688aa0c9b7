"""Use cases of resident networks: their areas, members (the >= 50% resident rule) and year plans.

Every change of a network's membership locks the network row first (SELECT ... FOR UPDATE), counts
again and refuses a change that would leave fewer than half residents (409, network_resident_majority):
two concurrent changes queue on that lock, so the rule holds whatever their interleaving. Year plan
changes lock the year plan row (the same lock grants take), so a budget cut cannot race a grant.

The administrators' set-up (``create_network``, ``update_network``, the summaries) takes the unit of
work. The members' and coordinators' use cases and the public reads take the request's session:
GraphQL calls them, and its context holds the session of the request's unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.initiatives import admin_repository as admin_repo
from app.domain.initiatives import ledger_repository as ledger
from app.domain.initiatives import meeting_repository as meeting_repo
from app.domain.initiatives import member_repository as member_repo
from app.domain.initiatives import repository as repo
from app.domain.initiatives import rules
from app.domain.initiatives.access import MEMBER_ROLES, Viewer
from app.domain.initiatives.models import (
    MeetingAttendance,
    NetworkArea,
    NetworkMeeting,
    NetworkMember,
    NetworkRole,
    ResidentNetwork,
    YearPlan,
)
from app.domain.initiatives.schemas import (
    BallotView,
    GrantView,
    LedgerEntryView,
    MeetingCorrection,
    MeetingCreate,
    MeetingView,
    MemberCreate,
    MemberUpdate,
    MemberView,
    NeighbourhoodView,
    NetworkCreate,
    NetworkSummaryView,
    NetworkUpdate,
    NetworkView,
    YearPlanCreate,
    YearPlanMoneyRead,
    YearPlanUpdate,
    YearPlanView,
)
from app.domain.initiatives.service import check_themes
from app.domain.organisation.common import flush
from app.domain.unit_of_work.work import UnitOfWork
from app.security.scopes import Role

MAX_NETWORKS = 500
Loc = tuple[str | int, ...]


# -- reads (public, except members) ---------------------------------------------------------------


async def list_networks(
    session: AsyncSession, municipality_code: str | None, buurt_code: str | None, limit: int
) -> list[NetworkView]:
    municipality_id = None
    if municipality_code is not None:
        municipality_id = await repo.municipality_of_code(session, municipality_code)
        if municipality_id is None:
            return []
    return await repo.list_networks(session, municipality_id, buurt_code, max(1, min(limit, MAX_NETWORKS)))


async def get_network(session: AsyncSession, network_id: uuid.UUID) -> NetworkView:
    found = await repo.networks_by_ids(session, [network_id])
    if network_id not in found:
        raise NotFound("network")
    return found[network_id]


async def networks_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[NetworkView | None]:
    found = await repo.networks_by_ids(session, ids)
    return [found.get(i) for i in ids]


async def areas_of_networks(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[NeighbourhoodView]]:
    grouped = await repo.areas_of_networks(session, ids)
    return [grouped.get(i, []) for i in ids]


async def networks_of_buurten(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[NetworkView]]:
    grouped = await repo.networks_of_buurten(session, ids)
    return [grouped.get(i, []) for i in ids]


async def members_of_networks(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[MemberView] | None]:
    """Member lists, for networks the viewer belongs to only (None elsewhere: not an empty list)."""
    grouped = await member_repo.members_of_networks(session, viewer, ids)
    return [grouped.get(i, []) if viewer.can_read_private(i) else None for i in ids]


async def year_plans_of_networks(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[YearPlanView]]:
    grouped = await repo.year_plans_of_networks(session, ids)
    return [grouped.get(i, []) for i in ids]


async def grants_of_networks(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[GrantView]]:
    grouped = await repo.grants_of_networks(session, viewer, ids)
    return [grouped.get(i, []) for i in ids]


def _view(network: ResidentNetwork) -> NetworkView:
    return NetworkView(
        network.id,
        network.name,
        network.municipality_id,
        network.version,
        network.quorum_members,
        network.resident_share_percent,
        network.anonymous_voting,
    )


async def meetings_of_networks(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[MeetingView]]:
    grouped = await meeting_repo.meetings_of_networks(session, viewer, ids)
    return [grouped.get(i, []) for i in ids]


async def ballots_of_grants(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[BallotView] | None]:
    """Who voted what, for grants of the viewer's own networks (an empty list elsewhere: the caller
    hides the field; the statement selects nothing of other networks)."""
    grouped = await meeting_repo.ballots_of_grants(session, viewer, ids)
    return [grouped.get(i, []) for i in ids]


async def ledgers_of_year_plans(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[list[LedgerEntryView]]:
    """Public: what a network does with public money (amounts and initiatives, never a person)."""
    grouped = await ledger.ledgers(session, ids)
    return [grouped.get(i, []) for i in ids]


# -- set-up (administration, demo data) -----------------------------------------------------------

NAME_TAKEN = "network_name_taken"
NAME_TAKEN_DETAIL = "A network with this name exists in the municipality."


async def _buurt_ids(
    session: AsyncSession, municipality_id: uuid.UUID, codes: Sequence[str], at: Loc
) -> set[uuid.UUID]:
    """The area ids of these buurt codes; 422 unless every one is a buurt of the municipality."""
    found = await repo.buurt_municipalities(session, codes)
    if len(found) != len(set(codes)) or any(m != municipality_id for _, m in found.values()):
        raise ValidationFailed(
            [FieldError((*at, "buurten"), "Unknown buurt for this municipality.", "unknown_buurt")]
        )
    return {area_id for area_id, _ in found.values()}


async def _check_name_free(session: AsyncSession, municipality_id: uuid.UUID, name: str) -> None:
    if await repo.network_name_taken(session, municipality_id, name):
        raise Conflict(NAME_TAKEN_DETAIL, rule=NAME_TAKEN)


async def create_network(
    uow: UnitOfWork, data: NetworkCreate, members: Sequence[MemberCreate] = (), *, at: Loc = ("input",)
) -> NetworkView:
    """A new network over buurten of one municipality, with its first members (rule checked).

    With members, one of them is a coordinator: otherwise nobody could ever manage the network.
    ``at`` is where the input sits in the request ("input" for GraphQL, "body" for REST).
    """
    session = uow.session
    area_ids = await _buurt_ids(session, data.municipality_id, data.buurten, at)
    await _check_name_free(session, data.municipality_id, data.name)
    if members and not any(m.role == NetworkRole.coordinator for m in members):
        raise Conflict("A network keeps at least one coordinator.", rule="network_needs_coordinator")
    accounts = [m.user_id for m in members if m.user_id is not None]
    if len(accounts) != len(set(accounts)):  # the per-member lookup below cannot see unflushed twins
        raise Conflict("This account is already a member of the network.", rule="member_already_linked")
    network = ResidentNetwork(municipality_id=data.municipality_id, name=data.name)
    session.add(network)
    await flush(session, NAME_TAKEN, NAME_TAKEN_DETAIL)  # a concurrent twin: the unique constraint
    session.add_all(NetworkArea(network_id=network.id, area_id=area_id) for area_id in area_ids)
    for index, member in enumerate(members):
        await _check_user_link(session, network.id, member.user_id, (*at, "members", index))
        session.add(NetworkMember(network_id=network.id, **member.model_dump()))
    await session.flush()
    rules.check_resident_majority(*await member_repo.member_counts(session, network.id))
    return _view(network)


async def update_network(
    uow: UnitOfWork, network_id: uuid.UUID, expected_version: ExpectedVersion, data: NetworkUpdate
) -> NetworkView:
    """Rename a network, change its buurten or its decision rules, under the network lock (If-Match:
    ``expected_version``).

    A buurt with an initiative still under way (idea up to running) stays: 409 network_buurt_in_use.
    """
    session = uow.session
    network = await repo.lock_network(session, network_id)
    if network is None:
        raise NotFound("network")
    expected_version.check(network.id, network.version)
    if data.name is not None and data.name != network.name:
        await _check_name_free(session, network.municipality_id, data.name)
        network.name = data.name
    if data.buurten is not None:
        wanted = await _buurt_ids(session, network.municipality_id, data.buurten, ("body",))
        current = await repo.network_area_ids(session, network_id)
        if await admin_repo.open_initiatives_in(session, network_id, current - wanted):
            raise Conflict(
                "A buurt with initiatives under way stays in the network.", rule="network_buurt_in_use"
            )
        await admin_repo.replace_areas(session, network_id, current - wanted, wanted - current)
    for name in ("quorum_members", "resident_share_percent", "anonymous_voting"):
        if getattr(data, name) is not None:
            setattr(network, name, getattr(data, name))
    network.version += 1
    network.updated_at = utcnow()
    await flush(session, NAME_TAKEN, NAME_TAKEN_DETAIL)
    return _view(network)


async def _summaries(session: AsyncSession, networks: Sequence[NetworkView]) -> list[NetworkSummaryView]:
    """Areas and member counts of a page of networks: two statements whatever the page size."""
    ids = [n.id for n in networks]
    areas = await repo.areas_of_networks(session, ids)
    counts = await admin_repo.member_counts(session, ids)
    views = []
    for network in networks:
        residents, members = counts.get(network.id, (0, 0))
        views.append(NetworkSummaryView(network, areas.get(network.id, []), members, residents))
    return views


async def network_summary(uow: UnitOfWork, network_id: uuid.UUID) -> NetworkSummaryView:
    return (await _summaries(uow.session, [await get_network(uow.session, network_id)]))[0]


async def year_plan_money(uow: UnitOfWork, network_id: uuid.UUID) -> list[YearPlanMoneyRead]:
    """A network's year plans, newest first, with their totals and ledgers (administrators)."""
    await get_network(uow.session, network_id)
    plans = (await repo.year_plans_of_networks(uow.session, [network_id])).get(network_id, [])
    entries = await ledger.ledgers(uow.session, [p.id for p in plans])
    return [YearPlanMoneyRead.of(p, entries.get(p.id, [])) for p in plans]


async def list_network_summaries(
    uow: UnitOfWork,
    *,
    limit: int,
    after: tuple[str, uuid.UUID] | None = None,
    municipality_id: uuid.UUID | None = None,
) -> list[NetworkSummaryView]:
    """At most ``limit`` networks by name, after the (name, id) of the last one seen."""
    rows = await admin_repo.network_page(uow.session, municipality_id, after, limit)
    return await _summaries(uow.session, rows)


# -- members --------------------------------------------------------------------------------------


async def _managed_network(session: AsyncSession, viewer: Viewer, network_id: uuid.UUID) -> ResidentNetwork:
    """The network, locked, provided the caller coordinates it (404 for outsiders, 403 for members)."""
    network = await repo.lock_network(session, network_id)
    if network is None or not viewer.can_read_private(network_id):
        raise NotFound("network")
    if not viewer.can_manage(network_id):
        raise Forbidden("Only a coordinator of the network manages it.", rule="coordinator_only")
    return network


async def _check_user_link(
    session: AsyncSession, network_id: uuid.UUID, user_id: uuid.UUID | None, at: Loc = ("input",)
) -> None:
    if user_id is None:
        return
    role = await member_repo.user_role(session, user_id)
    if role is None or Role(role) not in MEMBER_ROLES:
        raise ValidationFailed(
            [FieldError((*at, "user_id"), "Only resident accounts can be linked.", "user_role_not_allowed")]
        )
    if await member_repo.user_linked(session, network_id, user_id):
        raise Conflict("This account is already a member of the network.", rule="member_already_linked")


async def _after_membership_change(session: AsyncSession, network: ResidentNetwork) -> None:
    """Recount under the network lock: the 50% resident rule, and at least one coordinator left."""
    await session.flush()
    rules.check_resident_majority(*await member_repo.member_counts(session, network.id))
    network.version += 1
    network.updated_at = utcnow()
    await session.flush()


async def _member_view(session: AsyncSession, viewer: Viewer, member: NetworkMember) -> MemberView:
    members = (await member_repo.members_of_networks(session, viewer, [member.network_id]))[member.network_id]
    return next(m for m in members if m.id == member.id)


async def add_member(
    uow: UnitOfWork, viewer: Viewer, network_id: uuid.UUID, data: MemberCreate
) -> MemberView:
    network = await _managed_network(uow.session, viewer, network_id)
    await _check_user_link(uow.session, network_id, data.user_id)
    member = NetworkMember(network_id=network_id, **data.model_dump())
    uow.session.add(member)
    await _after_membership_change(uow.session, network)
    return await _member_view(uow.session, viewer, member)


async def _locked_member(
    session: AsyncSession, viewer: Viewer, member_id: uuid.UUID, expected_version: ExpectedVersion
) -> tuple[ResidentNetwork, NetworkMember]:
    """Lock order: the network, then the member (the same order as adding members)."""
    network_id = await member_repo.member_network(session, member_id)
    if network_id is None or not viewer.can_read_private(network_id):
        raise NotFound("member")
    network = await _managed_network(session, viewer, network_id)
    member = await member_repo.lock_member(session, member_id)
    if member is None or member.network_id != network_id:
        raise NotFound("member")
    expected_version.check(member.id, member.version)
    return network, member


async def _check_coordinator_left(session: AsyncSession, viewer: Viewer, network_id: uuid.UUID) -> None:
    members = (await member_repo.members_of_networks(session, viewer, [network_id])).get(network_id, [])
    if not any(m.role == NetworkRole.coordinator for m in members):
        raise Conflict("A network keeps at least one coordinator.", rule="network_needs_coordinator")


async def update_member(
    uow: UnitOfWork,
    viewer: Viewer,
    member_id: uuid.UUID,
    expected_version: ExpectedVersion,
    data: MemberUpdate,
) -> MemberView:
    network, member = await _locked_member(uow.session, viewer, member_id, expected_version)
    changes = data.model_dump(exclude_unset=True)
    for name in ("display_name", "is_resident", "role"):  # required fields: null means "unchanged"
        if changes.get(name) is not None:
            setattr(member, name, changes[name])
    for name in ("email", "phone"):  # optional contact details: null clears them
        if name in changes:
            setattr(member, name, changes[name])
    member.version += 1
    await _after_membership_change(uow.session, network)
    await _check_coordinator_left(uow.session, viewer, network.id)
    return await _member_view(uow.session, viewer, member)


async def remove_member(
    uow: UnitOfWork, viewer: Viewer, member_id: uuid.UUID, expected_version: ExpectedVersion
) -> uuid.UUID:
    network, member = await _locked_member(uow.session, viewer, member_id, expected_version)
    await uow.session.delete(member)
    await _after_membership_change(uow.session, network)
    await _check_coordinator_left(uow.session, viewer, network.id)
    return member_id


# -- year plans -----------------------------------------------------------------------------------


async def create_year_plan(
    uow: UnitOfWork, viewer: Viewer, network_id: uuid.UUID, data: YearPlanCreate
) -> YearPlanView:
    await _managed_network(uow.session, viewer, network_id)  # the lock serialises two creations
    if await repo.year_plan_id_for(uow.session, network_id, data.year) is not None:
        raise Conflict("The network already has a year plan for this year.", rule="year_plan_exists")
    await check_themes(uow.session, data.priorities, "priorities")
    plan = YearPlan(network_id=network_id, **data.model_dump())
    plan.priorities = list(dict.fromkeys(data.priorities))
    uow.session.add(plan)
    await uow.session.flush()
    await ledger.open_budget(uow.session, plan, viewer.user_id)
    view = await repo.year_plan_view(uow.session, plan.id)
    assert view is not None
    return view


async def update_year_plan(
    uow: UnitOfWork,
    viewer: Viewer,
    year_plan_id: uuid.UUID,
    expected_version: ExpectedVersion,
    data: YearPlanUpdate,
) -> YearPlanView:
    plan = await repo.lock_year_plan(uow.session, year_plan_id)
    if plan is None or not viewer.can_read_private(plan.network_id):
        raise NotFound("year plan")
    if not viewer.can_manage(plan.network_id):
        raise Forbidden("Only a coordinator of the network manages it.", rule="coordinator_only")
    expected_version.check(plan.id, plan.version)
    if data.budget_cents is not None:
        rules.check_budget_covers_grants(data.budget_cents, plan.granted_cents - plan.returned_cents)
        await ledger.change_budget(uow.session, plan, data.budget_cents, viewer.user_id)
    if data.priorities is not None:
        await check_themes(uow.session, data.priorities, "priorities")
        plan.priorities = list(dict.fromkeys(data.priorities))
    if "summary" in data.model_fields_set:
        plan.summary = data.summary
    plan.version += 1
    plan.updated_at = utcnow()
    await uow.session.flush()
    view = await repo.year_plan_view(uow.session, plan.id)
    assert view is not None
    return view


# -- meetings -------------------------------------------------------------------------------------


async def record_meeting(
    uow: UnitOfWork, viewer: Viewer, network_id: uuid.UUID, data: MeetingCreate
) -> MeetingView:
    """A coordinator records a meeting and who was present (members of the network, as they are now).

    The meeting is recorded whatever its make-up; whether it can decide is judged when it decides
    (and shown as ``can_decide``), under the network's rules then.
    """
    await _managed_network(uow.session, viewer, network_id)  # the lock: membership holds still
    _check_held(data.held_on)
    found = await _present_members(uow, network_id, data.present_member_ids)
    meeting = NetworkMeeting(
        network_id=network_id,
        held_on=data.held_on,
        present_count=len(found),
        resident_count=sum(1 for row in found if row.is_resident),
        recorded_by=viewer.user_id,
    )
    uow.session.add(meeting)
    await uow.session.flush()
    await _attend(uow, meeting, found)
    return await _meeting_view(uow, viewer, network_id, meeting.id)


async def correct_meeting(
    uow: UnitOfWork,
    viewer: Viewer,
    meeting_id: uuid.UUID,
    expected_version: ExpectedVersion,
    data: MeetingCorrection,
) -> MeetingView:
    """A coordinator corrects a meeting's date or who was present, until a grant is decided in it
    (then the decision's quorum, share and ballots rest on the record as it is: 409 meeting_decided)."""
    network_id = await meeting_repo.network_of_meeting(uow.session, meeting_id)
    if network_id is None or not viewer.can_read_private(network_id):
        raise NotFound("meeting")
    await _managed_network(uow.session, viewer, network_id)  # the network first, as record_meeting
    meeting = await meeting_repo.lock_meeting(uow.session, meeting_id)
    if meeting is None:
        raise NotFound("meeting")
    expected_version.check(meeting.id, meeting.version)
    if await meeting_repo.has_decisions(uow.session, meeting.id):
        raise Conflict("A meeting that decided a grant stays as it was recorded.", rule="meeting_decided")
    if data.held_on is not None:
        _check_held(data.held_on)
        meeting.held_on = data.held_on
    if data.present_member_ids is not None:
        found = await _present_members(uow, network_id, data.present_member_ids)
        await meeting_repo.clear_attendance(uow.session, meeting.id)
        meeting.present_count = len(found)
        meeting.resident_count = sum(1 for row in found if row.is_resident)
        await _attend(uow, meeting, found)
    meeting.version += 1
    await uow.session.flush()
    return await _meeting_view(uow, viewer, network_id, meeting.id)


def _check_held(held_on: date) -> None:
    if held_on > utcnow().date():
        raise ValidationFailed(
            [FieldError(("input", "held_on"), "A meeting is recorded once held.", "meeting_in_future")]
        )


async def _present_members(
    uow: UnitOfWork, network_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> list[Any]:
    """The members present, each once; refused unless every one is a member of the network."""
    wanted = list(dict.fromkeys(member_ids))
    found = await meeting_repo.members_of_network(uow.session, network_id, wanted)
    if len(found) != len(wanted):
        raise ValidationFailed(
            [
                FieldError(
                    ("input", "present_member_ids"), "Only members of the network attend.", "unknown_member"
                )
            ]
        )
    return found


async def _attend(uow: UnitOfWork, meeting: NetworkMeeting, found: list[Any]) -> None:
    """Who was present, as they are now (name and resident status kept with the meeting)."""
    uow.session.add_all(
        MeetingAttendance(
            meeting_id=meeting.id,
            member_id=row.id,
            display_name=row.display_name,
            is_resident=row.is_resident,
        )
        for row in found
    )
    await uow.session.flush()


async def recorded_meeting(
    uow: UnitOfWork, viewer: Viewer, network_id: uuid.UUID, meeting_id: uuid.UUID
) -> MeetingView:
    """A meeting this coordinator recorded before, read again (the answer to a retried recording)."""
    await _managed_network(uow.session, viewer, network_id)
    return await _meeting_view(uow, viewer, network_id, meeting_id)


async def _meeting_view(
    uow: UnitOfWork, viewer: Viewer, network_id: uuid.UUID, meeting_id: uuid.UUID
) -> MeetingView:
    views = await meeting_repo.meetings_of_networks(uow.session, viewer, [network_id])
    found = next((v for v in views[network_id] if v.id == meeting_id), None)
    if found is None:
        raise NotFound("meeting")
    return found
