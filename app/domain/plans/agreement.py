"""The household's agreement to a plan version, and what follows from it.

Recorded on its own (``lifecycle.agree``) or together with the version it agrees to
(``service.new_version`` with ``agreement``). Agreeing:

* gives the version its evaluation date when it has none (the configured months after the agreement);
* moves a household still at registration or intake to ``active`` (the plan is what the intake was
  for; no separate status change is needed);
* ends the household's intake in the administrative-burden count when it is its first agreed plan
  (``UnitOfWork.close_intake``).
"""

from __future__ import annotations

from datetime import timedelta

from app.domain.assessments.rules import local_today
from app.domain.assessments.service import member_errors
from app.domain.base import utcnow
from app.domain.errors import FieldError, ValidationFailed
from app.domain.households import service as households
from app.domain.households.models import Household, HouseholdStatus, RecordedBy
from app.domain.plans import repository as repo
from app.domain.plans.models import Plan
from app.domain.plans.rules import PlanPolicy, months_after
from app.domain.plans.schemas import AgreementFields
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork

# Agreements recorded on a phone carry the phone's clock; allow it to run a little ahead.
CLOCK_SKEW = timedelta(minutes=5)
STARTING = frozenset({HouseholdStatus.registered, HouseholdStatus.intake})


async def record_agreement(
    uow: UnitOfWork,
    household: Household,
    plan: Plan,
    data: AgreementFields,
    policy: PlanPolicy,
    recorded_by: RecordedBy,
    loc: tuple[str | int, ...] = ("body",),
) -> None:
    """Record that the household agreed to ``plan`` (the caller checked the plan may take it, and
    records the plan's change), and whether the team noted it or the member gave it themself
    (self-service): both ways end here."""
    now = utcnow()
    agreed_at = data.agreed_at or now
    member = data.agreed_by_member_id
    known = member in await repo.members_of(uow.session, household.id, [member])
    errors = member_errors(known, (*loc, "agreed_by_member_id"))
    if agreed_at > now + CLOCK_SKEW:
        errors.append(FieldError((*loc, "agreed_at"), "Cannot be in the future.", "date_in_future"))
    if errors:
        raise ValidationFailed(errors)
    plan.agreed_at = agreed_at
    plan.agreed_by_member_id = data.agreed_by_member_id
    plan.agreement_recorded_by = str(recorded_by)
    if plan.evaluation_date is None:
        plan.evaluation_date = months_after(local_today(agreed_at), policy.evaluation_months)
    if not await repo.agreed_before(uow.session, household.id, plan.id):
        uow.close_intake(household.id)
    if HouseholdStatus(household.status) in STARTING:
        households.set_status(household, HouseholdStatus.active)
        households.touch(household)
        uow.record_change(ChangeRecord(household.id, households.RESOURCE, household.id))
