"""Object types of the neighbourhood-dashboard schema. No type of formal case data lives here.

Types are shaped from the services' views; nested lists and objects come from the per-request
DataLoaders (one statement per level). Members-only fields declare IsNetworkMember; the services
have already nulled them in SQL for everyone else, the permission is the second lock on the door.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from app.domain.initiatives import schemas as views
from app.domain.initiatives.schemas import InitiativeFilter
from app.domain.initiatives.service import MAX_PAGE
from app.domain.stats.areas import THEME_MEASURE, AreaFigure, ranked
from app.graphql.arguments import page_size
from app.graphql.context import GraphQLContext
from app.graphql.lookahead import selected_on
from app.graphql.meetings import GrantBallot, LedgerEntry, Meeting
from app.graphql.permissions import IsNetworkMember, needs, of_measure, private
from app.graphql.stats import NeighbourhoodStats, StatCell, figures_of, neighbourhood_stats, period_of

Info = strawberry.Info[GraphQLContext, None]
DEFAULT_PAGE = 100
MAX_TOP_THEMES = 50
MAX_INITIATIVES_PER_THEME = 100
# In place of nested data the query did not select (never read; fails loudly if it were).
NOT_LOADED: Any = object()


def _member_field(description: str | None = None) -> Any:
    return strawberry.field(extensions=needs(IsNetworkMember()), description=description)


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
    wijk_name: str | None = strawberry.field(description="The name of the wijk this buurt lies in.")

    @classmethod
    def of(cls, view: views.NeighbourhoodView) -> Neighbourhood:
        return cls(
            id=view.id, code=view.code, name=view.name, wijk_code=view.wijk_code, wijk_name=view.wijk_name
        )

    @strawberry.field(description="The newest initiatives in this buurt (ideas only for their members).")
    async def initiatives(
        self,
        info: Info,
        status: list[InitiativeStatus] | None = None,
        theme: str | None = None,
        first: Annotated[int, page_size(MAX_PAGE)] = DEFAULT_PAGE,
    ) -> list[Initiative]:
        key = (self.id, _filter(status, theme), first)
        return await initiatives_for(info, await info.context.loaders.initiatives_of_buurt.load(key))

    @strawberry.field(description="Resident networks whose area includes this buurt.")
    async def networks(self, info: Info) -> list[Network]:
        return [Network.of(v) for v in await info.context.loaders.networks_of_buurt.load(self.id)]

    @strawberry.field(
        description="The buurt's figures for one finished period (YYYY, YYYY-Qn or YYYY-MM), after "
        "disclosure control. Analysts and members of networks covering the buurt get every catalogue "
        "measure; everyone else only the measures the municipality publishes."
    )
    async def stats(
        self, info: Info, period: str, measures: list[str] | None = None
    ) -> NeighbourhoodStats | None:
        return await neighbourhood_stats(info, self.id, self.code, period, measures)

    @strawberry.field(
        extensions=of_measure(THEME_MEASURE),
        description="Collectivisation: the themes most households in the buurt carried in the period, "
        "withheld counts last, each with the visible initiatives of the buurt carrying it. Null unless "
        "the caller reads households_by_theme (analysts, covering networks; everyone when published).",
    )
    async def top_themes(
        self,
        info: Info,
        period: str,
        first: Annotated[int, page_size(MAX_TOP_THEMES)] = 5,
        initiatives_first: Annotated[int, page_size(MAX_INITIATIVES_PER_THEME)] = 5,
    ) -> list[TopTheme] | None:
        found = await figures_of(info, self.code, period_of(period), (THEME_MEASURE,))
        known = await info.context.themes()
        top = [f for f in ranked(found.figures) if f.category in known][:first]
        return await _top_themes(info, self.id, top, initiatives_first)


@strawberry.type(description="A theme of a buurt with its figure and the initiatives that carry it.")
class TopTheme:
    theme: Theme
    count: StatCell = strawberry.field(
        description="Households whose case file was open in the period and carried the theme "
        "(measure households_by_theme), after disclosure control."
    )
    initiatives: list[Initiative] = strawberry.field(
        description="The newest visible initiatives in the buurt carrying the theme (ideas only for members)."
    )


async def _top_themes(
    info: Info, buurt_id: uuid.UUID, top: list[AreaFigure], per_theme: int
) -> list[TopTheme]:
    """The themes with their initiatives: ONE load of the buurt's newest initiatives (the shared
    loader, same visibility as everywhere), split by theme here, so the cost does not grow with the
    number of themes or initiatives. Only initiatives among the buurt's newest MAX_PAGE are shown."""
    codes = {f.category for f in top}
    found: list[views.InitiativeView] = []
    if "initiatives" in selected_on(info, "TopTheme") and codes:
        views_of_buurt = await info.context.loaders.initiatives_of_buurt.load(
            (buurt_id, InitiativeFilter(), MAX_PAGE)
        )
        found = [v for v in views_of_buurt if codes.intersection(v.themes)]
    items = await initiatives_for(info, found) if found else []
    known = await info.context.themes()
    return [
        TopTheme(
            theme=Theme.of(known[f.category]),
            count=StatCell.of(f.value, f.suppressed),
            initiatives=[i for i, v in zip(items, found, strict=True) if f.category in v.themes][:per_theme],
        )
        for f in top
    ]


@strawberry.type(description="A network's decision on an initiative's request, taken in a meeting.")
class Grant:
    network_id: strawberry.Private[uuid.UUID]
    grant_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID
    decision: GrantDecision
    amount_cents: int
    decided_at: datetime
    year: int = strawberry.field(description="The year plan the grant is booked on.")
    reason: str | None = strawberry.field(extensions=private(), description="Members of the network only.")
    votes_for: int | None = strawberry.field(description="The tally; null for decisions before meetings.")
    votes_against: int | None
    votes_abstain: int | None
    public_summary: str | None = strawberry.field(
        description="A short summary of the decision for the public."
    )
    meeting_id: strawberry.ID | None = strawberry.field(
        description="The meeting that decided (see Network.meetings); null before meetings."
    )

    @classmethod
    def of(cls, view: views.GrantView) -> Grant:
        return cls(
            network_id=view.network_id,
            grant_id=view.id,
            meeting_id=None if view.meeting_id is None else strawberry.ID(str(view.meeting_id)),
            id=strawberry.ID(str(view.id)),
            decision=GrantDecision(view.decision),
            amount_cents=view.amount_cents,
            decided_at=view.decided_at,
            year=view.year,
            reason=view.reason,
            votes_for=view.votes_for,
            votes_against=view.votes_against,
            votes_abstain=view.votes_abstain,
            public_summary=view.public_summary,
        )

    @strawberry.field(
        extensions=private(), description="Who voted what and who was recused: members of the network only."
    )
    async def ballots(self, info: Info) -> list[GrantBallot] | None:
        found = await info.context.loaders.ballots_of_grant.load(self.grant_id)
        return None if found is None else [GrantBallot.of(b) for b in found]


@strawberry.type(description="A resident initiative (bewonersinitiatief). Amounts are in euro cents.")
class Initiative:
    initiative_id: strawberry.Private[uuid.UUID]
    network_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID
    title: str
    summary: str
    status: InitiativeStatus
    neighbourhood: Neighbourhood
    requested_amount_cents: int | None
    granted_amount_cents: int | None
    spent_amount_cents: int | None = strawberry.field(
        description="Spent, from the closing report (at most the granted amount)."
    )
    starts_on: date | None
    ends_on: date | None
    participants_reached: int | None
    year: int | None = strawberry.field(description="The year plan the request is made against.")
    version: int = strawberry.field(description="Pass as expectedVersion when you change it.")
    created_at: datetime
    updated_at: datetime
    initiator: Contact | None = strawberry.field(extensions=private(), description="Members only.")
    report: str | None = strawberry.field(extensions=private(), description="Closing report; members only.")
    # Plain fields, filled for a whole list at once by ``initiatives_for`` (see there).
    themes: list[Theme]
    network: Network
    grant: Grant | None = strawberry.field(description="The network's decision, once made.")

    @classmethod
    def of(
        cls,
        view: views.InitiativeView,
        *,
        themes: Any = NOT_LOADED,
        network: Any = NOT_LOADED,
        grant: Any = NOT_LOADED,
        neighbourhood: Neighbourhood | None = None,
    ) -> Initiative:
        return cls(
            themes=themes,
            network=network,
            grant=grant,
            initiative_id=view.id,
            network_id=view.network_id,
            id=strawberry.ID(str(view.id)),
            title=view.title,
            summary=view.summary,
            status=InitiativeStatus(view.status),
            neighbourhood=neighbourhood or Neighbourhood.of(view.buurt),
            requested_amount_cents=view.requested_cents,
            granted_amount_cents=view.granted_cents,
            spent_amount_cents=view.spent_cents,
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


async def initiatives_for(info: Info, found: Sequence[views.InitiativeView]) -> list[Initiative]:
    """Initiatives with the nested data the query selects on them, loaded for the whole list at once.

    One loader call for the grants of the whole level (batched with the other lists of the same
    level), the request's theme list, and the network's name from the initiative's own row; then
    plain objects: graphql-core completes themes, grant and network without a resolver call, a
    coroutine or a task per initiative. What the query does not select is not loaded; the marker
    left in its place fails loudly should it ever be read.
    """
    wanted = selected_on(info, "Initiative")
    loaders = info.context.loaders
    themes = grants = None
    if "themes" in wanted:
        themes = {code: Theme.of(view) for code, view in (await info.context.themes()).items()}
    if "grant" in wanted:
        grants = await loaders.grants_of_initiatives.load(tuple(v.id for v in found))
    shared: dict[tuple[str, uuid.UUID], Any] = {}  # one Network / Neighbourhood object per id

    def once(key: tuple[str, uuid.UUID], make: Any) -> Any:
        if key not in shared:
            shared[key] = make()
        return shared[key]

    items = []
    for n, view in enumerate(found):
        network: Any = NOT_LOADED
        if "network" in wanted:  # the initiative's row carries its network's name: no statement
            network = once(
                ("network", view.network_id), lambda v=view: Network.named(v.network_id, v.network_name)
            )
        found_grant = NOT_LOADED if grants is None else grants[n]
        grant = found_grant if found_grant is NOT_LOADED or found_grant is None else Grant.of(found_grant)
        items.append(
            Initiative.of(
                view,
                themes=NOT_LOADED if themes is None else [themes[c] for c in view.themes if c in themes],
                network=network,
                grant=grant,
                neighbourhood=once(("buurt", view.buurt.id), lambda b=view.buurt: Neighbourhood.of(b)),
            )
        )
    return items


async def initiative_for(info: Info, view: views.InitiativeView) -> Initiative:
    return (await initiatives_for(info, [view]))[0]


@strawberry.type(description="A network's plan for one year: priorities and the initiative budget (cents).")
class YearPlan:
    plan_id: strawberry.Private[uuid.UUID]
    network_id: strawberry.Private[uuid.UUID]
    priority_codes: strawberry.Private[list[str]]
    id: strawberry.ID
    year: int
    summary: str | None
    budget_cents: int
    granted_cents: int = strawberry.field(description="Every grant against this plan (gross).")
    spent_cents: int = strawberry.field(
        description="What the initiatives' closing reports say was spent. (Before 2026-12 this field "
        "showed the granted total; that is grantedCents now.)"
    )
    returned_cents: int = strawberry.field(
        description="Granted money not spent, returned to the budget when the initiative reported back."
    )
    available_cents: int = strawberry.field(
        description="What can still be granted: budget - granted + returned (the ledger's balance)."
    )
    remaining_cents: int = strawberry.field(
        description="The budget minus every grant, ignoring returned money (its meaning before returns).",
        deprecation_reason="Use availableCents, which counts money returned by initiatives.",
    )
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
            granted_cents=view.granted_cents,
            spent_cents=view.spent_cents,
            returned_cents=view.returned_cents,
            available_cents=view.available_cents,
            remaining_cents=view.remaining_cents,
            version=view.version,
            plan_id=view.id,
        )

    @strawberry.field
    async def priorities(self, info: Info) -> list[Theme]:
        return await _themes(info, self.priority_codes)

    @strawberry.field(description="Every movement of the available budget, oldest first (public).")
    async def ledger(self, info: Info) -> list[LedgerEntry]:
        return [LedgerEntry.of(e) for e in await info.context.loaders.ledger_of_year_plan.load(self.plan_id)]


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
        return cls.named(view.id, view.name)

    @classmethod
    def named(cls, network_id: uuid.UUID, name: str) -> Network:
        return cls(network_id=network_id, id=strawberry.ID(str(network_id)), name=name)

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

    @strawberry.field(description="Meetings of this network, newest first.")
    async def meetings(self, info: Info) -> list[Meeting]:
        return [Meeting.of(v) for v in await info.context.loaders.meetings_of_network.load(self.network_id)]

    @strawberry.field(description="Grant decisions of this network, newest first.")
    async def grants(self, info: Info) -> list[Grant]:
        return [Grant.of(v) for v in await info.context.loaders.grants_of_network.load(self.network_id)]

    @strawberry.field(description="The newest initiatives of this network (ideas only for its members).")
    async def initiatives(
        self,
        info: Info,
        status: list[InitiativeStatus] | None = None,
        theme: str | None = None,
        first: Annotated[int, page_size(MAX_PAGE)] = DEFAULT_PAGE,
    ) -> list[Initiative]:
        key = (self.network_id, _filter(status, theme), first)
        return await initiatives_for(info, await info.context.loaders.initiatives_of_network.load(key))

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
