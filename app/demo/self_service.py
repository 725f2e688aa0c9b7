"""Demo self-service (band 90): household members of team A who can sign in and see their own file.

Two adult members of active demo households (with an agreed or open plan and a consent in force) get
an account with a generated password, written to ``demo-credentials.json`` under ``users``
(``household_member_1``, ``household_member_2``) with the household's reference. A third gets an
activation code instead (``activation_codes.household_member_3``), to try the coordinator's
invitation at ``/oauth/activate``; it is replaced when it was used or expired. On the first load the
team reads their files through the services, so the members' access-log views are not empty.

A second load keeps the accounts (and their passwords, when the credentials file still matches).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import col, select

from app.demo import DemoContext, demo_loader
from app.demo.organisation import new_password, still_valid
from app.domain.consents.models import Consent
from app.domain.consents.repository import in_force_clause
from app.domain.households import service as households
from app.domain.households.models import Household, HouseholdStatus, Member, MemberRole
from app.domain.identity.accounts import set_password
from app.domain.plans import service as plans
from app.domain.plans.models import Plan, PlanStatus
from app.domain.self_service import management
from app.domain.self_service import repository as repo
from app.domain.self_service.rules import CodeHasher, new_username
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import Role, allowed_scopes

MEMBERS = ("household_member_1", "household_member_2", "household_member_3")
ADULTS = (MemberRole.parent, MemberRole.partner, MemberRole.other_adult)


async def _members(uow: UnitOfWork, ctx: DemoContext) -> list[tuple[Member, Household]]:
    """Adults of active, open demo households of team A with an active plan and a consent of theirs
    in force: one per household, in reference order (the same ones on every load)."""
    has_plan = (
        select(Plan.id)
        .where(col(Plan.household_id) == col(Household.id), col(Plan.status) == str(PlanStatus.active))
        .exists()
    )
    has_consent = (
        select(Consent.id).where(col(Consent.member_id) == col(Member.id), in_force_clause()).exists()
    )
    query = (
        select(Member, Household)
        .join(Household, col(Household.id) == col(Member.household_id))
        .where(
            col(Household.team_id) == ctx.teams["a"],
            col(Household.status) == str(HouseholdStatus.active),
            col(Household.confidential).is_(False),
            col(Member.role).in_([str(r) for r in ADULTS]),
            has_plan,
            has_consent,
        )
        .order_by(col(Household.reference), col(Member.created_at), col(Member.id))
    )
    chosen: dict[uuid.UUID, tuple[Member, Household]] = {}
    for member, household in (await uow.session.execute(query)).all():
        chosen.setdefault(household.id, (member, household))
        if len(chosen) == len(MEMBERS):
            break
    return list(chosen.values())


def _worker(ctx: DemoContext, key: str, role: Role) -> Principal:
    return Principal(
        subject=str(ctx.users[key]),
        role=role,
        scopes=frozenset(str(s) for s in allowed_scopes(role)),
        client_id=ctx.clients["mobile_app"],
        user_id=ctx.users[key],
        worker_id=ctx.workers[key],
    )


async def _account(uow: UnitOfWork, ctx: DemoContext, key: str, member: Member, household: Household) -> bool:
    """The member's account with a known password; True when it was made now."""
    account = await repo.account_of(uow.session, member.id)
    made = account is None
    if account is None:
        account = await repo.ensure_account(uow.session, member, new_username())
    password = ctx.previous.get("users", {}).get(key, {}).get("password")
    if not isinstance(password, str) or not await still_valid(ctx, account.password_hash, password):
        password = new_password()
        await set_password(uow, account, password, ctx.hasher)
    ctx.credentials["users"][key] = {
        "username": account.username,
        "password": password,
        "member": member.given_name,
        "household": household.reference,
    }
    return made


async def _activation_code(
    uow: UnitOfWork, ctx: DemoContext, key: str, member: Member, household: Household
) -> None:
    """A pending activation code for the member (kept while the earlier one is still good)."""
    hasher = CodeHasher(ctx.settings.secret("secret_key"))
    previous = ctx.previous.get("activation_codes", {}).get(key, {})
    code = previous.get("code") if isinstance(previous, dict) else None
    code_hash = hasher.hash(code) if isinstance(code, str) else None
    if code_hash is not None and await repo.peek_code(uow.session, code_hash) is not None:
        ctx.credentials.setdefault("activation_codes", {})[key] = previous
        return
    lead = _worker(ctx, "team_lead_a", Role.team_lead)
    valid_for = timedelta(hours=ctx.settings.self_service_activation_hours)
    issued = await management.issue_activation_code(uow, lead, household.id, member.id, hasher, valid_for)
    ctx.credentials.setdefault("activation_codes", {})[key] = {
        "username": issued.username,
        "code": issued.code,
        "expires_at": issued.expires_at.isoformat(),
        "activate_at": issued.activate_at,
        "member": member.given_name,
        "household": household.reference,
    }


async def _history(uow: UnitOfWork, ctx: DemoContext, household: Household) -> None:
    """Some reads by the team, so the member's access-log view shows what it is for."""
    generalist = _worker(ctx, "generalist_a", Role.generalist)
    lead = _worker(ctx, "team_lead_a", Role.team_lead)
    await households.get_household(uow, lead, household.id)
    await plans.read_active(uow, generalist, household.id)


@demo_loader(order=90)
async def self_service(uow: UnitOfWork, ctx: DemoContext) -> None:
    chosen = await _members(uow, ctx)
    for key, (member, household) in zip(MEMBERS, chosen, strict=False):
        if key == MEMBERS[-1]:
            await _activation_code(uow, ctx, key, member, household)
        elif await _account(uow, ctx, key, member, household):
            await _history(uow, ctx, household)
