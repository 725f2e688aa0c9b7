"""Queries of meetings and decisions: who was present, the network's decision rules, the ballots.

Who was present and who voted what are members-only: the reads take the viewer and select those rows
for the networks the viewer may read privately, in the statement.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import table_of
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.models import (
    Grant,
    GrantBallot,
    MeetingAttendance,
    NetworkMeeting,
    NetworkMember,
    ResidentNetwork,
)
from app.domain.initiatives.schemas import AttendeeView, BallotView, MeetingView

MT = table_of(NetworkMeeting).c
AT = table_of(MeetingAttendance).c
M = table_of(NetworkMember).c
N = table_of(ResidentNetwork).c
G = table_of(Grant).c
B = table_of(GrantBallot).c


@dataclass(frozen=True, slots=True)
class Attendee:
    """A member present at a meeting, with what tells whether they are linked to an initiative."""

    attendance_id: uuid.UUID
    member_id: uuid.UUID | None
    display_name: str
    is_resident: bool
    user_id: uuid.UUID | None
    email: str | None


@dataclass(frozen=True, slots=True)
class DecidingMeeting:
    """A meeting about to decide, with the network's decision rules as they are now."""

    id: uuid.UUID
    network_id: uuid.UUID
    present_count: int
    resident_count: int
    quorum_members: int
    resident_share_percent: int
    anonymous_voting: bool
    attendees: list[Attendee]


async def members_of_network(
    session: AsyncSession, network_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> list[Any]:
    """(id, display_name, is_resident) of those of ``member_ids`` who are members of the network."""
    query = sa.select(M.id, M.display_name, M.is_resident).where(
        M.network_id == network_id, M.id.in_(list(member_ids))
    )
    return list(await session.execute(query))


async def network_of_meeting(session: AsyncSession, meeting_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(sa.select(MT.network_id).where(MT.id == meeting_id))


async def lock_meeting(session: AsyncSession, meeting_id: uuid.UUID) -> NetworkMeeting | None:
    """The meeting row, locked for a correction."""
    query = sa.select(NetworkMeeting).where(MT.id == meeting_id).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def has_decisions(session: AsyncSession, meeting_id: uuid.UUID) -> bool:
    """Whether a grant decision was made in the meeting."""
    return bool(await session.scalar(sa.select(sa.exists().where(G.meeting_id == meeting_id))))


async def clear_attendance(session: AsyncSession, meeting_id: uuid.UUID) -> None:
    """Remove who was present (before a corrected list; a meeting that decided keeps its record)."""
    await session.execute(sa.delete(table_of(MeetingAttendance)).where(AT.meeting_id == meeting_id))


async def deciding_meeting(session: AsyncSession, meeting_id: uuid.UUID) -> DecidingMeeting | None:
    head = (
        await session.execute(
            sa.select(
                MT.id,
                MT.network_id,
                MT.present_count,
                MT.resident_count,
                N.quorum_members,
                N.resident_share_percent,
                N.anonymous_voting,
            )
            .join(table_of(ResidentNetwork), N.id == MT.network_id)
            .where(MT.id == meeting_id)
            # A correction of the meeting (which locks it for update) waits for this decision to
            # commit and then finds it; a decision waits for a correction and reads it corrected.
            .with_for_update(of=table_of(NetworkMeeting), read=True)
        )
    ).one_or_none()
    if head is None:
        return None
    attendees = await session.execute(
        sa.select(AT.id, AT.member_id, AT.display_name, AT.is_resident, M.user_id, M.email)
        .outerjoin(table_of(NetworkMember), M.id == AT.member_id)
        .where(AT.meeting_id == meeting_id)
        .order_by(AT.display_name, AT.id)
    )
    return DecidingMeeting(*head, attendees=[Attendee(*row) for row in attendees])


async def meetings_of_networks(
    session: AsyncSession, viewer: Viewer, network_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[MeetingView]]:
    """Meetings per network, newest first; who was present only for the viewer's own networks."""
    can_decide = sa.and_(
        MT.present_count >= N.quorum_members,
        100 * MT.resident_count >= N.resident_share_percent * MT.present_count,
    )
    query = (
        sa.select(
            MT.id,
            MT.network_id,
            MT.held_on,
            MT.present_count,
            MT.resident_count,
            can_decide.label("ok"),
            MT.version,
        )
        .join(table_of(ResidentNetwork), N.id == MT.network_id)
        .where(MT.network_id.in_(list(network_ids)))
        .order_by(MT.held_on.desc(), MT.created_at.desc())
    )
    rows = list(await session.execute(query))
    present = await _attendance(
        session, viewer, [r.id for r in rows if viewer.can_read_private(r.network_id)]
    )
    grouped: dict[uuid.UUID, list[MeetingView]] = defaultdict(list)
    for row in rows:
        shown = present.get(row.id, []) if viewer.can_read_private(row.network_id) else None
        grouped[row.network_id].append(
            MeetingView(
                row.id,
                row.network_id,
                row.held_on,
                row.present_count,
                row.resident_count,
                row.ok,
                shown,
                row.version,
            )
        )
    return grouped


async def _attendance(
    session: AsyncSession, viewer: Viewer, meeting_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AttendeeView]]:
    grouped: dict[uuid.UUID, list[AttendeeView]] = defaultdict(list)
    if not meeting_ids:
        return grouped
    query = (
        sa.select(AT.meeting_id, MT.network_id, AT.display_name, AT.is_resident)
        .join(table_of(NetworkMeeting), MT.id == AT.meeting_id)
        .where(AT.meeting_id.in_(meeting_ids), MT.network_id.in_(viewer.private_networks))
        .order_by(AT.display_name, AT.id)
    )
    for row in await session.execute(query):
        grouped[row.meeting_id].append(AttendeeView(row.network_id, row.display_name, row.is_resident))
    return grouped


async def ballots_of_grants(
    session: AsyncSession, viewer: Viewer, grant_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[BallotView]]:
    """Who voted what (and who was recused, why), for grants of the viewer's own networks only."""
    grouped: dict[uuid.UUID, list[BallotView]] = defaultdict(list)
    if not viewer.private_networks:
        return grouped
    query = (
        sa.select(B.grant_id, MT.network_id, AT.display_name, B.ballot, B.conflict)
        .join(table_of(MeetingAttendance), AT.id == B.attendance_id)
        .join(table_of(NetworkMeeting), MT.id == AT.meeting_id)
        .where(B.grant_id.in_(list(grant_ids)), MT.network_id.in_(viewer.private_networks))
        .order_by(AT.display_name, AT.id)
    )
    for row in await session.execute(query):
        grouped[row.grant_id].append(BallotView(*row))
    return grouped
