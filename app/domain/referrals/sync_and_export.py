"""Referrals in offline sync and in the subject-access export.

A referral linked to a household is a sync entity (``referral``, the team's view with its
transitions): every change to it records a ``referral`` change. The export lists the person's
referrals (by member, or unlinked ones are not theirs to list) with their messages. Imported by
``service.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import iso_timestamp
from app.domain.referrals.models import Referral, ReferralMessage
from app.domain.referrals.service import SYNC_ENTITY, present_many
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    SyncRecord,
    rows_referencing_member,
)


async def _records(session: AsyncSession, where: sa.ColumnElement[bool]) -> list[SyncRecord]:
    referrals = list((await session.execute(select(Referral).where(where))).scalars())
    reads = await present_many(session, referrals, partner=False)
    return [
        SyncRecord(r.id, r.household_id, read.model_dump(mode="json"))
        for r, read in zip(referrals, reads, strict=True)
        if r.household_id is not None
    ]


async def _by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(
        session, sa.and_(col(Referral.id).in_(ids), col(Referral.household_id).is_not(None))
    )


async def _by_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[SyncRecord]:
    return await _records(session, col(Referral.household_id).in_(ids))


async def _export(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """The person's referrals in both directions, with the messages exchanged about them."""
    referrals = list(
        (
            await session.execute(select(Referral).where(col(Referral.member_id).in_(subject.member_ids)))
        ).scalars()
    )
    reads = await present_many(session, referrals, partner=False)
    messages: dict[uuid.UUID, list[dict[str, Any]]] = {r.id: [] for r in referrals}
    if referrals:
        rows = await session.execute(
            select(ReferralMessage)
            .where(col(ReferralMessage.referral_id).in_(list(messages)))
            .order_by(col(ReferralMessage.created_at), col(ReferralMessage.id))
        )
        for message in rows.scalars():
            messages[message.referral_id].append(
                {"side": message.side, "body": message.body, "created_at": iso_timestamp(message.created_at)}
            )
    return [{**read.model_dump(mode="json"), "messages": messages[read.id]} for read in reads]


SYNC_ENTITIES = (
    SyncEntity(
        SYNC_ENTITY,
        _by_ids,
        _by_households,
        rows_referencing_member(col(Referral.id), col(Referral.member_id), ChangeOp.upsert),
    ),
)
EXPORT_SECTIONS = (ExportSection("referrals", _export),)
