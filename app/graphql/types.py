"""Object types of the neighbourhood-dashboard schema. No type of formal case data lives here.

Types are shaped from the services' views; nested lists and objects come from the per-request
DataLoaders (one statement per level). Members-only fields declare IsNetworkMember; the services
have already nulled them in SQL for everyone else, the permission is the second lock on the door.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from app.domain.initiatives import schemas as views
from app.domain.initiatives.schemas import InitiativeFilter
from app.graphql.context import GraphQLContext
from app.graphql.permissions import IsNetworkMember, needs, private

Info = strawberry.Info[GraphQLContext, None]
DEFAULT_PAGE = 100


@strawberry.enum(
    description="Lifecycle: IDEA -> REQUESTED -> GRANTED | REJECTED; GRANTED -> RUNNING -> COMPLETED."
)
class InitiativeStatus(Enum):
    IDEA = "idea"
    REQUESTED = "requested"
    GRANTED = "granted"
    REJECTED = "rejected"
    RUNNING = "running"
    COMPLETED = "completed"


@strawberry.enum
class GrantDecision(Enum):
    GRANTED = "granted"
    REJECTED = "rejected"


@strawberry.enum
class NetworkRole(Enum):
    MEMBER = "member"
    COORDINATOR = "coordinator"


@strawberry.type(description="A recurring question in neighbourhoods (debts, loneliness, ...).")
class Theme:
    code: str
    label_nl: str
    label_en: str

    @classmethod
    def of(cls, view: views.ThemeView) -> Theme:
        return cls(code=view.code, label_nl=view.label_nl, label_en=view.label_en)


async def _themes(info: Info, codes: list[str]) -> list[Theme]:
    known = await info.context.themes()
    return [Theme.of(known[c]) for c in codes if c in known]


@strawberry.type(description="Contact details: visible to members of the network only.")
class Contact:
    name: str
    email: str | None
    phone: str | None

    @classmethod
    def of(cls, view: views.ContactView | None) -> Contact | None:
        return None if view is None else cls(name=view.name, email=view.email, phone=view.phone)


def statuses_of(status: list[InitiativeStatus] | None) -> tuple[views.InitiativeStatus, ...]:
    return tuple(views.InitiativeStatus(s.value) for s in status or ())


def _filter(status: list[InitiativeStatus] | None, theme: str | None) -> InitiativeFilter:
    return InitiativeFilter(statuses=statuses_of(status), theme=theme)


@strawberry.type(description="A buurt (CBS code BU + 8 digits).")
class Neighbourhood:
    id: strawberry.Private[uuid.UUID]
    code: str
    name: str
    wijk_code: str | None

    @classmethod
    def of(cls, view: views.NeighbourhoodView) -> Neighbourhood:
        return cls(id=view.id, code=view.code, name=view.name, wijk_code=view.wijk_code)

    @strawberry.field(description="The newest initiatives in this buurt (ideas only for their members).")
    async def initiatives(
        self,
        info: Info,
        status: list[InitiativeStatus] | None = None,
        theme: str | None = None,
        first: int = DEFAULT_PAGE,
    ) -> list[Initiative]:
        key = (self.id, _filter(status, theme), first)
        return [Initiative.of(v) for v in await info.context.loaders.initiatives_of_buurt.load(key)]

    @strawberry.field(description="Resident networks whose area includes this buurt.")
    async def networks(self, info: Info) -> list[Network]:
        return [Network.of(v) for v in await info.context.loaders.networks_of_buurt.load(self.id)]


@strawberry.type(description="A network's decision on an initiative's request.")
class Grant:
    network_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID
    decision: GrantDecision
    amount_cents: int
    decided_at: datetime
    year: int = strawberry.field(description="The year plan the grant is booked on.")
    reason: str | None = strawberry.field(extensions=private(), description="Members of the network only.")

    @classmethod
    def of(cls, view: views.GrantView) -> Grant:
        return cls(
            network_id=view.network_id,
            id=strawberry.ID(str(view.id)),
            decision=GrantDecision(view.decision),
            amount_cents=view.amount_cents,
            decided_at=view.decided_at,
            year=view.year,
            reason=view.reason,
        )


@strawberry.type(description="A resident initiative (bewonersinitiatief). Amounts are in euro cents.")
class Initiative:
    initiative_id: strawberry.Private[uuid.UUID]
    network_id: strawberry.Private[uuid.UUID]
    theme_codes: strawberry.Private[list[str]]
    id: strawberry.ID
    title: str
    summary: str
    status: InitiativeStatus
    neighbourhood: Neighbourhood
    requested_amount_cents: int | None
    granted_amount_cents: int | None
    starts_on: date | None
    ends_on: date | None
    participants_reached: int | None
    year: int | None = strawberry.field(description="The year plan the request is made against.")
    version: int = strawberry.field(description="Pass as expectedVersion when you change it.")
    created_at: datetime
    updated_at: datetime
    initiator: Contact | None = strawberry.field(extensions=private(), description="Members only.")
    report: str | None = strawberry.field(extensions=private(), description="Closing report; members only.")

    @classmethod
    def of(cls, view: views.InitiativeView) -> Initiative:
        return cls(
            initiative_id=view.id,
            network_id=view.network_id,
            theme_codes=view.themes,
            id=strawberry.ID(str(view.id)),
            title=view.title,
            summary=view.summary,
            status=InitiativeStatus(view.status),
            neighbourhood=Neighbourhood.of(view.buurt),
            requested_amount_cents=view.requested_cents,
            granted_amount_cents=view.granted_cents,
            starts_on=view.starts_on,
            ends_on=view.ends_on,
            participants_reached=view.participants_reached,
            year=view.year,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
            initiator=Contact.of(view.initiator),
            report=view.report,
        )

    @strawberry.field
    async def themes(self, info: Info) -> list[Theme]:
        return await _themes(info, self.theme_codes)

    @strawberry.field
    async def network(self, info: Info) -> Network:
        view = await info.context.loaders.network.load(self.network_id)
        assert view is not None  # an initiative always belongs to a network (foreign key)
        return Network.of(view)

    @strawberry.field(description="The network's decision, once made.")
    async def grant(self, info: Info) -> Grant | None:
        view = await info.context.loaders.grant_of_initiative.load(self.initiative_id)
        return None if view is None else Grant.of(view)


@strawberry.type(description="A network's plan for one year: priorities and the initiative budget (cents).")
class YearPlan:
    network_id: strawberry.Private[uuid.UUID]
    priority_codes: strawberry.Private[list[str]]
    id: strawberry.ID
    year: int
    summary: str | None
    budget_cents: int
    spent_cents: int = strawberry.field(description="The total granted against this plan.")
    remaining_cents: int
    version: int = strawberry.field(description="Pass as expectedVersion when you change it.")

    @classmethod
    def of(cls, view: views.YearPlanView) -> YearPlan:
        return cls(
            network_id=view.network_id,
            priority_codes=view.priorities,
            id=strawberry.ID(str(view.id)),
            year=view.year,
            summary=view.summary,
            budget_cents=view.budget_cents,
            spent_cents=view.granted_cents,
            remaining_cents=view.remaining_cents,
            version=view.version,
        )

    @strawberry.field
    async def priorities(self, info: Info) -> list[Theme]:
        return await _themes(info, self.priority_codes)


def _member_field(description: str | None = None) -> Any:
    return strawberry.field(extensions=needs(IsNetworkMember()), description=description)


@strawberry.type(description="A member of a resident network: visible to members of that network only.")
class NetworkMember:
    network_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID = _member_field()
    display_name: str = _member_field()
    is_resident: bool = _member_field()
    role: NetworkRole = _member_field()
    has_account: bool = _member_field("Linked to a sign-in account of a resident.")
    contact: Contact = _member_field()
    version: int = _member_field("Pass as expectedVersion when you change it.")

    @classmethod
    def of(cls, view: views.MemberView) -> NetworkMember:
        contact = Contact.of(view.contact)
        assert contact is not None
        return cls(
            network_id=view.network_id,
            id=strawberry.ID(str(view.id)),
            display_name=view.display_name,
            is_resident=view.is_resident,
            role=NetworkRole(view.role),
            has_account=view.has_account,
            contact=contact,
            version=view.version,
        )


@strawberry.type(description="A resident network (wijknetwerk): at least half of its members are residents.")
class Network:
    network_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, view: views.NetworkView) -> Network:
        return cls(network_id=view.id, id=strawberry.ID(str(view.id)), name=view.name)

    @strawberry.field(description="The buurten the network covers.")
    async def area(self, info: Info) -> list[Neighbourhood]:
        return [Neighbourhood.of(v) for v in await info.context.loaders.area_of_network.load(self.network_id)]

    @strawberry.field(description="Year plans, newest first, with budget and spent totals.")
    async def year_plans(self, info: Info) -> list[YearPlan]:
        return [
            YearPlan.of(v) for v in await info.context.loaders.year_plans_of_network.load(self.network_id)
        ]

    @strawberry.field
    async def year_plan(self, info: Info, year: int) -> YearPlan | None:
        plans = await info.context.loaders.year_plans_of_network.load(self.network_id)
        return next((YearPlan.of(p) for p in plans if p.year == year), None)

    @strawberry.field(description="Grant decisions of this network, newest first.")
    async def grants(self, info: Info) -> list[Grant]:
        return [Grant.of(v) for v in await info.context.loaders.grants_of_network.load(self.network_id)]

    @strawberry.field(description="The newest initiatives of this network (ideas only for its members).")
    async def initiatives(
        self,
        info: Info,
        status: list[InitiativeStatus] | None = None,
        theme: str | None = None,
        first: int = DEFAULT_PAGE,
    ) -> list[Initiative]:
        key = (self.network_id, _filter(status, theme), first)
        return [Initiative.of(v) for v in await info.context.loaders.initiatives_of_network.load(key)]

    @strawberry.field(
        extensions=private(), description="Members of the network only; null for everyone else."
    )
    async def members(self, info: Info) -> list[NetworkMember] | None:
        found = await info.context.loaders.members_of_network.load(self.network_id)
        return None if found is None else [NetworkMember.of(m) for m in found]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class InitiativeEdge:
    cursor: str
    node: Initiative


@strawberry.type(description="A page of initiatives, newest first (Relay-style connection).")
class InitiativeConnection:
    edges: list[InitiativeEdge]
    nodes: list[Initiative]
    page_info: PageInfo
