"""All SQL of the purge: the run record, the lock, and per category a count (for dry runs) and one
batch of removal. Batches pick their rows with ``FOR UPDATE SKIP LOCKED``: a row a request is editing
right now is left for the next run instead of being waited for."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col, select

from app.domain.base import table_of
from app.domain.consents.models import Consent
from app.domain.households.models import ContactMoment, Household, HouseholdStatus
from app.domain.idempotency.models import IdempotencyKey
from app.domain.identity.codes import spent_codes
from app.domain.identity.models import AuthorizationCode, RefreshToken, UsedClientAssertion
from app.domain.identity.refresh import ended_tokens
from app.domain.plans.models import Plan
from app.domain.referrals.models import Referral, ReferralStatus
from app.domain.retention.models import RetentionRun, RunOutcome
from app.domain.support_network.models import NetworkPerson
from app.domain.unit_of_work import partitions
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.domain.unit_of_work.change_feed import CaseChange
from app.domain.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent

# The purge's pg_advisory_lock key: any constant no other job uses.
LOCK_KEY = 0x574B_5245_54


_runs = table_of(RetentionRun)
_changes = table_of(CaseChange)
_contacts = table_of(ContactMoment)
_people = table_of(NetworkPerson)
_FINISHED_REFERRAL = (ReferralStatus.declined, ReferralStatus.cancelled, ReferralStatus.completed)


def _count(rows: Any) -> int:
    return int(rows.rowcount or 0)


async def _scalar_count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(select(sa.func.count()).select_from(query.subquery())) or 0)


# -- the run record and the lock --------------------------------------------------------------------


async def database_now(session: AsyncSession) -> datetime:
    moment = await session.scalar(sa.select(sa.func.now()))
    assert isinstance(moment, datetime)
    return moment


async def start_run(
    session: AsyncSession,
    *,
    actor: str,
    dry_run: bool,
    terms_days: dict[str, int],
    outcome: RunOutcome = RunOutcome.running,
) -> uuid.UUID:
    run_id = uuid.uuid4()
    finished = sa.func.now() if outcome is not RunOutcome.running else None
    await session.execute(
        sa.insert(_runs).values(
            id=run_id,
            actor=actor[:120],
            dry_run=dry_run,
            outcome=str(outcome),
            counts={},
            terms_days=terms_days,
            finished_at=finished,
        )
    )
    return run_id


async def update_run(session: AsyncSession, run_id: uuid.UUID, **values: Any) -> None:
    """Progress (``counts``), the horizon, or the end (``outcome``, ``error``; sets finished_at)."""
    if "outcome" in values:
        values = {**values, "outcome": str(values["outcome"]), "finished_at": sa.func.now()}
    await session.execute(sa.update(_runs).where(_runs.c.id == run_id).values(**values))


def change_feed_horizon_query() -> sa.Select[Any]:
    """The highest transaction id whose change rows a purge removed (NULL: never purged)."""
    return sa.select(sa.func.max(_runs.c.change_feed_horizon))


@asynccontextmanager
async def advisory_lock(engine: AsyncEngine) -> AsyncIterator[bool]:
    """Hold the purge lock for the block (True), or yield False when another purge holds it.

    A session-level lock on a connection of its own in autocommit: it spans the run's many short
    transactions without keeping one open. (Behind a transaction-pooling proxy, connect directly.)
    """
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(await connection.scalar(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))))
        try:
            yield held
        finally:
            if held:
                await connection.scalar(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))


# -- closed households --------------------------------------------------------------------------


def _closed_before(cutoff: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(col(Household.status) == HouseholdStatus.closed, col(Household.closed_at) < cutoff)


async def count_closed_households(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, select(Household.id).where(_closed_before(cutoff)))


async def lock_closed_households(session: AsyncSession, cutoff: datetime, limit: int) -> list[Household]:
    query = (
        select(Household)
        .where(_closed_before(cutoff))
        .order_by(col(Household.closed_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


async def delete_households(session: AsyncSession, ids: Sequence[uuid.UUID]) -> int:
    """Delete the households and everything under them. Most tables cascade; these go first because
    their references do not: plans (their actions point at referrals), webhook events resting on the
    household's consents, and referrals (their transitions, messages and events cascade)."""
    if not ids:
        return 0
    plans, events, referrals = table_of(Plan), table_of(WebhookEvent), table_of(Referral)
    await session.execute(sa.delete(plans).where(plans.c.household_id.in_(ids)))
    consents = select(Consent.id).where(col(Consent.household_id).in_(ids))
    await session.execute(sa.delete(events).where(events.c.consent_id.in_(consents)))
    await session.execute(sa.delete(referrals).where(referrals.c.household_id.in_(ids)))
    households = table_of(Household)
    return _count(await session.execute(sa.delete(households).where(households.c.id.in_(ids))))


# -- network people of closed files --------------------------------------------------------------


def _people_of_closed(cutoff: datetime) -> Any:
    return (
        select(NetworkPerson.id)
        .join(Household, col(Household.id) == col(NetworkPerson.household_id))
        .where(_closed_before(cutoff))
    )


async def count_network_people(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, _people_of_closed(cutoff))


async def delete_network_people(
    session: AsyncSession, cutoff: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Up to ``limit`` network people of files closed before ``cutoff``, deleted: their (id,
    household id)."""
    doomed = _people_of_closed(cutoff).limit(limit).with_for_update(of=_people, skip_locked=True)
    rows = await session.execute(
        sa.delete(_people)
        .where(_people.c.id.in_(doomed.scalar_subquery()))
        .returning(_people.c.id, _people.c.household_id)
    )
    return [(r[0], r[1]) for r in rows]


# -- contact notes -------------------------------------------------------------------------------


def _noted_before(cutoff: datetime) -> Any:
    return select(ContactMoment.id).where(
        col(ContactMoment.note).is_not(None), col(ContactMoment.occurred_at) < cutoff
    )


async def count_contact_notes(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, _noted_before(cutoff))


async def blank_contact_notes(
    session: AsyncSession, cutoff: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Up to ``limit`` contact notes written before ``cutoff``, blanked: the contacts' (id, household
    id)."""
    doomed = _noted_before(cutoff).limit(limit).with_for_update(skip_locked=True)
    rows = await session.execute(
        sa.update(_contacts)
        .where(_contacts.c.id.in_(doomed.scalar_subquery()))
        .values(note=None)
        .returning(_contacts.c.id, _contacts.c.household_id)
    )
    return [(r[0], r[1]) for r in rows]


# -- referrals that never joined a file ----------------------------------------------------------


def _unlinked_before(cutoff: datetime) -> Any:
    return select(Referral.id).where(
        col(Referral.household_id).is_(None),
        col(Referral.status).in_([str(s) for s in _FINISHED_REFERRAL]),
        col(Referral.updated_at) < cutoff,
    )


async def count_unlinked_referrals(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, _unlinked_before(cutoff))


async def delete_unlinked_referrals(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    doomed = _unlinked_before(cutoff).limit(limit).with_for_update(skip_locked=True)
    referrals = table_of(Referral)
    return _count(
        await session.execute(sa.delete(referrals).where(referrals.c.id.in_(doomed.scalar_subquery())))
    )


# -- counts for the categories other contexts purge themselves ----------------------------------


async def count_outbox_events(session: AsyncSession, cutoff: datetime) -> int:
    """Mirrors ``webhooks.outbox.purge_finished``: old events with no delivery still waiting."""
    waiting = (
        select(WebhookDelivery.id)
        .where(
            col(WebhookDelivery.event_id) == col(WebhookEvent.id),
            WebhookDelivery.status == DeliveryStatus.pending,
        )
        .exists()
    )
    return await _scalar_count(
        session, select(WebhookEvent.id).where(col(WebhookEvent.created_at) < cutoff, ~waiting)
    )


async def count_idempotency_keys(session: AsyncSession, cutoff: datetime) -> int:
    """Mirrors ``idempotency.repository.purge_expired``."""
    return await _scalar_count(
        session, select(IdempotencyKey.key).where(col(IdempotencyKey.expires_at) < cutoff)
    )


# -- expired credentials -------------------------------------------------------------------------


def _expired_assertions(cutoff: datetime) -> Any:
    return select(UsedClientAssertion.client_id, UsedClientAssertion.jti).where(
        col(UsedClientAssertion.expires_at) < cutoff
    )


async def count_client_assertions(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, _expired_assertions(cutoff))


async def delete_client_assertions(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    doomed = _expired_assertions(cutoff).limit(limit).with_for_update(skip_locked=True)
    assertions = table_of(UsedClientAssertion)
    key = sa.tuple_(assertions.c.client_id, assertions.c.jti)
    return _count(await session.execute(sa.delete(assertions).where(key.in_(doomed))))


async def count_authorization_codes(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, spent_codes(cutoff))


async def delete_authorization_codes(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    doomed = spent_codes(cutoff).limit(limit).with_for_update(skip_locked=True)
    codes = table_of(AuthorizationCode)
    return _count(
        await session.execute(sa.delete(codes).where(codes.c.code_hash.in_(doomed.scalar_subquery())))
    )


async def count_refresh_tokens(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, ended_tokens(cutoff))


async def delete_refresh_tokens(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Tokens of ended families (the definition is the refresh module's). A batch may take part of a
    family: the rest stays ended and goes in the next batch."""
    doomed = ended_tokens(cutoff).limit(limit).with_for_update(skip_locked=True)
    tokens = table_of(RefreshToken)
    return _count(await session.execute(sa.delete(tokens).where(tokens.c.id.in_(doomed.scalar_subquery()))))


# -- the access log -------------------------------------------------------------------------------


async def count_access_log_months(session: AsyncSession, cutoff: datetime) -> int:
    """Rows of the access log's months before the cutoff (a month start): what the purge would
    archive or drop. Rows in the default partition are never removed, so not counted."""
    log = table_of(AccessLogEntry)
    default = sa.text(f"CAST('{partitions.ACCESS_LOG.default}' AS regclass)")
    return await _scalar_count(
        session, sa.select(log.c.id).where(log.c.occurred_at < cutoff, sa.column("tableoid") != default)
    )


# -- the change feed -----------------------------------------------------------------------------


async def change_feed_last_txid(session: AsyncSession, cutoff: datetime) -> int | None:
    """The highest transaction id among change rows older than the cutoff: the horizon to record
    (before anything is deleted) so that sync resets cursors that may have missed them."""
    txid = await session.scalar(
        sa.select(sa.func.max(col(CaseChange.txid))).where(col(CaseChange.changed_at) < cutoff)
    )
    return int(txid) if txid is not None else None


async def count_change_feed(session: AsyncSession, cutoff: datetime) -> int:
    return await _scalar_count(session, select(CaseChange.seq).where(col(CaseChange.changed_at) < cutoff))


async def delete_change_feed(session: AsyncSession, cutoff: datetime, horizon: int, limit: int) -> int:
    """Old change rows, never one above the recorded horizon."""
    doomed = (
        select(CaseChange.seq)
        .where(col(CaseChange.changed_at) < cutoff, col(CaseChange.txid) <= horizon)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return _count(
        await session.execute(sa.delete(_changes).where(_changes.c.seq.in_(doomed.scalar_subquery())))
    )
