"""The DataLoaders of one GraphQL request, one module per family (initiatives, networks, figures).

Each batch function reads in a read of its own (``reads``): for a query a short session per batch,
for a mutation the request's unit of work. ``Loaders`` holds one request's loaders, each made when
first asked for (a list query uses one or two of them); a new ``Loaders`` drops every cached answer.
"""

from __future__ import annotations

import uuid
from functools import cached_property

from strawberry.dataloader import DataLoader

from app.domain.initiatives.schemas import (
    BallotView,
    GrantView,
    InitiativeView,
    LedgerEntryView,
    MeetingView,
    MemberView,
    NeighbourhoodView,
    NetworkView,
    YearPlanView,
)
from app.domain.stats.areas import AreaFigures
from app.graphql.loaders import figures, initiatives, networks
from app.graphql.loaders.batching import Source
from app.graphql.loaders.figures import FigureKey
from app.graphql.loaders.initiatives import ParentKey


class Loaders:
    """Every DataLoader of one request."""

    def __init__(self, source: Source) -> None:
        self.source = source

    @cached_property
    def initiative(self) -> DataLoader[uuid.UUID, InitiativeView | None]:
        return initiatives.initiative(self.source)

    @cached_property
    def grants_of_initiatives(self) -> DataLoader[tuple[uuid.UUID, ...], list[GrantView | None]]:
        return initiatives.grants_of_initiatives(self.source)

    @cached_property
    def initiatives_of_buurt(self) -> DataLoader[ParentKey, list[InitiativeView]]:
        return initiatives.initiatives_of(self.source, "buurt")

    @cached_property
    def initiatives_of_network(self) -> DataLoader[ParentKey, list[InitiativeView]]:
        return initiatives.initiatives_of(self.source, "network")

    @cached_property
    def network(self) -> DataLoader[uuid.UUID, NetworkView | None]:
        return networks.network(self.source)

    @cached_property
    def area_of_network(self) -> DataLoader[uuid.UUID, list[NeighbourhoodView]]:
        return networks.area_of_network(self.source)

    @cached_property
    def networks_of_buurt(self) -> DataLoader[uuid.UUID, list[NetworkView]]:
        return networks.networks_of_buurt(self.source)

    @cached_property
    def year_plans_of_network(self) -> DataLoader[uuid.UUID, list[YearPlanView]]:
        return networks.year_plans_of_network(self.source)

    @cached_property
    def grants_of_network(self) -> DataLoader[uuid.UUID, list[GrantView]]:
        return networks.grants_of_network(self.source)

    @cached_property
    def members_of_network(self) -> DataLoader[uuid.UUID, list[MemberView] | None]:
        return networks.members_of_network(self.source)

    @cached_property
    def meetings_of_network(self) -> DataLoader[uuid.UUID, list[MeetingView]]:
        return networks.meetings_of_network(self.source)

    @cached_property
    def ballots_of_grant(self) -> DataLoader[uuid.UUID, list[BallotView] | None]:
        return networks.ballots_of_grant(self.source)

    @cached_property
    def ledger_of_year_plan(self) -> DataLoader[uuid.UUID, list[LedgerEntryView]]:
        return networks.ledger_of_year_plan(self.source)

    @cached_property
    def figures(self) -> DataLoader[FigureKey, AreaFigures]:
        return figures.figures(self.source)


__all__ = ["FigureKey", "Loaders", "ParentKey"]
