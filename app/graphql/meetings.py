"""Meetings, decisions and the year plan's ledger on the neighbourhood dashboard.

Dates, counts, tallies, public summaries and the ledger's amounts are public (what a network decides
with public money, naming no person). Who was present and who voted what are members-only: the
services select them for the caller's own networks only, and the fields declare IsNetworkMember.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from app.domain.initiatives import schemas as views
from app.graphql.permissions import IsNetworkMember, needs, private


def _member_field(description: str | None = None) -> Any:
    return strawberry.field(extensions=needs(IsNetworkMember()), description=description)


@strawberry.enum(description="A present member's part in a decision.")
class Ballot(Enum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    RECUSED = "recused"


@strawberry.enum(description="Why a present member did not vote on an initiative.")
class ConflictOfInterest(Enum):
    INITIATOR = "initiator"
    DECLARED = "declared"


@strawberry.type(description="One present member's vote, or their recusal: members of the network only.")
class GrantBallot:
    network_id: strawberry.Private[uuid.UUID]
    member_name: str = _member_field()
    ballot: Ballot = _member_field()
    conflict: ConflictOfInterest | None = _member_field("Why the member did not vote (recused only).")

    @classmethod
    def of(cls, view: views.BallotView) -> GrantBallot:
        return cls(
            network_id=view.network_id,
            member_name=view.display_name,
            ballot=Ballot(view.ballot),
            conflict=ConflictOfInterest(view.conflict) if view.conflict else None,
        )


@strawberry.enum(description="A movement of a year plan's available budget.")
class LedgerKind(Enum):
    BUDGET = "budget"
    GRANT = "grant"
    RETURNED = "returned"


@strawberry.type(description="One entry of a year plan's ledger (append-only), oldest first.")
class LedgerEntry:
    position: int = strawberry.field(description="Order of booking, across all plans.")
    kind: LedgerKind
    amount_cents: int = strawberry.field(description="Signed: grants negative, budget and returns positive.")
    balance_after_cents: int = strawberry.field(description="The plan's available budget after this entry.")
    initiative_id: strawberry.ID | None
    created_at: datetime

    @classmethod
    def of(cls, view: views.LedgerEntryView) -> LedgerEntry:
        return cls(
            position=view.position,
            kind=LedgerKind(view.kind),
            amount_cents=view.amount_cents,
            balance_after_cents=view.balance_after_cents,
            initiative_id=None if view.initiative_id is None else strawberry.ID(str(view.initiative_id)),
            created_at=view.created_at,
        )


@strawberry.type(description="A member present at a meeting, as they were then: members of the network only.")
class MeetingAttendee:
    network_id: strawberry.Private[uuid.UUID]
    display_name: str = _member_field()
    is_resident: bool = _member_field()


@strawberry.type(description="A meeting of the network, where grants are decided.")
class Meeting:
    network_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID
    held_on: date
    present_count: int
    resident_count: int
    resident_share_percent: int = strawberry.field(
        description="Residents among those present (rounded down)."
    )
    can_decide: bool = strawberry.field(
        description="A quorum present, with the network's resident share (under its rules now)."
    )
    present: list[MeetingAttendee] | None = strawberry.field(
        extensions=private(), description="Who was present: members of the network only."
    )
    version: int = strawberry.field(description="Send it as expectedVersion to correct the meeting.")

    @classmethod
    def of(cls, view: views.MeetingView) -> Meeting:
        present = None
        if view.present is not None:
            present = [MeetingAttendee(network_id=a.network_id, display_name=a.display_name,
                                       is_resident=a.is_resident) for a in view.present]  # fmt: skip
        return cls(
            network_id=view.network_id,
            id=strawberry.ID(str(view.id)),
            held_on=view.held_on,
            present_count=view.present_count,
            resident_count=view.resident_count,
            resident_share_percent=view.resident_share_percent,
            can_decide=view.can_decide,
            present=present,
            version=view.version,
        )
