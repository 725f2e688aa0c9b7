"""All SQL of the consents context."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.consents.models import Consent
from app.domain.consents.rules import LOCAL_ZONE
from app.domain.households.case_sql import HOUSEHOLD, OBJECT
from app.domain.households.models import Member
from app.domain.organisation.models import PartnerOrganisation
from app.domain.reference.models import LifeDomain

# The local date at the database's clock, as SQL text (for hand-written statements) and as an expression.
LOCAL_TODAY_SQL = f"(now() AT TIME ZONE '{LOCAL_ZONE}')::date"
# (The zone written into the SQL, not bound: it is ours, and pre-compiled statements bind no constants.)
LOCAL_TODAY = sa.cast(sa.func.timezone(sa.literal_column(f"'{LOCAL_ZONE}'"), sa.func.now()), sa.Date)


def in_force_clause() -> sa.ColumnElement[bool]:
    """SQL twin of ``rules.in_force`` on the ``consents`` table, evaluated at the database's now()."""
    return sa.and_(
        col(Consent.withdrawn_at).is_(None),
        col(Consent.valid_from) <= LOCAL_TODAY,
        sa.or_(col(Consent.valid_until).is_(None), col(Consent.valid_until) >= LOCAL_TODAY),
    )


async def get(
    session: AsyncSession, household_id: uuid.UUID, consent_id: uuid.UUID, *, for_update: bool = False
) -> Consent | None:
    query = select(Consent).where(Consent.id == consent_id, Consent.household_id == household_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_for_household(
    session: AsyncSession,
    household_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[Consent]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = select(Consent).where(Consent.household_id == household_id)
    if after is not None:
        query = query.where(sa.tuple_(col(Consent.created_at), col(Consent.id)) < sa.tuple_(*after))
    query = query.order_by(col(Consent.created_at).desc(), col(Consent.id).desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def find_in_force(
    session: AsyncSession,
    *,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    organisation_id: uuid.UUID,
    purpose: str,
    consent_id: uuid.UUID | None = None,
) -> Consent | None:
    """An in-force consent of this member for this organisation and purpose (a given one, or the newest)."""
    query = select(Consent).where(
        Consent.household_id == household_id,
        Consent.member_id == member_id,
        Consent.organisation_id == organisation_id,
        Consent.purpose == purpose,
        in_force_clause(),
    )
    if consent_id is not None:
        query = query.where(Consent.id == consent_id)
    query = query.order_by(col(Consent.created_at).desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def member_in_household(session: AsyncSession, member_id: uuid.UUID, household_id: uuid.UUID) -> bool:
    query = select(Member.id).where(Member.id == member_id, Member.household_id == household_id)
    return (await session.execute(query)).first() is not None


async def active_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> bool:
    query = select(PartnerOrganisation.id).where(
        PartnerOrganisation.id == organisation_id, col(PartnerOrganisation.active).is_(True)
    )
    return (await session.execute(query)).first() is not None


async def active_life_domain(session: AsyncSession, code: str) -> bool:
    query = select(LifeDomain.code).where(LifeDomain.code == code, col(LifeDomain.active).is_(True))
    return (await session.execute(query)).first() is not None


# -- facts of the case-write statements (households.case_write), as SQL over their parameters ------

MEMBER = sa.bindparam("v_member_id", type_=sa.Uuid)
ORGANISATION = sa.bindparam("v_organisation_id", type_=sa.Uuid)
PURPOSE = sa.bindparam("v_purpose", type_=sa.String)
VALID_FROM = sa.bindparam("valid_from", type_=sa.Date)  # None: from the database's today
VALID_UNTIL = sa.bindparam("v_valid_until", type_=sa.Date)


def consent_labels() -> dict[str, Any]:
    """The organisation's name and the purpose's labels of the consent a change names."""

    def of_consent(column: Any, table: Any, joined: Any) -> Any:
        return sa.select(column).select_from(Consent).join(table, joined).where(col(Consent.id) == OBJECT)

    organisation = col(PartnerOrganisation.id) == col(Consent.organisation_id)
    domain = col(LifeDomain.code) == col(Consent.purpose)
    return {
        "organisation": of_consent(
            col(PartnerOrganisation.name), PartnerOrganisation, organisation
        ).scalar_subquery(),
        "label_nl": of_consent(col(LifeDomain.label_nl), LifeDomain, domain).scalar_subquery(),
        "label_en": of_consent(col(LifeDomain.label_en), LifeDomain, domain).scalar_subquery(),
    }


def record_checks() -> dict[str, Any]:
    """What recording a consent needs from the database (``member_in_household``,
    ``active_organisation``, ``active_life_domain``, and the period in order once ``valid_from`` is
    the database's today when none was given)."""
    return {
        "member": select(Member.id).where(Member.id == MEMBER, Member.household_id == HOUSEHOLD).exists(),
        "organisation": select(PartnerOrganisation.id)
        .where(PartnerOrganisation.id == ORGANISATION, col(PartnerOrganisation.active).is_(True))
        .exists(),
        "purpose": select(LifeDomain.code)
        .where(LifeDomain.code == PURPOSE, col(LifeDomain.active).is_(True))
        .exists(),
        "period": sa.or_(VALID_UNTIL.is_(None), sa.func.coalesce(VALID_FROM, LOCAL_TODAY) <= VALID_UNTIL),
    }


async def today(session: AsyncSession) -> date:
    """The local date at the database's clock (the same clock the SQL rules use)."""
    value = await session.scalar(sa.select(LOCAL_TODAY))
    assert value is not None
    return value
