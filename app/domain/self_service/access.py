"""Who may use self-service: the object rule of every household member's request.

The rule's SQL lives with the household's other access rules (``households.access``:
``switched_on``, ``household_member_rule``), where the one-statement case writes a member makes (the
withdrawal of their consent, their view on an evaluation) take it too.

A household member's principal names the member and household its sign-in is bound to; every use
case starts with ``bound_member``, which checks live, in one statement, that the member still belongs
to that household, that self-service is on for both (``rules``: the coordinator's choice or the
default) and that the account is active. It logs the attempt (purpose ``self_service``) either way
and answers a switched-off member like a missing one: a coordinator's switch takes effect with the
member's next request, whatever tokens they hold.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import col, select

from app.domain.errors import NotFound
from app.domain.households.access import account_active, is_household_member, switched_on
from app.domain.households.models import Household, Member
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

# The purpose of a household member's own reads and actions in the access log.
SELF_SERVICE = "self_service"


@dataclass(frozen=True)
class Bound:
    """The member a household member's request is about, and their household (read in the request)."""

    member: Member
    household: Household


async def bound_member(
    uow: UnitOfWork,
    principal: Principal,
    *,
    resource: str,
    action: AccessAction,
    resource_id: uuid.UUID | None = None,
    purpose: str = SELF_SERVICE,
    about_member: bool = True,
) -> Bound:
    """The caller's own member row and household while self-service is on for them; otherwise the
    attempt is logged as denied and the answer is 404. Queues exactly one access-log entry, about
    the member themself, or (``about_member=False``: the household's plan) about the household."""
    found = None
    if is_household_member(principal):
        query = (
            select(Member, Household)
            .join(Household, col(Household.id) == col(Member.household_id))
            .where(
                col(Member.id) == principal.member_id,
                col(Household.id) == principal.household_id,
                switched_on(),
                account_active(principal.user_id),
            )
        )
        found = (await uow.session.execute(query)).first()
    uow.log(
        principal,
        resource=resource,
        action=action,
        outcome=AccessOutcome.allowed if found is not None else AccessOutcome.denied,
        purpose=purpose,
        household_id=principal.household_id,
        person_id=principal.member_id if about_member else None,
        resource_id=resource_id,
    )
    if found is None:
        raise NotFound("member")
    return Bound(found[0], found[1])
