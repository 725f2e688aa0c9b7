"""The coordinator's side of self-service: who in a household may use it, and activation codes.

Reading the overview is for anyone of the team who sees the household; switching and handing out
codes is for the household's coordinator or a team lead (scope ``cases:assign``): giving a resident
an account, or cutting one off when an ex-partner must not see new data, is a decision about the
file. Switching off takes effect at once: the member's next request is refused (the services check
live), their app sessions (refresh tokens) and pending activation codes are revoked.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import utcnow
from app.domain.errors import Conflict, Forbidden, NotFound
from app.domain.households import repository as households_repo
from app.domain.households.access import get_visible
from app.domain.households.models import Household
from app.domain.identity.refresh import revoke_user_refresh_tokens
from app.domain.self_service import repository as repo
from app.domain.self_service import rules
from app.domain.self_service.models import ActivationCode
from app.domain.self_service.schemas import (
    Account,
    ActivationCodeIssued,
    HouseholdSelfService,
    MemberSelfService,
)
from app.domain.unit_of_work.access_log import AccessAction
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import Scope

RESOURCE = "self_service"
ACTIVATION = "activation_code"
ACTIVATE_PAGE = "/oauth/activate"


def ensure_may_manage(household: Household, principal: Principal) -> None:
    coordinator = principal.worker_id is not None and household.coordinator_id == principal.worker_id
    if not (coordinator or principal.has(Scope.cases_assign)):
        raise Forbidden(
            "Only the household's coordinator or a team lead switches self-service and hands out codes.",
            rule="coordinator_only",
        )


async def _status(uow: UnitOfWork, household: Household) -> HouseholdSelfService:
    rows = await repo.status_rows(uow.session, household.id)
    return HouseholdSelfService(
        household_id=household.id,
        confidential=household.confidential,
        choice=household.self_service,
        enabled=rules.household_enabled(household.self_service, household.confidential),
        members=[
            MemberSelfService(
                member_id=r["member_id"],
                given_name=r["given_name"],
                role=r["role"],
                choice=r["choice"],
                enabled=r["enabled"],
                account=Account(username=r["username"], activated=r["activated"], active=r["active"])
                if r["username"] is not None
                else None,
                activation_code_expires_at=r["activation_code_expires_at"],
            )
            for r in rows
        ],
    )


async def status(uow: UnitOfWork, principal: Principal, household_id: uuid.UUID) -> HouseholdSelfService:
    household = await get_visible(uow, principal, household_id, resource=RESOURCE, action=AccessAction.read)
    return await _status(uow, household)


async def _sign_out(session: AsyncSession, user_ids: list[uuid.UUID]) -> None:
    """End the app sessions and pending activation codes of these accounts."""
    for user_id in user_ids:
        await revoke_user_refresh_tokens(session, user_id)
    await repo.revoke_codes(session, user_ids)


async def switch_household(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, choice: bool | None
) -> HouseholdSelfService:
    """On, off, or back to the default (None) for every member of the household."""
    household = await get_visible(
        uow, principal, household_id, resource=RESOURCE, action=AccessAction.update, for_update=True
    )
    ensure_may_manage(household, principal)
    household.self_service = choice
    await uow.session.flush()
    if not rules.household_enabled(choice, household.confidential):
        accounts = await repo.accounts_of_household(uow.session, household.id)
        await _sign_out(uow.session, [a.id for a in accounts])
    return await _status(uow, household)


async def switch_member(
    uow: UnitOfWork, principal: Principal, household_id: uuid.UUID, member_id: uuid.UUID, choice: bool | None
) -> HouseholdSelfService:
    """On, off, or back to the default (None) for one member."""
    household = await get_visible(
        uow,
        principal,
        household_id,
        resource=RESOURCE,
        action=AccessAction.update,
        resource_id=member_id,
        person_id=member_id,
        for_update=True,
    )
    ensure_may_manage(household, principal)
    member = await households_repo.member_for_update(uow.session, household_id, member_id)
    if member is None:
        raise NotFound("member")
    member.self_service = choice
    await uow.session.flush()
    if not rules.member_enabled(choice, member.role):
        account = await repo.account_of(uow.session, member.id)
        if account is not None:
            await _sign_out(uow.session, [account.id])
    return await _status(uow, household)


async def issue_activation_code(
    uow: UnitOfWork,
    principal: Principal,
    household_id: uuid.UUID,
    member_id: uuid.UUID,
    hasher: rules.CodeHasher,
    valid_for: timedelta,
) -> ActivationCodeIssued:
    """A one-time code with which the member sets their password (their account is made now if they
    have none). Shown once, stored as a keyed hash; an earlier unused code stops working."""
    household = await get_visible(
        uow,
        principal,
        household_id,
        resource=ACTIVATION,
        action=AccessAction.create,
        person_id=member_id,
        for_update=True,
    )
    ensure_may_manage(household, principal)
    member = await households_repo.member_for_update(uow.session, household_id, member_id)
    if member is None:
        raise NotFound("member")
    if not rules.enabled(household.self_service, household.confidential, member.self_service, member.role):
        raise Conflict("Self-service is off for this member; switch it on first.", rule="self_service_off")
    account = await repo.ensure_account(uow.session, member, rules.new_username())
    await repo.revoke_codes(uow.session, [account.id])
    code = rules.new_activation_code()
    code_hash = hasher.hash(code)
    assert code_hash is not None  # a code we made is always one
    stored = await repo.add_code(
        uow.session,
        ActivationCode(
            code_hash=code_hash,
            user_id=account.id,
            created_by_worker_id=principal.worker_id,
            expires_at=utcnow() + valid_for,
        ),
    )
    uow.last_entry.resource_id = stored.id
    return ActivationCodeIssued(
        member_id=member.id,
        username=account.username,
        code=code,
        expires_at=stored.expires_at,
        activate_at=ACTIVATE_PAGE,
    )
