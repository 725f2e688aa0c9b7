"""All SQL of the referrals context, including who may see which referral.

* A partner sees the referrals of its own organisation, and of those resting on a consent only while
  the consent is in force (withdrawal hides them at once).
* A team member sees an unlinked referral routed to a team they are in now, and a linked one when
  they may see its household (``visible_to``: confidential households included).
* Nobody else sees any.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import RawStatement
from app.domain.base import table_of, utcnow
from app.domain.consents.models import Consent
from app.domain.consents.repository import in_force_clause
from app.domain.households.access import CASE_ROLES, visible_to
from app.domain.households.models import Household
from app.domain.idempotency import repository as idempotency
from app.domain.organisation.models import Area, WorkerTeam
from app.domain.plans.models import Plan, PlanAction, PlanStatus
from app.domain.referrals.models import Referral, ReferralMessage, ReferralTransition
from app.domain.unit_of_work.access_log import inline_binds, inline_sql
from app.domain.unit_of_work.work import UnitOfWork
from app.domain.webhooks import outbox
from app.security.principal import Principal
from app.security.scopes import Role

Keyset = tuple[datetime, uuid.UUID]


def visible(principal: Principal) -> sa.ColumnElement[bool]:
    """SQL condition on ``Referral``: the caller may see this referral."""
    if principal.role is Role.partner and principal.organisation_id is not None:
        consent_in_force = (
            select(Consent.id).where(Consent.id == Referral.consent_id, in_force_clause()).exists()
        )
        return sa.and_(
            col(Referral.organisation_id) == principal.organisation_id,
            sa.or_(col(Referral.consent_id).is_(None), consent_in_force),
        )
    if principal.role in CASE_ROLES and principal.worker_id is not None:
        own_teams = select(WorkerTeam.team_id).where(WorkerTeam.worker_id == principal.worker_id)
        household_visible = (
            select(Household.id).where(Household.id == Referral.household_id, visible_to(principal)).exists()
        )
        return sa.or_(
            sa.and_(col(Referral.household_id).is_(None), col(Referral.team_id).in_(own_teams)),
            sa.and_(col(Referral.household_id).is_not(None), household_visible),
        )
    return sa.false()


# -- routing and the submission of an inbound referral --------------------------------------------


@dataclass(frozen=True)
class InboundLookup:
    """What an inbound referral needs to know before it is written."""

    domain_active: bool
    buurt_id: uuid.UUID | None  # None: the buurt code or postcode is not known
    buurt_code: str | None
    team_id: uuid.UUID | None  # None: no team covers the buurt


@dataclass(frozen=True)
class Submission:
    """The outcome of ``submit_inbound``: the claim, the checks, and the new referral's row when it
    was written."""

    key_locked: bool  # the statement held the key's lock
    key_claim: uuid.UUID | None  # the claim token when the statement won the key
    lookup: InboundLookup
    written: bool  # False: not written (key not won, a check failed, or the key was used before)


# The buurt named, and the team covering it. A partner names it, or the areas context found it for the
# address the partner gave (``areas.repository.buurt_code_of_address``, read before the statement, as
# the answer names it); an address it did not place is no code at all (NULL): no buurt is found.
_BY_BUURT = """
    SELECT a.id, a.code, ta.team_id FROM areas AS a LEFT JOIN team_areas AS ta ON ta.area_id = a.id
    WHERE a.code = :buurt_code AND a.level = 'buurt'"""
_referrals = table_of(Referral)
_transitions = table_of(ReferralTransition)
_REFERRAL_COLUMNS = tuple(c.name for c in _referrals.columns)
_ROUTED = {"team_id": "found.team_id", "buurt_id": "found.id"}
_TRANSITION_BOUND = ("id", "side", "actor_subject", "worker_id", "organisation_id", "occurred_at")


# The referral may be written: a known life domain, a buurt a team covers, and no referral made with
# this key before (the referral keeps its own copy of the key, under a unique constraint).
_READY = """ready AS (
        SELECT 1 FROM found, checks
        WHERE checks.domain_active AND found.team_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM referrals WHERE idempotency_scope = :r_idempotency_scope
                                                    AND idempotency_key = :r_idempotency_key)
    )"""


def _submit_statement(*, alone: bool) -> RawStatement:
    """One round trip for a new inbound referral: claim the Idempotency-Key (with the answer), check
    the life domain, route the buurt to its team, insert the referral (unless the key was not won, or
    the referral's own copy of the key was used before), its first transition, its webhook event with
    the deliveries and the access-log row.

    In a transaction (``alone`` False) nothing but the claim is written when a check fails (the caller
    then refuses, and the claim rolls back with the rest). On its own (``alone``: no BEGIN and COMMIT,
    one round trip) the statement commits itself, so it claims the key only when the referral is
    written too (``ready``): it writes everything or nothing, and the caller decides what nothing
    means in a transaction, as above."""
    columns = ", ".join(_REFERRAL_COLUMNS)
    values = ", ".join(_ROUTED.get(c, f":r_{c}") for c in _REFERRAL_COLUMNS)
    routing = f"""found AS ({_BY_BUURT}
    ), checks AS (
        SELECT EXISTS (SELECT 1 FROM life_domains WHERE code = :r_reason_domain AND active) AS domain_active
    )"""  # noqa: S608 - constant SQL
    claim_first = f"{idempotency.claim_ctes()}, {routing}"
    claim_with_referral = f"{routing}, {_READY}, {idempotency.claim_ctes(gate='ready')}"
    sql = f"""
    WITH {claim_with_referral if alone else claim_first}, new_referral AS (
        INSERT INTO referrals ({columns})
        SELECT {values} FROM found, checks, claimed
        WHERE checks.domain_active AND found.team_id IS NOT NULL
        ON CONFLICT ON CONSTRAINT uq_referrals_idempotency DO NOTHING
        RETURNING id, status
    ), new_transition AS (
        INSERT INTO referral_transitions (id, referral_id, from_status, to_status, side, actor_subject,
                                          worker_id, organisation_id, occurred_at)
        SELECT :t_id, id, NULL, status, :t_side, :t_actor_subject,
               :t_worker_id, :t_organisation_id, :t_occurred_at
        FROM new_referral
        RETURNING 1
    ), {outbox.enqueue_ctes(gate="new_referral")}, {inline_sql(gate="new_referral")}
    SELECT key_lock.locked AS key_locked, (SELECT claim_token FROM claimed) AS key_claim,
           checks.domain_active, found.id AS found_id, found.code AS found_code,
           found.team_id AS found_team_id, new_referral.id IS NOT NULL AS written
    FROM key_lock CROSS JOIN checks LEFT JOIN found ON true LEFT JOIN new_referral ON true
    """  # noqa: S608 - only our own column names and constant SQL are formatted in
    binds = [sa.bindparam(f"r_{c.name}", type_=c.type) for c in _referrals.columns if c.name not in _ROUTED]
    binds += [sa.bindparam(f"t_{name}", type_=_transitions.c[name].type) for name in _TRANSITION_BOUND]
    binds.append(sa.bindparam("buurt_code", type_=sa.String))
    text = sa.text(sql).bindparams(*binds, *outbox.EVENT_BINDS, *idempotency.CLAIM_BINDS, *inline_binds())
    return RawStatement.of(text)


# Compiled once: the statement has some seventy parameters, and compiling and processing them per
# call through the ORM would cost the POST more CPU than the database round trip itself.
SUBMIT_BY_BUURT = _submit_statement(alone=False)
SUBMIT_BY_BUURT_ALONE = _submit_statement(alone=True)


def new_row(values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new referral: ``values`` with the version and timestamps (routing aside)."""
    now = utcnow()
    given = {"version": 1, "created_at": now, "updated_at": now, **values}
    return {c: given.get(c) for c in _REFERRAL_COLUMNS}


async def submit_inbound(
    uow: UnitOfWork,
    row: dict[str, Any],
    transition: dict[str, Any],
    params: dict[str, Any],
    *,
    buurt_code: str | None,
    alone: bool = False,
) -> Submission:
    """Claim, route and write a new inbound referral in one statement (see ``_submit_statement``).

    ``row``: the referral's columns (``new_row``; team and buurt come from the routing);
    ``transition``: its first transition's; ``params``: the values of the key's claim
    (``KeyRequest.params``), of its event (``outbox.event_params``) and of its access-log entry
    (``AccessEntry.params``). Routes by ``buurt_code`` (None: an address the areas context did not
    place; no buurt is found, and the caller refuses the referral as unroutable).
    ``alone``: the statement that writes everything or nothing, on its own when the work has no
    transaction open; otherwise in the work's transaction, begun here when nothing began it yet.
    """
    if alone:
        statement = SUBMIT_BY_BUURT_ALONE
    else:
        statement = SUBMIT_BY_BUURT
        # A refused referral must take the claim of its key back with the rollback, and a referral
        # made before is answered (its key completed) in the transaction that claimed the key.
        await uow.begin()
    values = {f"r_{c}": v for c, v in row.items() if c not in _ROUTED}
    values.update({f"t_{k}": v for k, v in transition.items() if k != "referral_id"}, **params)
    values["buurt_code"] = buurt_code
    found = await uow.fetch_one(statement, values)
    lookup = InboundLookup(
        bool(found["domain_active"]), found["found_id"], found["found_code"], found["found_team_id"]
    )
    return Submission(bool(found["key_locked"]), found["key_claim"], lookup, bool(found["written"]))


# -- referrals --------------------------------------------------------------------------------------


def _insert_once_statement() -> Any:
    return (
        insert(_referrals)
        .values({c.name: sa.bindparam(f"r_{c.name}", type_=c.type) for c in _referrals.columns})
        .on_conflict_do_nothing(constraint="uq_referrals_idempotency")
        .returning(*_referrals.columns)
    )


# Built once: every column bound (a statement built per call costs more to find in the compiled
# cache than the INSERT costs to run).
_INSERT_ONCE = _insert_once_statement()


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> Referral | None:
    """Insert the referral; None when the caller already used this Idempotency-Key (a concurrent
    duplicate waits for the first to commit, then lands here)."""
    row = new_row(values)
    inserted = (await session.execute(_INSERT_ONCE, {f"r_{n}": v for n, v in row.items()})).mappings().first()
    return Referral(**inserted) if inserted is not None else None


async def by_idempotency_key(session: AsyncSession, scope: str, key: str) -> Referral | None:
    query = select(Referral).where(Referral.idempotency_scope == scope, Referral.idempotency_key == key)
    return (await session.execute(query)).scalar_one_or_none()


async def get_visible(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID, *, for_update: bool = False
) -> Referral | None:
    query = select(Referral).where(Referral.id == referral_id, visible(principal))
    if for_update:
        query = query.with_for_update(of=Referral)
    return (await session.execute(query)).scalar_one_or_none()


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    filters: list[sa.ColumnElement[bool]],
    *,
    limit: int,
    after: Keyset | None,
) -> list[Referral]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = select(Referral).where(visible(principal), *filters)
    if after is not None:
        query = query.where(sa.tuple_(col(Referral.created_at), col(Referral.id)) < sa.tuple_(*after))
    query = query.order_by(col(Referral.created_at).desc(), col(Referral.id).desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def buurt_codes(session: AsyncSession, area_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not area_ids:
        return {}
    rows = await session.execute(sa.select(col(Area.id), col(Area.code)).where(col(Area.id).in_(area_ids)))
    return {row[0]: row[1] for row in rows}


async def now(session: AsyncSession) -> datetime:
    value = await session.scalar(sa.select(sa.func.now()))
    assert value is not None
    return value


# -- transitions and messages ---------------------------------------------------------------------


def _add_transition_statement() -> Any:
    return sa.insert(_transitions).values(
        {c.name: sa.bindparam(f"t_{c.name}", type_=c.type) for c in _transitions.columns}
    )


_ADD_TRANSITION = _add_transition_statement()


async def add_transition(session: AsyncSession, transition: dict[str, Any]) -> None:
    """One INSERT of the transition's columns (a transition is never changed afterwards)."""
    await session.execute(_ADD_TRANSITION, {f"t_{k}": v for k, v in transition.items()})


async def transitions_of(
    session: AsyncSession, referral_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ReferralTransition]]:
    """The transitions of several referrals in one query, oldest first."""
    found: dict[uuid.UUID, list[ReferralTransition]] = {rid: [] for rid in referral_ids}
    if referral_ids:
        query = (
            select(ReferralTransition)
            .where(col(ReferralTransition.referral_id).in_(referral_ids))
            .order_by(col(ReferralTransition.occurred_at), col(ReferralTransition.id))
        )
        for transition in (await session.execute(query)).scalars():
            found[transition.referral_id].append(transition)
    return found


async def add_message(session: AsyncSession, message: ReferralMessage) -> None:
    session.add(message)
    await session.flush()


async def messages_of(
    session: AsyncSession, referral_id: uuid.UUID, *, limit: int, after: Keyset | None
) -> list[ReferralMessage]:
    """Oldest first (a conversation), keyset-paginated on (created_at, id)."""
    query = select(ReferralMessage).where(ReferralMessage.referral_id == referral_id)
    if after is not None:
        query = query.where(
            sa.tuple_(col(ReferralMessage.created_at), col(ReferralMessage.id)) > sa.tuple_(*after)
        )
    query = query.order_by(col(ReferralMessage.created_at), col(ReferralMessage.id)).limit(limit)
    return list((await session.execute(query)).scalars())


# -- plan actions (the plans context leaves their referral link to this one) -----------------------


async def plan_action_for_update(
    session: AsyncSession, household_id: uuid.UUID, action_id: uuid.UUID
) -> tuple[PlanAction, str | None] | None:
    """An action of the household's active plan, locked, with the status of its current referral."""
    query = (
        select(PlanAction, Referral.status)
        .join(Plan, col(Plan.id) == col(PlanAction.plan_id))
        .outerjoin(Referral, col(Referral.id) == col(PlanAction.referral_id))
        .where(
            col(PlanAction.id) == action_id,
            col(Plan.household_id) == household_id,
            col(Plan.status) == PlanStatus.active,
        )
        .with_for_update(of=PlanAction)
    )
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def link_plan_action(session: AsyncSession, action: PlanAction, referral_id: uuid.UUID) -> uuid.UUID:
    """Point the action at the referral; returns its plan id (for the change feed)."""
    action.referral_id = referral_id
    action.version += 1
    action.updated_at = await now(session)
    await session.flush()
    return action.plan_id
