"""Demo referral history (band 55, after the curated referrals): three years of referrals both ways,
with partners of every kind, so the referral figures of the statistics have something to show.

* Inbound: partners of every kind refer residents; most are accepted and join a household's file
  (they are linked to a demo household open at the time, in its buurt), some are declined. Declined
  ones are no older than a year: the retention purge removes finished referrals that never joined a
  file after a year (``unlinked_referrals``), and the demo holds nothing it would not keep.
* Outbound: the team refers members of its households, under a consent recorded for it, to specialist
  care (youth care, mental health) and to the debt-help, housing and welfare partners, while the
  household's file is open.
* Every referral carries its transition trail (the first answer comes within days, as
  ``days_to_first_response`` measures) and ends where its trail ends; nothing lies in the future.

Sized for the default demo (0.8 inbound and 0.4 outbound referrals per household, at most
``MAX_HOUSEHOLDS`` households' worth): the benchmarks' 100k-household loads bring their own referral
data. Written as rows with COPY, like the curated history: no webhook subscriptions exist when the
demo loads, so no outbox events are made for it. A second load adds nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.demo import DemoContext, demo_loader
from app.demo.households import GIVEN, OrderedIds, allow_bulk_statements, analyze, copy_rows
from app.domain.base import utcnow
from app.domain.consents.models import DataCategory
from app.domain.households.models import Household, Member
from app.domain.referrals.models import Direction, LegalBasis, Referral, ReferralStatus, Side, Urgency
from app.domain.unit_of_work.work import UnitOfWork

S = ReferralStatus
SCOPE = "demo:history"  # the idempotency scope of the history's inbound referrals: loaded once
MAX_HOUSEHOLDS = 5000
INBOUND_PER_HOUSEHOLD = 0.8
OUTBOUND_PER_HOUSEHOLD = 0.4
UNLINKED_DAYS = 365  # declined inbound referrals are kept this long (retention: unlinked_referrals)

# Who refers to the team, how often, and about which life domain.
INBOUND_KINDS = {
    "gp": (22, ("physical_health", "mental_health")),
    "housing": (18, ("housing", "finances")),
    "debt_help": (18, ("finances",)),
    "school": (12, ("parenting", "daytime_activity")),
    "welfare": (10, ("social_network", "community_participation")),
    "police": (8, ("domestic_relations", "justice")),
    "youth_care": (4, ("parenting",)),
    "mental_health": (4, ("mental_health",)),
    "other": (4, ("daytime_activity",)),
}
OUTBOUND_KINDS = {
    "youth_care": (30, "parenting"),
    "mental_health": (30, "mental_health"),
    "debt_help": (20, "finances"),
    "housing": (10, "housing"),
    "welfare": (10, "social_network"),
}
# How a referral ended (or where it is), by weight; recent ones may still be under way.
PATHS: dict[str, tuple[int, Sequence[ReferralStatus]]] = {
    "done": (55, (S.submitted, S.accepted, S.in_progress, S.completed)),
    "declined": (20, (S.submitted, S.declined)),
    "cancelled": (10, (S.submitted, S.accepted, S.cancelled)),
    "working": (15, (S.submitted, S.accepted, S.in_progress)),
}
REASONS = {
    S.declined: "Past niet bij ons aanbod (demo).",
    S.cancelled: "De bewoner wil geen hulp meer via deze route (demo).",
}
OUTCOME = "Afgerond; de bewoner kan verder (demo)."
DESCRIPTION = "Verwijzing uit de demo-historie."

REFERRAL_COLUMNS = (
    "id", "direction", "status", "organisation_id", "team_id", "buurt_id", "household_id", "member_id",
    "given_name", "family_name", "birth_date", "postcode", "house_number", "shared_categories",
    "reason_domain", "urgency", "description", "legal_basis", "legal_basis_note", "consent_id",
    "status_reason", "outcome", "requested_by_worker_id", "handled_by_worker_id", "idempotency_scope",
    "idempotency_key", "version", "created_at", "updated_at",
)  # fmt: skip
TRANSITION_COLUMNS = ("id", "referral_id", "from_status", "to_status", "side", "actor_subject", "occurred_at")
CONSENT_COLUMNS = (
    "id", "household_id", "member_id", "organisation_id", "purpose", "categories", "valid_from",
    "recorded_by_worker_id", "created_at",
)  # fmt: skip
SHARED = [str(DataCategory.address), str(DataCategory.identity)]


@dataclass(frozen=True)
class OpenFile:
    """A demo household (with its first adult member) and when its file was open."""

    id: uuid.UUID
    team_id: uuid.UUID
    buurt_id: uuid.UUID
    postcode: str
    house_number: int
    coordinator_id: uuid.UUID | None
    opened: datetime
    closed: datetime | None
    member_id: uuid.UUID
    given_name: str
    family_name: str | None
    birth_date: date | None


@dataclass
class Rows:
    referrals: list[tuple[Any, ...]] = field(default_factory=list)
    transitions: list[tuple[Any, ...]] = field(default_factory=list)
    consents: list[tuple[Any, ...]] = field(default_factory=list)


@demo_loader(order=55)
async def referral_history(uow: UnitOfWork, ctx: DemoContext) -> None:
    session = uow.session
    if not all(kind in ctx.partners for kind in INBOUND_KINDS) or await _loaded(session):
        return
    files = await _files(session, ctx)
    if not files:
        return
    await allow_bulk_statements(session)
    handlers = _handlers(ctx)
    history = _History(ctx, files, handlers, utcnow())
    households = min(len(files), MAX_HOUSEHOLDS)
    rows = Rows()
    for _ in range(round(households * INBOUND_PER_HOUSEHOLD)):
        history.inbound(rows)
    for _ in range(round(households * OUTBOUND_PER_HOUSEHOLD)):
        history.outbound(rows)
    await copy_rows(session, "consents", CONSENT_COLUMNS, rows.consents)
    await copy_rows(session, "referrals", REFERRAL_COLUMNS, rows.referrals)
    await copy_rows(session, "referral_transitions", TRANSITION_COLUMNS, rows.transitions)
    await analyze(session, "consents", "referrals", "referral_transitions")


async def _loaded(session: AsyncSession) -> bool:
    query = select(Referral.id).where(col(Referral.idempotency_scope) == SCOPE).limit(1)
    return (await session.execute(query)).first() is not None


async def _files(session: AsyncSession, ctx: DemoContext) -> list[OpenFile]:
    """The demo's households (not the confidential one) with their first adult member, in id order."""
    first_adult = (
        sa.select(
            col(Member.id).label("member_id"),
            col(Member.given_name),
            col(Member.family_name),
            col(Member.birth_date),
        )
        .where(
            col(Member.household_id) == col(Household.id),
            col(Member.role).in_(["parent", "partner", "other_adult"]),
        )
        .order_by(col(Member.created_at), col(Member.id))
        .limit(1)
        .lateral("first_adult")
    )
    query = (
        sa.select(
            col(Household.id),
            col(Household.team_id),
            col(Household.buurt_id),
            col(Household.postcode),
            col(Household.house_number),
            col(Household.coordinator_id),
            col(Household.registered_at),
            col(Household.closed_at),
            first_adult,
        )
        .select_from(Household)
        .join(first_adult, sa.true())
        .where(col(Household.team_id).in_(list(ctx.teams.values())), col(Household.confidential).is_(False))
        .order_by(col(Household.id))
    )
    return [OpenFile(*row) for row in (await session.execute(query)).all()]


def _handlers(ctx: DemoContext) -> dict[uuid.UUID, uuid.UUID]:
    """A generalist of each team, who handles the team's side of inbound referrals."""
    workers = {"a": "generalist_a", "b": "generalist_b"}
    return {ctx.teams[t]: ctx.workers[w] for t, w in workers.items() if t in ctx.teams and w in ctx.workers}


class _History:
    def __init__(
        self,
        ctx: DemoContext,
        files: list[OpenFile],
        handlers: dict[uuid.UUID, uuid.UUID],
        now: datetime,
    ) -> None:
        self.ctx = ctx
        self.rng: random.Random = ctx.rng
        self.files = files
        self.handlers = handlers
        self.now = now
        self.new_id = OrderedIds()
        self.buurten = sorted({(f.team_id, f.buurt_id) for f in files})

    def inbound(self, rows: Rows) -> None:
        rng = self.rng
        kind = _weighted(rng, {k: w for k, (w, _) in INBOUND_KINDS.items()})
        domain = rng.choice(INBOUND_KINDS[kind][1])
        path_name = _weighted(rng, {k: w for k, (w, _) in PATHS.items()})
        if path_name == "declined":  # never joined a file: recent only (see the module docstring)
            team_id, buurt_id = rng.choice(self.buurten)
            created = self.now - timedelta(days=rng.uniform(2, UNLINKED_DAYS - 5))
            person: tuple[Any, ...] = (None, None, rng.choice(GIVEN), None, None, None, None, [])
        else:
            home = rng.choice(self.files)
            team_id, buurt_id, created = home.team_id, home.buurt_id, self._moment(home)
            person = (
                *(home.id, home.member_id, home.given_name, home.family_name, home.birth_date),
                *(home.postcode, home.house_number, SHARED),
            )
        legal_duty = kind in ("debt_help", "housing")
        referral_id = self.new_id()
        path = self._path(path_name, created)
        self._trail(rows, referral_id, path, created, recipient=Side.team)
        status, updated = path[-1][0], path[-1][1]
        rows.referrals.append(
            (
                *(referral_id, str(Direction.inbound), str(status), self.ctx.partners[kind]),
                *(team_id, buurt_id),
                *person,
                domain,
                str(Urgency.urgent if rng.random() < 0.25 else Urgency.routine),
                DESCRIPTION,
                str(LegalBasis.legal_duty if legal_duty else LegalBasis.consent),
                "Wgs: vroegsignalering van betalingsachterstanden" if legal_duty else None,
                None,
                REASONS.get(status),
                OUTCOME if status is S.completed else None,
                None,
                self.handlers.get(team_id) if status is not S.submitted else None,
                SCOPE,
                referral_id.hex,
                len(path),
                created,
                updated,
            )
        )

    def outbound(self, rows: Rows) -> None:
        rng = self.rng
        kind = _weighted(rng, {k: w for k, (w, _) in OUTBOUND_KINDS.items()})
        domain = OUTBOUND_KINDS[kind][1]
        home = rng.choice(self.files)
        created = self._moment(home)
        organisation = self.ctx.partners[kind]
        consent_id = self.new_id()
        rows.consents.append(
            (
                *(consent_id, home.id, home.member_id, organisation, domain, SHARED),
                (created - timedelta(days=1)).date(),
                home.coordinator_id,
                created - timedelta(days=1),
            )
        )
        referral_id = self.new_id()
        path = self._path(_weighted(rng, {k: w for k, (w, _) in PATHS.items()}), created)
        self._trail(rows, referral_id, path, created, recipient=Side.partner)
        status, updated = path[-1][0], path[-1][1]
        rows.referrals.append(
            (
                *(referral_id, str(Direction.outbound), str(status), organisation),
                *(home.team_id, home.buurt_id),
                *(home.id, home.member_id, home.given_name, home.family_name, home.birth_date),
                *(home.postcode, home.house_number, SHARED, domain, str(Urgency.routine), DESCRIPTION),
                str(LegalBasis.consent),
                None,
                consent_id,
                REASONS.get(status),
                OUTCOME if status is S.completed else None,
                home.coordinator_id,
                None,
                None,
                None,
                len(path),
                created,
                updated,
            )
        )

    def _moment(self, home: OpenFile) -> datetime:
        """A moment while the file was open (and at least two days ago)."""
        end = min(home.closed or self.now, self.now - timedelta(days=2))
        span = max((end - home.opened).total_seconds(), 0.0)
        return home.opened + timedelta(seconds=self.rng.uniform(0, span))

    def _path(self, name: str, created: datetime) -> list[tuple[ReferralStatus, datetime]]:
        """The statuses of the path with their moments: the first answer within three weeks, each
        later step within two months, none after now (a path cut short by now ends where it got)."""
        rng = self.rng
        moments = [(PATHS[name][1][0], created)]
        moment = created
        for status in PATHS[name][1][1:]:
            gap = rng.uniform(0.2, 21) if len(moments) == 1 else rng.uniform(1, 60)
            moment += timedelta(days=gap)
            if moment >= self.now:
                break
            moments.append((status, moment))
        return moments

    def _trail(
        self,
        rows: Rows,
        referral_id: uuid.UUID,
        path: list[tuple[ReferralStatus, datetime]],
        created: datetime,
        *,
        recipient: Side,
    ) -> None:
        sender = Side.partner if recipient is Side.team else Side.team
        previous: str | None = None
        for status, moment in path:
            side = sender if status in (S.submitted, S.cancelled) else recipient
            row = (self.new_id(), referral_id, previous, str(status), str(side), "demo", moment)
            rows.transitions.append(row)
            previous = str(status)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
