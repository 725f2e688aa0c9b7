"""Loaders of resident networks: by id, per buurt, and their area, year plans, grants and members."""

from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from app.domain.initiatives import network_service
from app.domain.initiatives.schemas import (
    BallotView,
    GrantView,
    LedgerEntryView,
    MeetingView,
    MemberView,
    NeighbourhoodView,
    NetworkView,
    YearPlanView,
)
from app.graphql.loaders.batching import Source, batch, public


def network(source: Source) -> DataLoader[uuid.UUID, NetworkView | None]:
    return batch(source, public(network_service.networks_by_ids))


def area_of_network(source: Source) -> DataLoader[uuid.UUID, list[NeighbourhoodView]]:
    return batch(source, public(network_service.areas_of_networks))


def networks_of_buurt(source: Source) -> DataLoader[uuid.UUID, list[NetworkView]]:
    return batch(source, public(network_service.networks_of_buurten))


def year_plans_of_network(source: Source) -> DataLoader[uuid.UUID, list[YearPlanView]]:
    return batch(source, public(network_service.year_plans_of_networks))


def grants_of_network(source: Source) -> DataLoader[uuid.UUID, list[GrantView]]:
    """Grant decisions; the reasons only for members of the network (the service nulls them)."""
    return batch(source, network_service.grants_of_networks)


def members_of_network(source: Source) -> DataLoader[uuid.UUID, list[MemberView] | None]:
    """Members, for members of the network only (None for everyone else)."""
    return batch(source, network_service.members_of_networks)


def meetings_of_network(source: Source) -> DataLoader[uuid.UUID, list[MeetingView]]:
    """Meetings; who was present only for members of the network (the statement selects it so)."""
    return batch(source, network_service.meetings_of_networks)


def ballots_of_grant(source: Source) -> DataLoader[uuid.UUID, list[BallotView] | None]:
    """Who voted what, for grants of the caller's own networks only."""
    return batch(source, network_service.ballots_of_grants)


def ledger_of_year_plan(source: Source) -> DataLoader[uuid.UUID, list[LedgerEntryView]]:
    return batch(source, public(network_service.ledgers_of_year_plans))
