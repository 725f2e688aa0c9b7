"""Referrals in offline sync and in the subject-access export.

A referral linked to a household is a sync entity (``referral``, the team's view with its
transitions): every change to it records a ``referral`` change. The export lists the person's
referrals (by member, or unlinked ones are not theirs to list) with their messages. Imported by
``service.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import iso_timestamp, table_of
from app.domain.documents import json_list, json_object
from app.domain.organisation.models import Area
from app.domain.referrals.models import Referral, ReferralMessage, ReferralTransition
from app.domain.referrals.schemas import PersonRead, ReferralRead, TransitionRead
from app.domain.referrals.service import SYNC_ENTITY, present_many
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.registries import (
    ExportSection,
    Subject,
    SyncEntity,
    rows_referencing_member,
    sync_documents,
)


def _transitions() -> Any:
    """The referral's transitions (``TransitionRead``), oldest first, as a JSON array."""
    transitions = table_of(ReferralTransition)
    fields = {name: transitions.c[name] for name in TransitionRead.model_fields}
    return (
        sa.select(json_list(json_object(TransitionRead, fields), transitions.c.occurred_at, transitions.c.id))
        .where(transitions.c.referral_id == col(Referral.id))
        .scalar_subquery()
    )


def _documents() -> sa.Select[Any]:
    """The team's view (``ReferralRead``) of every referral linked to a household."""
    referrals = table_of(Referral)
    buurt = sa.select(col(Area.code)).where(col(Area.id) == referrals.c.buurt_id).scalar_subquery()
    person = json_object(PersonRead, {name: referrals.c[name] for name in PersonRead.model_fields})
    fields: dict[str, Any] = {
        name: referrals.c[name] for name in ReferralRead.model_fields if name in referrals.c
    }
    fields |= {"person": person, "buurt_code": buurt, "transitions": _transitions()}
    return sync_documents(referrals.c.id, referrals.c.household_id, json_object(ReferralRead, fields)).where(
        referrals.c.household_id.is_not(None)
    )


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
        _documents(),
        rows_referencing_member(col(Referral.id), col(Referral.member_id), ChangeOp.upsert),
    ),
)
EXPORT_SECTIONS = (ExportSection("referrals", _export),)
