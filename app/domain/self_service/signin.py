"""How household members get in: DigiD through the municipality's broker (the BSN leads to the
member), or the built-in sign-in with a password they set with an activation code.

Either way the member must have self-service on (``households.access.switched_on``), checked at every sign-in,
every token refresh and, in the services, every request.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.domain.errors import NotFound, ValidationFailed
from app.domain.households.bsn import BsnInvalid, BsnProtector, check_bsn
from app.domain.identity.models import User
from app.domain.identity.passwords import SecretHasher
from app.domain.identity.refresh import revoke_user_refresh_tokens
from app.domain.identity.rules import check_password
from app.domain.identity.tokens import LinkedMember, MemberLookup
from app.domain.self_service import repository as repo
from app.domain.self_service import rules
from app.domain.unit_of_work.work import UnitOfWork


def member_lookup(db: Database, protector: BsnProtector) -> MemberLookup:
    """For the token verifier: the member a resident's BSN leads to, with their account (made at the
    first sign-in), while self-service is on; None otherwise. The number is only ever hashed."""

    async def lookup(bsn: str) -> LinkedMember | None:
        try:
            number = check_bsn(bsn)
        except BsnInvalid:
            return None
        async with db.transaction() as session:
            chosen = rules.pick_member(await repo.candidates_for_bsn(session, protector.index(number)))
            member = await repo.member(session, chosen.member_id) if chosen is not None else None
            if member is None:
                return None
            account = await repo.ensure_account(session, member, rules.new_username())
            if not account.active:
                return None
            return LinkedMember(account.id, member.id, member.household_id)

    return lookup


async def may_sign_in(session: AsyncSession, user: User) -> bool:
    """Whether a person may sign in (or refresh) now: anyone but a household member whose
    self-service is off."""
    if user.member_id is None:
        return True
    return await repo.member_of_account(session, user.id) is not None


async def activate(
    uow: UnitOfWork, codes: rules.CodeHasher, passwords: SecretHasher, code: str, password: str
) -> str:
    """Set the password of the account an activation code belongs to, using the code up; returns the
    username. An unknown, used, revoked or expired code, or one of a member whose self-service is off
    now, is ``NotFound`` (all alike); a password that breaks a rule leaves the code usable."""
    session = uow.session
    code_hash = codes.hash(code)
    pending = await repo.peek_code(session, code_hash) if code_hash is not None else None
    found = await repo.member_of_account(session, pending.user_id) if pending is not None else None
    if code_hash is None or found is None:
        raise NotFound("activation code")
    errors = check_password(password, ("form", "password"))
    if errors:
        raise ValidationFailed(errors)
    if await repo.claim_code(session, code_hash) is None:  # used up meanwhile, by another request
        raise NotFound("activation code")
    account = found[0]
    account.password_hash = await passwords.hash_in_thread(password)
    await revoke_user_refresh_tokens(session, account.id)  # earlier sign-ins end with the new password
    await session.flush()
    return account.username
