"""Use cases of resident initiatives and grants: the one place REST and GraphQL both go through.

Object rules: an initiative the caller may not see answers like a missing one (NotFound). A member
who may see it but lacks the coordinator role gets Forbidden for grant decisions. Every write locks
the initiative row first (then, for grants, the year plan row), checks the expected version and the
lifecycle, and bumps the version. Never commits: the request's unit of work does.

The REST use cases (``public_initiatives``, ``public_initiative``) take the unit of work. The others
take the request's session: GraphQL calls them, and its context holds the session of the request's
unit of work (with a lock, as graphql-core resolves sibling fields concurrently).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from app.domain.initiatives import decisions, rules
from app.domain.initiatives import ledger_repository as ledger
from app.domain.initiatives import repository as repo
from app.domain.initiatives.access import Viewer, viewer_for
from app.domain.initiatives.models import Grant, GrantBallot, GrantDecision, Initiative, InitiativeStatus
from app.domain.initiatives.schemas import (
    GrantDecisionIn,
    GrantRequest,
    GrantView,
    InitiativeCreate,
    InitiativeFilter,
    InitiativeReportIn,
    InitiativeUpdate,
    InitiativeView,
    NeighbourhoodView,
    ThemeView,
)
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

MAX_PAGE = 500  # GraphQL dashboards; REST caps at 100 in the router
MAX_NEIGHBOURHOODS = 1000  # one municipality's buurten on one page
# The shared theme list is reference data that migrations change: a process reads it at most once a
# minute per database instead of on every dashboard request (it was one statement of a list's three).
THEMES_MAX_AGE = 60.0
_themes_read: dict[str, tuple[float, list[ThemeView]]] = {}  # database URL -> (monotonic time, themes)


# -- reads ----------------------------------------------------------------------------------------


async def viewer(session: AsyncSession, principal: Principal | None) -> Viewer:
    """The caller and the networks they belong to now; pass it to every other call of the request."""
    return await viewer_for(session, principal)


async def list_initiatives(
    session: AsyncSession,
    viewer: Viewer,
    flt: InitiativeFilter,
    limit: int,
    after: repo.CursorKey | None = None,
) -> tuple[list[InitiativeView], repo.CursorKey | None]:
    """A page of initiatives the viewer may see, newest first, and the key to continue after."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = await repo.list_initiatives(session, viewer, flt, limit + 1, after)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, (rows[-1].created_at, rows[-1].id)


async def public_initiatives(
    uow: UnitOfWork,
    principal: Principal | None,
    flt: InitiativeFilter,
    *,
    limit: int,
    after: repo.CursorKey | None = None,
) -> list[InitiativeView]:
    """At most ``limit`` initiatives the caller may see, newest first, after the (created_at, id) of
    the last one seen."""
    viewer = await viewer_for(uow.session, principal)
    return await repo.list_initiatives(uow.session, viewer, flt, max(1, min(limit, MAX_PAGE)), after)


async def public_initiative(
    uow: UnitOfWork, principal: Principal | None, initiative_id: uuid.UUID
) -> InitiativeView:
    """One initiative, if the caller may see it (an idea of another network answers as missing)."""
    return await get_initiative(uow.session, await viewer_for(uow.session, principal), initiative_id)


async def get_initiative(session: AsyncSession, viewer: Viewer, initiative_id: uuid.UUID) -> InitiativeView:
    found = await repo.initiatives_by_ids(session, viewer, [initiative_id])
    if initiative_id not in found:
        raise NotFound("initiative")
    return found[initiative_id]


async def initiatives_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[InitiativeView | None]:
    found = await repo.initiatives_by_ids(session, viewer, ids)
    return [found.get(i) for i in ids]


async def initiatives_of(
    session: AsyncSession,
    viewer: Viewer,
    parent: str,
    parent_ids: Sequence[uuid.UUID],
    flt: InitiativeFilter,
    first: int,
) -> list[list[InitiativeView]]:
    """The newest ``first`` initiatives of each buurt or network, for a whole level at once."""
    first = max(1, min(first, MAX_PAGE))
    grouped = await repo.initiatives_by_parent(session, viewer, parent, parent_ids, flt, first)
    return [grouped.get(p, []) for p in parent_ids]


async def grants_of_initiatives(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[GrantView | None]:
    found = await repo.grants_of_initiatives(session, viewer, ids)
    return [found.get(i) for i in ids]


async def themes(session: AsyncSession) -> list[ThemeView]:
    """The active themes in their order (at most THEMES_MAX_AGE seconds old)."""
    bind = session.get_bind()
    database = str(bind.engine.url)
    now = time.monotonic()
    found = _themes_read.get(database)
    if found is None or now - found[0] > THEMES_MAX_AGE:
        found = _themes_read[database] = (now, await repo.themes(session))
    return list(found[1])


async def neighbourhoods(
    session: AsyncSession, municipality_code: str | None, wijk_code: str | None, limit: int
) -> list[NeighbourhoodView]:
    municipality_id = None
    if municipality_code is not None:
        municipality_id = await repo.municipality_of_code(session, municipality_code)
        if municipality_id is None:
            return []
    limit = max(1, min(limit, MAX_NEIGHBOURHOODS))
    return await repo.neighbourhoods(session, municipality_id, wijk_code, limit)


async def neighbourhood(session: AsyncSession, code: str) -> NeighbourhoodView:
    found = await repo.neighbourhoods_by_codes(session, [code])
    if code not in found:
        raise NotFound("neighbourhood")
    return found[code]


# -- writes ---------------------------------------------------------------------------------------


async def check_themes(session: AsyncSession, codes: list[str], field: str = "themes") -> None:
    unknown = await repo.unknown_themes(session, codes)
    if unknown:
        raise ValidationFailed(
            [FieldError(("input", field), "Unknown or inactive theme code.", "unknown_theme")]
        )


async def _buurt_in_network(session: AsyncSession, network_id: uuid.UUID, code: str) -> uuid.UUID:
    found = await repo.buurt_municipalities(session, [code])
    if code not in found or found[code][0] not in await repo.network_area_ids(session, network_id):
        raise ValidationFailed(
            [
                FieldError(
                    ("input", "buurt"), "The buurt is not in the network's area.", "buurt_outside_network"
                )
            ]
        )
    return found[code][0]


def _check_dates(initiative: Initiative) -> None:
    if initiative.starts_on and initiative.ends_on and initiative.ends_on < initiative.starts_on:
        raise ValidationFailed(
            [FieldError(("input", "ends_on"), "The end date is before the start date.", "dates_order")]
        )


async def propose(uow: UnitOfWork, viewer: Viewer, data: InitiativeCreate) -> InitiativeView:
    """A member proposes an initiative for their network (status ``idea``)."""
    if not viewer.can_write(data.network_id):
        raise NotFound("network")
    buurt_id = await _buurt_in_network(uow.session, data.network_id, data.buurt)
    await check_themes(uow.session, data.themes)
    initiative = Initiative(
        network_id=data.network_id,
        buurt_id=buurt_id,
        title=data.title,
        summary=data.summary,
        themes=list(dict.fromkeys(data.themes)),
        initiator_name=data.initiator.name,
        initiator_email=data.initiator.email,
        initiator_phone=data.initiator.phone,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        proposed_by=viewer.user_id,
    )
    uow.session.add(initiative)
    await uow.session.flush()
    return await get_initiative(uow.session, viewer, initiative.id)


async def _locked(
    session: AsyncSession, viewer: Viewer, initiative_id: uuid.UUID, expected_version: ExpectedVersion
) -> Initiative:
    """The initiative, locked, provided the caller may write it and edited the current version."""
    initiative = await repo.lock_initiative(session, initiative_id)
    if initiative is None or not viewer.can_write(initiative.network_id):
        raise NotFound("initiative")
    expected_version.check(initiative.id, initiative.version)
    return initiative


async def _saved(session: AsyncSession, viewer: Viewer, initiative: Initiative) -> InitiativeView:
    initiative.version += 1
    initiative.updated_at = utcnow()
    await session.flush()
    return await get_initiative(session, viewer, initiative.id)


async def update(
    uow: UnitOfWork,
    viewer: Viewer,
    initiative_id: uuid.UUID,
    expected_version: ExpectedVersion,
    data: InitiativeUpdate,
) -> InitiativeView:
    initiative = await _locked(uow.session, viewer, initiative_id, expected_version)
    rules.check_editable(initiative.status)
    changes = data.model_dump(exclude_unset=True)
    if data.buurt is not None:
        initiative.buurt_id = await _buurt_in_network(uow.session, initiative.network_id, data.buurt)
    if data.themes is not None:
        await check_themes(uow.session, data.themes)
        initiative.themes = list(dict.fromkeys(data.themes))
    if data.initiator is not None:
        initiative.initiator_name = data.initiator.name
        initiative.initiator_email = data.initiator.email
        initiative.initiator_phone = data.initiator.phone
    for name in ("title", "summary"):  # required fields: null means "unchanged"
        if changes.get(name) is not None:
            setattr(initiative, name, changes[name])
    for name in ("starts_on", "ends_on"):  # optional dates: null clears them
        if name in changes:
            setattr(initiative, name, changes[name])
    _check_dates(initiative)
    return await _saved(uow.session, viewer, initiative)


async def request_grant(
    uow: UnitOfWork,
    viewer: Viewer,
    initiative_id: uuid.UUID,
    expected_version: ExpectedVersion,
    data: GrantRequest,
) -> InitiativeView:
    """idea -> requested, against the network's year plan of ``data.year``."""
    initiative = await _locked(uow.session, viewer, initiative_id, expected_version)
    rules.check_transition(initiative.status, InitiativeStatus.requested)
    year_plan_id = await repo.year_plan_id_for(uow.session, initiative.network_id, data.year)
    if year_plan_id is None:
        raise ValidationFailed(
            [FieldError(("input", "year"), "The network has no year plan for this year.", "no_year_plan")]
        )
    initiative.year_plan_id = year_plan_id
    initiative.requested_cents = data.amount_cents
    initiative.status = InitiativeStatus.requested
    return await _saved(uow.session, viewer, initiative)


async def decide_grant(
    uow: UnitOfWork,
    viewer: Viewer,
    initiative_id: uuid.UUID,
    expected_version: ExpectedVersion,
    data: GrantDecisionIn,
) -> InitiativeView:
    """A coordinator records a meeting's decision: granted (within the year plan's available budget)
    or rejected, as the votes of the members present decided (``decisions.count_votes``).

    Lock order: initiative, then year plan. Two grants racing for the last euros queue on the year
    plan row; the second sees the first one's total and is refused (409, year_plan_budget_exceeded).
    """
    initiative = await repo.lock_initiative(uow.session, initiative_id)
    if initiative is None or not viewer.can_read_private(initiative.network_id):
        raise NotFound("initiative")
    if not viewer.can_manage(initiative.network_id):
        raise Forbidden("Only a coordinator of the network decides on grants.", rule="coordinator_only")
    expected_version.check(initiative.id, initiative.version)
    target = InitiativeStatus.granted if data.decision is GrantDecision.granted else InitiativeStatus.rejected
    rules.check_transition(initiative.status, target)
    assert initiative.year_plan_id is not None  # set by request_grant; the status says it happened
    counted = await decisions.count_votes(uow.session, initiative, data)
    rules.check_outcome(counted.outcome, data.decision)
    if data.decision is GrantDecision.granted:
        rules.check_grant_amount(initiative.requested_cents, data.amount_cents)
        year_plan = await repo.lock_year_plan(uow.session, initiative.year_plan_id)
        assert year_plan is not None
        committed = year_plan.granted_cents - year_plan.returned_cents
        rules.check_budget(year_plan.budget_cents, committed, data.amount_cents)
        await ledger.grant(uow.session, year_plan, data.amount_cents, initiative.id, viewer.user_id)
        initiative.granted_cents = data.amount_cents
    grant = Grant(
        initiative_id=initiative.id,
        year_plan_id=initiative.year_plan_id,
        decision=data.decision,
        amount_cents=data.amount_cents,
        reason=data.reason,
        decided_by=viewer.user_id,
        meeting_id=counted.meeting_id,
        votes_for=counted.votes_for,
        votes_against=counted.votes_against,
        votes_abstain=counted.votes_abstain,
        public_summary=data.public_summary,
    )
    uow.session.add(grant)
    await uow.session.flush()
    uow.session.add_all(
        GrantBallot(grant_id=grant.id, attendance_id=attendance, ballot=ballot, conflict=conflict)
        for attendance, ballot, conflict in counted.ballots
    )
    initiative.status = target
    return await _saved(uow.session, viewer, initiative)


async def start(
    uow: UnitOfWork, viewer: Viewer, initiative_id: uuid.UUID, expected_version: ExpectedVersion
) -> InitiativeView:
    """granted -> running."""
    initiative = await _locked(uow.session, viewer, initiative_id, expected_version)
    rules.check_transition(initiative.status, InitiativeStatus.running)
    initiative.status = InitiativeStatus.running
    return await _saved(uow.session, viewer, initiative)


async def report(
    uow: UnitOfWork,
    viewer: Viewer,
    initiative_id: uuid.UUID,
    expected_version: ExpectedVersion,
    data: InitiativeReportIn,
) -> InitiativeView:
    """running -> completed, with the participants reached, the amount spent and a closing report.

    With the amount spent, the unspent rest of the grant returns to the year plan's available budget
    (a ledger entry). Without it nothing returns: the network does not know yet what is left.
    """
    initiative = await _locked(uow.session, viewer, initiative_id, expected_version)
    rules.check_transition(initiative.status, InitiativeStatus.completed)
    rules.check_spent(initiative.granted_cents, data.spent_cents)
    if initiative.granted_cents and data.spent_cents is not None and initiative.year_plan_id is not None:
        # Lock order as for grants: initiative (held), then year plan.
        year_plan = await repo.lock_year_plan(uow.session, initiative.year_plan_id)
        assert year_plan is not None
        await ledger.report_spent(
            uow.session, year_plan, initiative.granted_cents, data.spent_cents, initiative.id, viewer.user_id
        )
    initiative.participants_reached = data.participants_reached
    initiative.spent_cents = data.spent_cents
    initiative.report = data.report
    if data.ends_on is not None:
        initiative.ends_on = data.ends_on
    _check_dates(initiative)
    initiative.status = InitiativeStatus.completed
    return await _saved(uow.session, viewer, initiative)
