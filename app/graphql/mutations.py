"""Mutations for residents and coordinators. Each calls one service use case inside a savepoint and
answers with the changed object or a typed problem (never a stack trace, SQL or a submitted value).

Field permissions say which scope a mutation needs; the services check membership, the coordinator
role, the expected version (optimistic concurrency), the lifecycle and the invariants.
"""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from enum import Enum
from functools import partial
from typing import Annotated, Any, TypeVar

import pydantic
import strawberry

from app.domain import errors, text
from app.domain.concurrency import ExpectedVersion
from app.domain.initiatives import network_service, service
from app.domain.initiatives import schemas as domain
from app.domain.initiatives.access import Viewer
from app.domain.unit_of_work.work import UnitOfWork
from app.graphql.idempotency import KeyArgument, mutation_key
from app.graphql.permissions import CanManageNetworks, CanWriteInitiatives, needs
from app.graphql.queries import parse_id
from app.graphql.types import (
    GrantDecision,
    Info,
    Initiative,
    Meeting,
    NetworkMember,
    NetworkRole,
    YearPlan,
    initiative_for,
)

T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)


# -- problems -------------------------------------------------------------------------------------


@strawberry.interface(description="Why a mutation changed nothing. `rule` is a stable machine-readable name.")
class Problem:
    rule: str
    message: str


@strawberry.type(description="The object does not exist or is not yours to change (both answer alike).")
class NotFoundProblem(Problem):
    pass


@strawberry.type(description="You may see the object but this action is not yours (e.g. coordinators only).")
class ForbiddenProblem(Problem):
    pass


@strawberry.type(description="The change breaks a rule of the current state (lifecycle, invariant).")
class ConflictProblem(Problem):
    pass


@strawberry.type(description="The object changed since you read it: read it again, reapply your edit.")
class StaleVersionProblem(Problem):
    pass


@strawberry.type
class FieldProblem:
    path: list[str]
    message: str
    rule: str


@strawberry.type(description="The input breaks one or more rules; each entry names the field and rule.")
class InvalidInputProblem(Problem):
    fields: list[FieldProblem]


@strawberry.type
class MemberRemoved:
    id: strawberry.ID


ProblemType = NotFoundProblem | ForbiddenProblem | ConflictProblem | StaleVersionProblem | InvalidInputProblem

InitiativeResult = Annotated[Initiative | ProblemType, strawberry.union("InitiativeResult")]
MemberResult = Annotated[NetworkMember | ProblemType, strawberry.union("NetworkMemberResult")]
MemberRemovedResult = Annotated[MemberRemoved | ProblemType, strawberry.union("MemberRemovedResult")]
YearPlanResult = Annotated[YearPlan | ProblemType, strawberry.union("YearPlanResult")]
MeetingResult = Annotated[Meeting | ProblemType, strawberry.union("MeetingResult")]


def problem_of(error: errors.DomainError) -> ProblemType:
    if isinstance(error, errors.ValidationFailed):
        fields = [
            FieldProblem(path=[str(p) for p in e.loc], message=e.message, rule=e.rule) for e in error.errors
        ]
        return InvalidInputProblem(rule=error.rule, message=error.detail, fields=fields)
    if isinstance(error, errors.NotFound):
        return NotFoundProblem(rule=error.rule, message=error.detail)
    if isinstance(error, errors.Forbidden):
        return ForbiddenProblem(rule=error.rule, message=error.detail)
    if isinstance(error, errors.PreconditionFailed | errors.PreconditionRequired):
        return StaleVersionProblem(rule=error.rule, message=error.detail)
    return ConflictProblem(rule=error.rule, message=error.detail)


def invalid_input(error: pydantic.ValidationError) -> InvalidInputProblem:
    # Location, the rule and its message only (named as REST names them): never the submitted value.
    fields = []
    for entry in error.errors(include_url=False, include_input=False):
        rule, message = text.describe(entry)
        fields.append(
            FieldProblem(path=["input", *(str(p) for p in entry["loc"])], message=message, rule=rule)
        )
    return InvalidInputProblem(
        rule="validation", message="The input does not match the rules.", fields=fields
    )


def _plain(value: Any) -> Any:
    """A Strawberry input as plain data: fields left out (UNSET) are dropped, enums become values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not strawberry.UNSET
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.value if isinstance(value, Enum) else value


def _model(model: type[M], value: Any) -> M:
    """Strawberry input -> the service's pydantic model (its rules apply; unset fields stay unset)."""
    return model.model_validate(_plain(value))


async def run(
    info: Info, action: Callable[[UnitOfWork, Viewer], Awaitable[T]], shape: Callable[[T], Any]
) -> Any:
    """One use case in the request's unit of work, in a savepoint: on a broken rule nothing it did
    stays, and a problem is returned. Everything the request reads from here on (the viewer, the
    answer's nested fields) is read in the unit of work too, so it shows what was just written."""
    ctx = info.context
    work = ctx.in_unit_of_work()
    viewer = await ctx.viewer()
    try:
        async with work.savepoint() as uow:
            result = await action(uow, viewer)
    except errors.DomainError as error:
        return problem_of(error)
    except pydantic.ValidationError as error:
        return invalid_input(error)
    ctx.after_write()
    shaped = shape(result)
    return await shaped if inspect.isawaitable(shaped) else shaped


def _id(value: strawberry.ID, what: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise errors.NotFound(what)
    return parsed


# -- inputs ---------------------------------------------------------------------------------------


@strawberry.input
class ContactInput:
    name: str
    email: str | None = None
    phone: str | None = None


@strawberry.input
class ProposeInitiativeInput:
    network_id: strawberry.ID
    buurt: str = strawberry.field(description="Buurt code inside the network's area.")
    title: str
    summary: str
    themes: list[str] = strawberry.field(default_factory=list)
    initiator: ContactInput
    starts_on: date | None = None
    ends_on: date | None = None


@strawberry.input(description="Only the fields you send change.")
class UpdateInitiativeInput:
    buurt: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET
    themes: list[str] | None = strawberry.UNSET
    initiator: ContactInput | None = strawberry.UNSET
    starts_on: date | None = strawberry.UNSET
    ends_on: date | None = strawberry.UNSET


@strawberry.enum
class Vote(Enum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


@strawberry.input
class VoteInput:
    member_id: uuid.UUID
    vote: Vote


@strawberry.input(description="The count of an anonymous vote.")
class TallyInput:
    votes_for: int
    votes_against: int
    votes_abstain: int


@strawberry.input(
    description="The decision of a meeting: the votes of the members present (or the tally, where the "
    "network votes anonymously) decide; `decision` must be theirs. Members linked to the initiative "
    "are recused and do not vote (rule conflict_of_interest)."
)
class GrantDecisionInput:
    decision: GrantDecision
    amount_cents: int = 0
    reason: str
    meeting_id: uuid.UUID
    votes: list[VoteInput] | None = None
    tally: TallyInput | None = None
    declared_conflicts: list[uuid.UUID] = strawberry.field(
        default_factory=list, description="Members present who declared a link to the initiative."
    )
    public_summary: str | None = strawberry.field(default=None, description="Shown on the public dashboard.")


@strawberry.input
class MeetingInput:
    held_on: date
    present_member_ids: list[uuid.UUID]


@strawberry.input(description="Only the fields you send change.")
class CorrectMeetingInput:
    held_on: date | None = strawberry.UNSET
    present_member_ids: list[uuid.UUID] | None = strawberry.UNSET


@strawberry.input
class ReportInput:
    participants_reached: int
    report: str
    ends_on: date | None = None
    spent_cents: int | None = strawberry.field(
        default=None,
        name="spentAmountCents",
        description="Of the grant, in euro cents; at most the granted amount (rule spent_exceeds_grant).",
    )


@strawberry.input
class AddMemberInput:
    display_name: str
    is_resident: bool
    role: NetworkRole = NetworkRole.MEMBER
    user_id: uuid.UUID | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.input(description="Only the fields you send change.")
class UpdateMemberInput:
    display_name: str | None = strawberry.UNSET
    is_resident: bool | None = strawberry.UNSET
    role: NetworkRole | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET


@strawberry.input
class YearPlanInput:
    year: int
    budget_cents: int
    priorities: list[str] = strawberry.field(default_factory=list)
    summary: str | None = None


@strawberry.input(description="Only the fields you send change.")
class UpdateYearPlanInput:
    budget_cents: int | None = strawberry.UNSET
    priorities: list[str] | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET


# -- mutations ------------------------------------------------------------------------------------

_WRITE = needs(CanWriteInitiatives())
_MANAGE = needs(CanManageNetworks())


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=_WRITE, description="Propose an initiative for your network (status IDEA)."
    )
    async def propose_initiative(self, info: Info, input: ProposeInitiativeInput) -> InitiativeResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.InitiativeView:
            return await service.propose(uow, viewer, _model(domain.InitiativeCreate, input))

        return await run(info, action, partial(initiative_for, info))

    @strawberry.mutation(extensions=_WRITE, description="Edit an initiative until the network has decided.")
    async def update_initiative(
        self, info: Info, id: strawberry.ID, expected_version: int, input: UpdateInitiativeInput
    ) -> InitiativeResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.InitiativeView:
            data = _model(domain.InitiativeUpdate, input)
            return await service.update(
                uow, viewer, _id(id, "initiative"), ExpectedVersion(expected_version), data
            )

        return await run(info, action, partial(initiative_for, info))

    @strawberry.mutation(extensions=_WRITE, description="Ask the network for a grant (IDEA -> REQUESTED).")
    async def request_grant(
        self, info: Info, id: strawberry.ID, expected_version: int, amount_cents: int, year: int
    ) -> InitiativeResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.InitiativeView:
            data = domain.GrantRequest(amount_cents=amount_cents, year=year)
            return await service.request_grant(
                uow, viewer, _id(id, "initiative"), ExpectedVersion(expected_version), data
            )

        return await run(info, action, partial(initiative_for, info))

    @strawberry.mutation(
        extensions=_MANAGE,
        description="Record a meeting's decision on a request: granted (within the year plan's available "
        "budget) or rejected, as the members present voted.",
    )
    async def decide_grant(
        self, info: Info, id: strawberry.ID, expected_version: int, input: GrantDecisionInput
    ) -> InitiativeResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.InitiativeView:
            data = _model(domain.GrantDecisionIn, input)
            return await service.decide_grant(
                uow, viewer, _id(id, "initiative"), ExpectedVersion(expected_version), data
            )

        return await run(info, action, partial(initiative_for, info))

    @strawberry.mutation(extensions=_WRITE, description="A granted initiative starts (GRANTED -> RUNNING).")
    async def start_initiative(
        self, info: Info, id: strawberry.ID, expected_version: int
    ) -> InitiativeResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.InitiativeView:
            return await service.start(uow, viewer, _id(id, "initiative"), ExpectedVersion(expected_version))

        return await run(info, action, partial(initiative_for, info))

    @strawberry.mutation(
        extensions=_WRITE, description="Report on a finished initiative (RUNNING -> COMPLETED)."
    )
    async def report_initiative(
        self, info: Info, id: strawberry.ID, expected_version: int, input: ReportInput
    ) -> InitiativeResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.InitiativeView:
            data = _model(domain.InitiativeReportIn, input)
            return await service.report(
                uow, viewer, _id(id, "initiative"), ExpectedVersion(expected_version), data
            )

        return await run(info, action, partial(initiative_for, info))

    @strawberry.mutation(extensions=_MANAGE, description="Add a member (at least half must stay residents).")
    async def add_network_member(
        self, info: Info, network_id: strawberry.ID, input: AddMemberInput
    ) -> MemberResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.MemberView:
            data = _model(domain.MemberCreate, input)
            return await network_service.add_member(uow, viewer, _id(network_id, "network"), data)

        return await run(info, action, NetworkMember.of)

    @strawberry.mutation(extensions=_MANAGE)
    async def update_network_member(
        self, info: Info, id: strawberry.ID, expected_version: int, input: UpdateMemberInput
    ) -> MemberResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.MemberView:
            data = _model(domain.MemberUpdate, input)
            return await network_service.update_member(
                uow, viewer, _id(id, "member"), ExpectedVersion(expected_version), data
            )

        return await run(info, action, NetworkMember.of)

    @strawberry.mutation(extensions=_MANAGE)
    async def remove_network_member(
        self, info: Info, id: strawberry.ID, expected_version: int
    ) -> MemberRemovedResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> uuid.UUID:
            return await network_service.remove_member(
                uow, viewer, _id(id, "member"), ExpectedVersion(expected_version)
            )

        return await run(info, action, lambda removed: MemberRemoved(id=strawberry.ID(str(removed))))

    @strawberry.mutation(extensions=_MANAGE, description="Write the network's plan for a year.")
    async def create_year_plan(
        self, info: Info, network_id: strawberry.ID, input: YearPlanInput
    ) -> YearPlanResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.YearPlanView:
            data = _model(domain.YearPlanCreate, input)
            return await network_service.create_year_plan(uow, viewer, _id(network_id, "network"), data)

        return await run(info, action, YearPlan.of)

    @strawberry.mutation(extensions=_MANAGE, description="The budget cannot drop below what was granted.")
    async def update_year_plan(
        self, info: Info, id: strawberry.ID, expected_version: int, input: UpdateYearPlanInput
    ) -> YearPlanResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.YearPlanView:
            data = _model(domain.YearPlanUpdate, input)
            return await network_service.update_year_plan(
                uow, viewer, _id(id, "year plan"), ExpectedVersion(expected_version), data
            )

        return await run(info, action, YearPlan.of)

    @strawberry.mutation(
        extensions=_MANAGE, description="Record a meeting of your network and who was present (coordinators)."
    )
    async def record_meeting(
        self,
        info: Info,
        network_id: strawberry.ID,
        input: MeetingInput,
        idempotency_key: Annotated[str | None, KeyArgument] = None,
    ) -> MeetingResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.MeetingView:
            data = _model(domain.MeetingCreate, input)
            network = _id(network_id, "network")
            key = mutation_key(
                info, idempotency_key, "recordMeeting", networkId=network_id, input=_plain(input)
            )
            if key is not None and (earlier := await key.claim(uow)) is not None:
                return await network_service.recorded_meeting(uow, viewer, network, earlier)
            meeting = await network_service.record_meeting(uow, viewer, network, data)
            if key is not None:
                await key.complete(uow, meeting.id)
            return meeting

        return await run(info, action, Meeting.of)

    @strawberry.mutation(
        extensions=_MANAGE,
        description="Correct a meeting's date or who was present (coordinators), until a grant is decided "
        "in it (rule meeting_decided).",
    )
    async def correct_meeting(
        self, info: Info, id: strawberry.ID, expected_version: int, input: CorrectMeetingInput
    ) -> MeetingResult:
        async def action(uow: UnitOfWork, viewer: Viewer) -> domain.MeetingView:
            data = _model(domain.MeetingCorrection, input)
            return await network_service.correct_meeting(
                uow, viewer, _id(id, "meeting"), ExpectedVersion(expected_version), data
            )

        return await run(info, action, Meeting.of)
