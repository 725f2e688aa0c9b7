"""Permission classes of the GraphQL schema (all ``async def has_permission``) and the public field list.

Deny by default: every field either declares a permission or is listed in ``PUBLIC_FIELDS`` with the
reason it is public; tests/graphql walks the schema and fails on any other field. Scopes say which
kind of data, the viewer's network membership says which objects: it is read from the database once
per request, never taken from the token, so a member who leaves loses access with their next request.
Services check the object rules again on every write.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from app.security.scopes import Scope

SIGN_IN_FIRST = "This field needs an access token; sign in and send it as 'Authorization: Bearer <token>'."


class _HasScope(BasePermission):
    scope: Scope
    message = "The access token lacks a scope this field needs."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            # An anonymous caller sent no token at all: telling them it lacks a scope misleads.
            raise self.error_class(SIGN_IN_FIRST, extensions={"code": "UNAUTHENTICATED"})
        return principal.has(self.scope)


class CanWriteInitiatives(_HasScope):
    """Scope initiatives:write (residents, coordinators); the service checks network membership."""

    scope = Scope.initiatives_write


class CanManageNetworks(_HasScope):
    """Scope networks:manage (network coordinators); the service checks the coordinator role."""

    scope = Scope.networks_manage


class IsNetworkMember(BasePermission):
    """Scope initiatives:read AND live membership of the source object's network (``network_id``)."""

    message = "Only members of this network see this field."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = await info.context.viewer()
        return bool(viewer.can_read_private(source.network_id))


async def sees_all_figures(info: Info, buurt_id: Any) -> bool:
    """Whether the caller reads every statistics measure of this buurt: the analyst role (scope
    stats:read), or a live member of a resident network covering it (scope initiatives:read). Everyone
    else reads only the measures the municipality publishes (``settings.stats_public_measures``)."""
    principal = info.context.principal
    if principal is not None and principal.has(Scope.stats_read):
        return True
    mine = (await info.context.viewer()).private_networks
    if not mine:
        return False
    covering = await info.context.loaders.networks_of_buurt.load(buurt_id)
    return any(network.id in mine for network in covering)


class SeesNeighbourhoodFigures(BasePermission):
    """A field of one statistics measure on a Neighbourhood (the source): public when the
    municipality publishes the measure, otherwise for analysts and covering networks' members."""

    message = "This figure is not published for this caller."
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, measure: str) -> None:
        self.measure = measure

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if self.measure in info.context.settings.stats_public_measures:
            return True
        return await sees_all_figures(info, source.id)


class SeesSignalStats(BasePermission):
    """The dashboard of policy signals: everyone when the municipality publishes it
    (``settings.policy_signal_stats_public``), else BI (stats:read) and the policy staff
    (signals:answer) only. Team members' signals:read does not reach it: they read their own signals."""

    message = "The policy-signal figures are not published for this caller."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if info.context.settings.policy_signal_stats_public:
            return True
        principal = info.context.principal
        return principal is not None and (
            principal.has(Scope.stats_read) or principal.has(Scope.signals_answer)
        )


class _NullWhenDenied(PermissionExtension):
    """Fail silently with null, lists included: "not yours to see" must not read as "none"."""

    def apply(self, field: StrawberryField) -> None:
        super().apply(field)
        self.return_empty_list = False


def private() -> list[FieldExtension]:
    """Field extensions for a members-only (nullable) field: null for everyone else."""
    return [_NullWhenDenied([IsNetworkMember()], fail_silently=True)]


def null_unless(permission: BasePermission) -> list[FieldExtension]:
    """Field extensions for a nullable field only some callers see: null for everyone else."""
    return [_NullWhenDenied([permission], fail_silently=True)]


def of_measure(measure: str) -> list[FieldExtension]:
    """Field extensions for a Neighbourhood field of one measure: null for callers it is not for."""
    return [_NullWhenDenied([SeesNeighbourhoodFigures(measure)], fail_silently=True)]


def needs(permission: BasePermission) -> list[FieldExtension]:
    return [PermissionExtension([permission])]


# Fields anyone may read, anonymous callers included, with the reason. Everything else declares a
# permission above. Public data: what a resident network decides with public money, shown to the
# neighbourhood: initiatives' title, summary, themes, buurt, status, amounts, dates and participants;
# network name and area; year plans, budgets and spent totals; grant decisions and amounts; the
# neighbourhood and theme lists. None of it names a person: contact details, member lists, grant
# reasons and closing reports are members-only. Ideas are filtered out in SQL for non-members.
PUBLIC_FIELDS: frozenset[str] = frozenset(
    {
        # Entry points: each returns public data only and applies the visibility rules in SQL.
        *(
            f"Query.{name}"
            for name in (
                "themes",
                "neighbourhoods",
                "neighbourhood",
                "initiatives",
                "initiative",
                "networks",
                "network",
            )
        ),
        "Theme.code",
        "Theme.labelNl",
        "Theme.labelEn",
        "Neighbourhood.code",
        "Neighbourhood.name",
        "Neighbourhood.wijkCode",
        "Neighbourhood.wijkName",
        "Neighbourhood.initiatives",
        "Neighbourhood.networks",
        "Initiative.id",
        "Initiative.title",
        "Initiative.summary",
        "Initiative.themes",
        "Initiative.status",
        "Initiative.neighbourhood",
        "Initiative.network",
        "Initiative.grant",
        "Initiative.year",
        "Initiative.requestedAmountCents",
        "Initiative.grantedAmountCents",
        "Initiative.spentAmountCents",
        "Initiative.startsOn",
        "Initiative.endsOn",
        "Initiative.participantsReached",
        "Initiative.version",
        "Initiative.createdAt",
        "Initiative.updatedAt",
        "InitiativeConnection.edges",
        "InitiativeConnection.nodes",
        "InitiativeConnection.pageInfo",
        "InitiativeEdge.cursor",
        "InitiativeEdge.node",
        "PageInfo.hasNextPage",
        "PageInfo.endCursor",
        "Network.id",
        "Network.name",
        "Network.area",
        "Network.yearPlans",
        "Network.yearPlan",
        "Network.grants",
        "Network.initiatives",
        "YearPlan.id",
        "YearPlan.year",
        "YearPlan.priorities",
        "YearPlan.summary",
        "YearPlan.budgetCents",
        "YearPlan.spentCents",
        "YearPlan.remainingCents",
        "YearPlan.version",
        # The money adds up in public: totals and the ledger's amounts name initiatives, never a person.
        "YearPlan.grantedCents",
        "YearPlan.returnedCents",
        "YearPlan.availableCents",
        "YearPlan.ledger",
        *(
            f"LedgerEntry.{name}"
            for name in ("position", "kind", "amountCents", "balanceAfterCents", "initiativeId", "createdAt")
        ),
        # Meetings: the date and the counts are public (who was present is members-only, declared on
        # Meeting.present); a decision's tally and its public summary are the network's to publish,
        # who voted what (Grant.ballots) is members-only.
        "Network.meetings",
        *(
            f"Meeting.{name}"
            for name in ("id", "heldOn", "presentCount", "residentCount", "residentSharePercent", "canDecide")
        ),
        "Meeting.version",  # a counter of corrections, for expectedVersion: says nothing of anyone
        "Grant.votesFor",
        "Grant.votesAgainst",
        "Grant.votesAbstain",
        "Grant.publicSummary",
        "Grant.meetingId",
        "Grant.id",
        "Grant.decision",
        "Grant.amountCents",
        "Grant.decidedAt",
        "Grant.year",
        # Statistics: aggregates after disclosure control (app.domain.stats), never a person. The
        # entry resolves only the measures the caller may read (sees_all_figures, else the public
        # measures); TopTheme is reachable only through Neighbourhood.topThemes, which declares
        # SeesNeighbourhoodFigures.
        "Neighbourhood.stats",
        *(f"NeighbourhoodStats.{name}" for name in ("period", "asOf", "publicOnly", "figures")),
        *(f"StatFigure.{name}" for name in ("measure", "unit", "category", "cell")),
        *(f"StatCell.{name}" for name in ("value", "suppressed", "reason")),
        *(f"StatPeriod.{name}" for name in ("key", "granularity", "start", "end")),
        *(f"TopTheme.{name}" for name in ("theme", "count", "initiatives")),
        # The sociale kaart: who offers what help where is public; the entry returns non-public
        # services only to workers, administrators and their own organisation (decided in SQL by
        # app.domain.directory), and DirectoryService.internalNotes declares SeesInternalEntries.
        "Query.directoryServices",
        *(
            f"DirectoryService.{name}"
            for name in (
                "id",
                "name",
                "description",
                "status",
                "organizationName",
                "eligibilityDescription",
                "applicationProcess",
                "feesDescription",
                "freeOfCharge",
                "languages",
                "minimumAge",
                "maximumAge",
                "themes",
                "lifeDomains",
                "email",
                "phone",
                "url",
                "public",
                "areas",
                "openingHours",
                "areaLevel",
                "stale",
                "lastModified",
            )
        ),
        *(f"DirectoryArea.{name}" for name in ("code", "name", "level")),
        *(f"OpeningHours.{name}" for name in ("weekday", "opensAt", "closesAt")),
        "DirectoryServiceConnection.nodes",
        "DirectoryServiceConnection.pageInfo",
        # Contact fields are reachable only through members-only fields (Initiative.initiator,
        # NetworkMember.contact), which declare IsNetworkMember.
        "Contact.name",
        "Contact.email",
        "Contact.phone",
        # Mutation results: the problem types say what went wrong, never with submitted values.
        *(
            f"{problem}.{name}"
            for problem in (
                "Problem",
                "NotFoundProblem",
                "ForbiddenProblem",
                "ConflictProblem",
                "StaleVersionProblem",
                "InvalidInputProblem",
            )
            for name in ("rule", "message")
        ),
        "InvalidInputProblem.fields",
        "FieldProblem.path",
        "FieldProblem.message",
        "FieldProblem.rule",
        "MemberRemoved.id",
        # Policy signals' dashboard: counts of signals, never of people, reachable only through
        # Query.policySignalStats, which declares SeesSignalStats.
        *(
            f"PolicySignalStats.{name}"
            for name in ("municipality", "byThemeAndStatus", "answered", "medianDaysToAnswer", "outcomes")
        ),
        *(f"SignalThemeStatus.{name}" for name in ("theme", "status", "signals")),
        *(f"SignalOutcome.{name}" for name in ("quarter", "answer", "signals")),
    }
)
