"""Every query of the policy signals: visibility in SQL, the households behind a signal, the steps."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.households.access import visible_to
from app.domain.households.models import Household, Member
from app.domain.organisation.models import Area, Municipality, Team, WorkerTeam
from app.domain.signals.models import (
    PolicySignal,
    PolicySignalHousehold,
    PolicySignalTransition,
    SignalStatus,
)
from app.security.principal import Principal
from app.security.scopes import Role

Keyset = tuple[datetime, uuid.UUID]
TEAM_ROLES = frozenset({Role.generalist, Role.team_lead})


def own_teams(principal: Principal) -> Any:
    return select(WorkerTeam.team_id).where(WorkerTeam.worker_id == principal.worker_id)


def visible(principal: Principal) -> sa.ColumnElement[bool]:
    """SQL condition on ``PolicySignal``: the caller may read this signal.

    Team members read their teams' signals, drafts included; a team lead also reads the submitted
    signals of other teams of the municipality (the team leads' meeting, where similar ones are
    bundled); policy staff read every signal past draft, of every municipality in the deployment (an
    account has no municipality: one deployment serves one municipality). Nobody else reads any."""
    submitted = col(PolicySignal.status) != str(SignalStatus.draft)
    if principal.role is Role.policy_officer:
        return submitted
    if principal.role not in TEAM_ROLES or principal.worker_id is None:
        return sa.false()
    own = col(PolicySignal.team_id).in_(own_teams(principal))
    if principal.role is not Role.team_lead:
        return own
    municipalities = select(Team.municipality_id).where(col(Team.id).in_(own_teams(principal)))
    return sa.or_(own, sa.and_(submitted, col(PolicySignal.municipality_id).in_(municipalities)))


def raised_by_own_team(principal: Principal) -> sa.ColumnElement[bool]:
    if principal.role not in TEAM_ROLES or principal.worker_id is None:
        return sa.false()
    return col(PolicySignal.team_id).in_(own_teams(principal))


@dataclass(frozen=True)
class SignalRow:
    """A signal with the names its answer shows, and whether the caller's team raised it."""

    signal: PolicySignal
    team_name: str
    municipality_code: str
    area_code: str | None
    own: bool


def _rows_query(principal: Principal) -> Any:
    wijk = aliased(Area)
    return (
        sa.select(
            PolicySignal,
            col(Team.name),
            col(Municipality.code),
            col(wijk.code),
            raised_by_own_team(principal).label("own"),
        )
        .join(Team, col(Team.id) == col(PolicySignal.team_id))
        .join(Municipality, col(Municipality.id) == col(PolicySignal.municipality_id))
        .outerjoin(wijk, col(wijk.id) == col(PolicySignal.area_id))
        .where(visible(principal))
    )


def _row(found: Any) -> SignalRow:
    return SignalRow(found[0], found[1], found[2], found[3], bool(found[4]))


async def get_visible(
    session: AsyncSession, principal: Principal, signal_id: uuid.UUID, *, for_update: bool = False
) -> SignalRow | None:
    query = _rows_query(principal).where(col(PolicySignal.id) == signal_id)
    if for_update:
        query = query.with_for_update(of=PolicySignal)
    found = (await session.execute(query)).first()
    return _row(found) if found else None


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    filters: Sequence[sa.ColumnElement[bool]],
    *,
    limit: int,
    after: Keyset | None,
) -> list[SignalRow]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = _rows_query(principal).where(*filters)
    if after is not None:
        query = query.where(sa.tuple_(col(PolicySignal.created_at), col(PolicySignal.id)) < sa.tuple_(*after))
    query = query.order_by(col(PolicySignal.created_at).desc(), col(PolicySignal.id).desc()).limit(limit)
    return [_row(found) for found in (await session.execute(query)).all()]


# -- the team, the area -----------------------------------------------------------------------------


async def worker_teams(session: AsyncSession, worker_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """The worker's teams and the municipality of each."""
    rows = await session.execute(
        select(col(Team.id), col(Team.municipality_id))
        .join(WorkerTeam, col(WorkerTeam.team_id) == col(Team.id))
        .where(WorkerTeam.worker_id == worker_id)
    )
    return {row[0]: row[1] for row in rows}


async def wijk_id(session: AsyncSession, municipality_id: uuid.UUID, code: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await session.scalar(
        select(Area.id).where(
            Area.municipality_id == municipality_id, Area.code == code, Area.level == "wijk"
        )
    )
    return found


# -- the households behind a signal ---------------------------------------------------------------


async def linked_households(
    session: AsyncSession, signal_ids: Iterable[uuid.UUID], *, seen_by: Principal | None = None
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The households linked to each signal itself; with ``seen_by``, only those that principal may
    open (the case file's own rule, ``visible_to``: a confidential household only for the involved)."""
    ids = list(signal_ids)
    out: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not ids:
        return out
    query = select(col(PolicySignalHousehold.signal_id), col(PolicySignalHousehold.household_id)).where(
        col(PolicySignalHousehold.signal_id).in_(ids)
    )
    if seen_by is not None:
        query = query.join(Household, col(Household.id) == col(PolicySignalHousehold.household_id)).where(
            visible_to(seen_by)
        )
    rows = await session.execute(
        query.order_by(col(PolicySignalHousehold.linked_at), col(PolicySignalHousehold.household_id))
    )
    for signal_id, household_id in rows:
        out[signal_id].append(household_id)
    return out


async def household_counts(session: AsyncSession, signal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The households linked to each signal itself (a bundled signal counts its own)."""
    ids = list(signal_ids)
    if not ids:
        return {}
    signal = col(PolicySignalHousehold.signal_id)
    rows = await session.execute(select(signal, sa.func.count()).where(signal.in_(ids)).group_by(signal))
    counts = {row[0]: int(row[1]) for row in rows}
    return {signal_id: counts.get(signal_id, 0) for signal_id in ids}


async def bundle_household_counts(
    session: AsyncSession, lead_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The distinct households behind each lead and the signals bundled into it (all teams')."""
    ids = list(lead_ids)
    if not ids:
        return {}
    lead = sa.func.coalesce(col(PolicySignal.bundled_into_id), col(PolicySignal.id))
    wanted = sa.or_(col(PolicySignal.id).in_(ids), col(PolicySignal.bundled_into_id).in_(ids))
    rows = await session.execute(
        select(lead, sa.func.count(sa.distinct(col(PolicySignalHousehold.household_id))))
        .join(PolicySignalHousehold, col(PolicySignalHousehold.signal_id) == col(PolicySignal.id))
        .where(wanted)
        .group_by(lead)
    )
    counts = {row[0]: int(row[1]) for row in rows}
    return {signal_id: counts.get(signal_id, 0) for signal_id in ids}


async def replace_households(
    session: AsyncSession, principal: Principal, signal_id: uuid.UUID, household_ids: Sequence[uuid.UUID]
) -> None:
    """Link exactly ``household_ids`` among the households the principal may open; links to households
    they may not open (a colleague's confidential one) are kept, never silently dropped."""
    theirs = select(Household.id).where(visible_to(principal))
    await session.execute(
        sa.delete(PolicySignalHousehold).where(
            col(PolicySignalHousehold.signal_id) == signal_id,
            col(PolicySignalHousehold.household_id).not_in(household_ids),
            col(PolicySignalHousehold.household_id).in_(theirs),
        )
    )
    if household_ids:
        rows = [{"signal_id": signal_id, "household_id": h} for h in household_ids]
        await session.execute(insert(table_of(PolicySignalHousehold)).values(rows).on_conflict_do_nothing())


async def member_names(session: AsyncSession, household_ids: Sequence[uuid.UUID]) -> list[str]:
    """The given and family names of the members of these households (for the personal-data check)."""
    if not household_ids:
        return []
    rows = await session.execute(
        select(col(Member.given_name), col(Member.family_name)).where(
            col(Member.household_id).in_(household_ids)
        )
    )
    return [name for row in rows for name in row if name]


# -- bundles and steps ------------------------------------------------------------------------------


async def bundled_into(
    session: AsyncSession, lead_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    ids = list(lead_ids)
    out: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not ids:
        return out
    rows = await session.execute(
        select(col(PolicySignal.bundled_into_id), col(PolicySignal.id))
        .where(col(PolicySignal.bundled_into_id).in_(ids))
        .order_by(col(PolicySignal.created_at), col(PolicySignal.id))
    )
    for lead, signal_id in rows:
        if lead is not None:
            out[lead].append(signal_id)
    return out


async def bundle_candidates(
    session: AsyncSession, municipality_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PolicySignal]:
    """The signals of the municipality among ``ids``, locked (a bundle is made once)."""
    if not ids:
        return {}
    rows = await session.scalars(
        select(PolicySignal)
        .where(col(PolicySignal.id).in_(ids), PolicySignal.municipality_id == municipality_id)
        .with_for_update()
    )
    return {signal.id: signal for signal in rows}


async def leads_a_bundle(session: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await session.scalars(
        select(col(PolicySignal.bundled_into_id)).where(col(PolicySignal.bundled_into_id).in_(ids)).distinct()
    )
    return {r for r in rows if r is not None}


async def followers(session: AsyncSession, lead_id: uuid.UUID) -> list[PolicySignal]:
    """The signals bundled into ``lead_id``, locked: they move with it."""
    rows = await session.scalars(
        select(PolicySignal)
        .where(PolicySignal.bundled_into_id == lead_id)
        .order_by(col(PolicySignal.id))
        .with_for_update()
    )
    return list(rows)


async def transitions_of(
    session: AsyncSession, signal_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[PolicySignalTransition]]:
    ids = list(signal_ids)
    out: dict[uuid.UUID, list[PolicySignalTransition]] = defaultdict(list)
    if not ids:
        return out
    rows = await session.scalars(
        select(PolicySignalTransition)
        .where(col(PolicySignalTransition.signal_id).in_(ids))
        .order_by(col(PolicySignalTransition.occurred_at), col(PolicySignalTransition.id))
    )
    for transition in rows:
        out[transition.signal_id].append(transition)
    return out


async def now(session: AsyncSession) -> datetime:
    moment = await session.scalar(select(sa.func.now()))
    assert moment is not None
    return moment
