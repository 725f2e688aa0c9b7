"""SQL of offline sync: the transaction-id watermark and the change rows of one caller's caseload."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.households.models import Household
from app.domain.unit_of_work.change_feed import CaseChange


@dataclass(frozen=True)
class Change:
    seq: int
    household_id: uuid.UUID
    entity: str
    entity_id: uuid.UUID
    op: str
    visible: bool = False  # the household is in the caller's caseload now


async def watermark(session: AsyncSession) -> int:
    """Every transaction with a smaller id has finished (committed or aborted) by now."""
    value = await session.scalar(sa.text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
    return int(value)


async def caseload_ids(
    session: AsyncSession,
    caseload: sa.ColumnElement[bool],
    *,
    among: Sequence[uuid.UUID] | None = None,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[uuid.UUID]:
    query = select(Household.id).where(caseload)
    if among is not None:
        query = query.where(col(Household.id).in_(among))
    if after is not None:
        query = query.where(col(Household.id) > after)
    query = query.order_by(col(Household.id))
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def changes(
    session: AsyncSession,
    caseload: sa.ColumnElement[bool],
    *,
    worker_id: uuid.UUID,
    team_ids: Sequence[uuid.UUID],
    from_txid: int,
    to_txid: int,
    after_seq: int,
    limit: int,
) -> list[Change]:
    """Changes in ``[from_txid, to_txid)`` after ``after_seq``, in seq order, that concern the caller:
    of a household in their caseload now (``visible``), or an access change / household deletion that
    took it from an audience they belonged to (the team, or the personally involved workers)."""
    in_caseload = (
        select(Household.id).where(caseload, col(Household.id) == col(CaseChange.household_id)).exists()
    )
    lost_it = sa.or_(
        col(CaseChange.former_team_id).in_(team_ids) if team_ids else sa.false(),
        col(CaseChange.former_worker_ids).contains(array([worker_id])),
    )
    query = (
        sa.select(
            col(CaseChange.seq),
            col(CaseChange.household_id),
            col(CaseChange.entity),
            col(CaseChange.entity_id),
            col(CaseChange.op),
            in_caseload.label("visible"),  # so no second statement asks which households are visible
        )
        .where(
            col(CaseChange.txid) >= from_txid,
            col(CaseChange.txid) < to_txid,
            col(CaseChange.seq) > after_seq,
            sa.or_(in_caseload, lost_it),
        )
        .order_by(col(CaseChange.seq))
        .limit(limit)
    )
    return [
        Change(int(r[0] or 0), r[1], r[2], r[3], r[4], bool(r[5]))
        for r in (await session.execute(query)).all()
    ]
