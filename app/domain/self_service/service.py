"""What a household member does in self-service: read their own data and their household's plan,
list and withdraw their consents, agree to the plan, see who accessed their data, and download
their subject-access export.

Every use case starts with ``access.bound_member`` (one access-log entry, purpose ``self_service``;
404 when self-service is off for them) and shows only what is theirs: their own member data, the
household's plan as the household sees it (names of network people, workers and partner
organisations as the plan names them), their own consents. Withdrawing a consent and agreeing to the
plan go through the same code as the team's (``consents.service.withdraw_by``,
``plans.agreement.record_agreement``), so they have the same effect, recorded as given by the member.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.domain.audit.export import PURPOSE as SUBJECT_ACCESS
from app.domain.audit.export import export_sections
from app.domain.base import utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.consents import repository as consents_repo
from app.domain.consents import service as consents
from app.domain.consents.models import Consent
from app.domain.consents.rules import in_force as consent_in_force
from app.domain.consents.schemas import ConsentRead
from app.domain.errors import Conflict, NotFound
from app.domain.households.bsn import BsnProtector
from app.domain.households.models import RecordedBy
from app.domain.households.rules import ensure_open
from app.domain.plans import member_views
from app.domain.plans import repository as plans_repo
from app.domain.plans import service as plans
from app.domain.plans.agreement import record_agreement
from app.domain.plans.models import Plan
from app.domain.plans.rules import PlanPolicy
from app.domain.plans.schemas import AgreementFields, MemberViewRead
from app.domain.self_service import repository as repo
from app.domain.self_service.access import SELF_SERVICE, Bound, bound_member
from app.domain.self_service.rules import sees_children
from app.domain.self_service.schemas import (
    AccessView,
    ActionView,
    Agreement,
    Child,
    ConsentView,
    Domain,
    EvaluationView,
    GoalView,
    MeRead,
    OwnExport,
    OwnHousehold,
    OwnMember,
    Performer,
    PlanView,
    YourViewCreate,
)
from app.domain.self_service.wording import Wording
from app.domain.unit_of_work.access_log import AccessAction, AccessOutcome
from app.domain.unit_of_work.registries import Subject
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

# -- the member and their household ------------------------------------------------------------------


async def me(uow: UnitOfWork, principal: Principal) -> MeRead:
    bound = await bound_member(uow, principal, resource="member", action=AccessAction.read)
    member, household = bound.member, bound.household
    facts = await repo.household_facts(uow.session, household.id)
    children = await repo.children(uow.session, household.id) if sees_children(member.role) else []
    return MeRead(
        member=OwnMember(
            id=member.id,
            given_name=member.given_name,
            family_name=member.family_name,
            birth_date=member.birth_date,
            role=member.role,
            has_bsn=member.bsn_ciphertext is not None,
        ),
        household=OwnHousehold(
            id=household.id,
            reference=household.reference,
            status=household.status,
            postcode=household.postcode,
            house_number=household.house_number,
            house_number_addition=household.house_number_addition,
            **facts,
        ),
        children=[Child(given_name=c.given_name) for c in children if c.id != member.id],
    )


# -- the plan ---------------------------------------------------------------------------------------


def _domain(row: Any, code: str) -> Domain:
    return Domain(code=code, label_nl=row["label_nl"], label_en=row["label_en"])


async def _plan_view(uow: UnitOfWork, plan: Plan, member_id: uuid.UUID) -> PlanView:
    goals = await repo.goals_of(uow.session, plan.id)
    actions = await repo.actions_of(uow.session, plan.id)
    agreement = None
    if plan.agreed_at is not None:
        agreement = Agreement(
            agreed_at=plan.agreed_at,
            by_you=plan.agreed_by_member_id == member_id,
            recorded_by=RecordedBy(plan.agreement_recorded_by or RecordedBy.team),
        )
    evaluations = await repo.evaluations_of(uow.session, plan.id, member_id)
    return PlanView(
        id=plan.id,
        revision=plan.revision,
        version=plan.version,
        summary=plan.summary,
        evaluation_date=plan.evaluation_date,
        agreement=agreement,
        goals=[
            GoalView(
                id=g["id"],
                domain=_domain(g, g["code"]),
                target_score=g["target_score"],
                description=g["description"],
            )
            for g in goals
        ],
        actions=[
            ActionView(
                id=a["id"],
                goal_id=a["goal_id"],
                description=a["description"],
                performer=Performer(kind=a["performer_kind"], name=a["performer_name"]),
                due_date=a["due_date"],
                done=a["done"],
            )
            for a in actions
        ],
        evaluations=[EvaluationView.model_validate(dict(e)) for e in evaluations],
        updated_at=plan.updated_at,
    )


async def _active_plan(uow: UnitOfWork, bound: Bound, *, for_update: bool = False) -> Plan:
    plan = await plans_repo.active(uow.session, bound.household.id, for_update=for_update)
    if plan is None:
        raise NotFound("plan")
    uow.last_entry.resource_id = plan.id
    return plan


async def plan(uow: UnitOfWork, principal: Principal) -> PlanView:
    """The household's active plan."""
    bound = await bound_member(uow, principal, resource="plan", action=AccessAction.read, about_member=False)
    return await _plan_view(uow, await _active_plan(uow, bound), bound.member.id)


async def agree(
    uow: UnitOfWork, principal: Principal, expected_version: ExpectedVersion, policy: PlanPolicy
) -> PlanView:
    """The member agrees to the active plan, in the version they read (``expected_version``): the
    team's way of recording an agreement (``plans.agreement``), recorded as the member's."""
    bound = await bound_member(
        uow, principal, resource="plan", action=AccessAction.update, about_member=False
    )
    active = await _active_plan(uow, bound, for_update=True)
    expected_version.check(active.id, active.version)
    ensure_open(bound.household.status)
    if active.agreed_at is not None:
        raise Conflict("The household already agreed to this version.", rule="plan_already_agreed")
    fields = AgreementFields(agreed_by_member_id=bound.member.id)
    await record_agreement(uow, bound.household, active, fields, policy, RecordedBy.member)
    await plans.changed(uow, active)
    return await _plan_view(uow, active, bound.member.id)


def _bound_household(
    uow: UnitOfWork, principal: Principal, resource: str, action: AccessAction, resource_id: uuid.UUID
) -> uuid.UUID:
    """The household of a member's one-statement write, whose statement checks the member's own rule
    (``households.access.HOUSEHOLD_MEMBER_RULE``) as ``bound_member`` does; a sign-in bound to no
    household is refused as ``bound_member`` refuses it."""
    if principal.household_id is None:
        uow.log(
            principal,
            resource=resource,
            action=action,
            outcome=AccessOutcome.denied,
            purpose=SELF_SERVICE,
            resource_id=resource_id,
        )
        raise NotFound("member")
    return principal.household_id


async def add_view(
    uow: UnitOfWork, principal: Principal, evaluation_id: uuid.UUID, data: YourViewCreate
) -> MemberViewRead:
    """The member adds their own view to an evaluation of their household's active plan, beside the
    household's view the team recorded (``plans.member_views``); once per evaluation."""
    household_id = _bound_household(uow, principal, member_views.RESOURCE, AccessAction.create, evaluation_id)
    return await member_views.add_member_view(
        uow, principal, household_id, evaluation_id, data.view, purpose=SELF_SERVICE
    )


# -- consents ---------------------------------------------------------------------------------------


def _consent_view(consent: Consent | ConsentRead, labels: Any, *, in_force: bool) -> ConsentView:
    return ConsentView(
        id=consent.id,
        organisation=labels["organisation"],
        purpose=_domain(labels, consent.purpose),
        categories=consent.categories,
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        in_force=in_force,
        withdrawn_at=consent.withdrawn_at,
        withdrawal_recorded_by=consent.withdrawal_recorded_by,
        created_at=consent.created_at,
    )


async def list_consents(
    uow: UnitOfWork, principal: Principal, *, limit: int, after: repo.Cursor | None
) -> list[ConsentView]:
    """The consents the member gave, newest first (withdrawn and expired ones included)."""
    bound = await bound_member(uow, principal, resource="consent", action=AccessAction.list)
    rows = await repo.own_consents(uow.session, bound.member.id, limit=limit, after=after)
    today = await consents_repo.today(uow.session)
    views = []
    for row in rows:
        consent = row["Consent"]
        views.append(
            _consent_view(consent, row, in_force=consent_in_force(consents.terms_of(consent), today))
        )
    return views


async def withdraw_consent(uow: UnitOfWork, principal: Principal, consent_id: uuid.UUID) -> ConsentView:
    """Withdraw one of the member's own consents: partners lose access and queued deliveries stop,
    at once. The team's withdrawal (``consents.service.withdraw_by``), its statement checking the
    member's own rule (``households.access.HOUSEHOLD_MEMBER_RULE``: self-service on, their own
    consent) as ``bound_member`` does, recorded as the member's."""
    household_id = _bound_household(uow, principal, "consent", AccessAction.update, consent_id)
    withdrawn = await consents.withdraw_by(uow, principal, household_id, consent_id, purpose=SELF_SERVICE)
    return _consent_view(withdrawn.consent, withdrawn.labels, in_force=withdrawn.consent.in_force)


# -- who accessed their data ------------------------------------------------------------------------


def _about(bound: Bound, principal: Principal) -> Any:
    member = bound.member
    return repo.about(
        member.id, bound.household.id, with_children=sees_children(member.role), own_subject=principal.subject
    )


async def access_log(
    uow: UnitOfWork,
    principal: Principal,
    *,
    worker_names: bool,
    limit: int,
    after: repo.Cursor | None,
) -> list[AccessView]:
    """Who accessed the member's data and their household's file, newest first: reads and changes
    by the team, partner organisations, break-glass access with its reason, the privacy officer;
    the names of workers only when the municipality shows them (``worker_names``)."""
    bound = await bound_member(uow, principal, resource="access_log", action=AccessAction.list)
    rows = await repo.access_rows(
        uow.session, bound.household.id, _about(bound, principal), limit=limit, after=after
    )
    wording = Wording(bound.household.id, worker_names)
    return [wording.view(r) for r in rows]


# -- the subject-access export -------------------------------------------------------------------------


async def export(
    uow: UnitOfWork, principal: Principal, protector: BsnProtector, *, worker_names: bool
) -> OwnExport:
    """The privacy officer's subject-access export for the member's own member row and household,
    with the access log as the member's view words it (oldest first)."""
    bound = await bound_member(
        uow, principal, resource="subject_access", action=AccessAction.export, purpose=SUBJECT_ACCESS
    )
    subject = Subject((bound.member.id,), (bound.household.id,))
    sections = await export_sections(uow, subject, protector)
    where = _about(bound, principal)
    rows = await repo.access_rows(uow.session, bound.household.id, where, limit=None, newest_first=False)
    wording = Wording(bound.household.id, worker_names)
    return OwnExport(
        generated_at=utcnow(),
        member_ids=list(subject.member_ids),
        household_ids=list(subject.household_ids),
        sections=sections,
        access_log=[wording.view(r) for r in rows],
    )
