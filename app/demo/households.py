"""Demo households for both demo teams, in every status, with members (some with a BSN, encrypted
like any other), contact moments and themes — and one confidential household of team A that only
``generalist_a`` (its coordinator, also explicitly assigned) can open.

Band 20, after the organisation. Tops the demo teams up to ``ctx.households`` (default 40), so a
second load adds nothing. Built for volume (``demo-data --households 100000``: ~230k members, ~1M
contact moments): rows are generated in Python from ``ctx.rng`` and written with multi-row INSERTs
in chunks. Names and notes are fictional and contain nothing about real people.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.demo import DemoContext, demo_loader
from app.domain.households.bsn import BsnProtector, protector
from app.domain.households.models import (
    ClosingReason,
    ContactKind,
    ContactMoment,
    Household,
    HouseholdAssignment,
    HouseholdStatus,
    HouseholdTheme,
    Member,
    MemberRole,
)
from app.domain.reference.models import Theme

DEFAULT_HOUSEHOLDS = 40
CHUNK = 5_000
S = HouseholdStatus
STATUS_WEIGHTS = {S.registered: 8, S.intake: 12, S.active: 45, S.aftercare: 15, S.closed: 20}
GIVEN = (
    "Anna",
    "Bram",
    "Chantal",
    "Daan",
    "Esra",
    "Fenna",
    "Gert",
    "Hiba",
    "Ids",
    "Jelle",
    "Klaske",
    "Liam",
    "Mila",
    "Noor",
    "Omar",
    "Pier",
    "Rixt",
    "Sem",
    "Tjitske",
    "Yara",
    "Wessel",
    "Zoë",
)
FAMILY = (
    "de Vries",
    "Dijkstra",
    "Bakker",
    "Visser",
    "Hoekstra",
    "van der Meer",
    "Postma",
    "Yilmaz",
    "El Amrani",
    "Boersma",
    "Kramer",
    "Jansen",
    "Wiersma",
    "de Jong",
    "Sijbesma",
    "Nauta",
)
NOTES = (
    "Kennismaking, afspraken gemaakt over de volgende stap.",
    "Post samen doorgenomen; twee rekeningen geregeld.",
    "Gesprek over de dagstructuur, gaat de week zelf plannen.",
    "Telefonisch contact, het gaat wat beter.",
    "Samen naar het wijkcentrum geweest.",
    "Netwerk in kaart gebracht met de buurvrouw erbij.",
    "Afspraak bij schuldhulp voorbereid.",
    None,
)
HOUSEHOLD_SHAPES: tuple[tuple[MemberRole, ...], ...] = (
    (),
    (MemberRole.partner,),
    (MemberRole.child,),
    (MemberRole.partner, MemberRole.child),
    (MemberRole.child, MemberRole.child),
    (MemberRole.partner, MemberRole.child, MemberRole.child),
    (MemberRole.other_adult,),
)  # besides the first parent: about 2.3 members per household on average
_LETTERS = "ABCDEFGHJKLMNPRTUVWXZ"  # postcode letters (SA, SD, SS never occur with these first letters)
_REFERENCE = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@demo_loader(order=20)
async def households(session: AsyncSession, ctx: DemoContext) -> None:
    team_ids = [ctx.teams[k] for k in ("a", "b") if k in ctx.teams]
    if not team_ids:
        return
    existing = await session.scalar(
        select(sa.func.count()).select_from(Household).where(col(Household.team_id).in_(team_ids))
    )
    wanted = (ctx.households or DEFAULT_HOUSEHOLDS) - int(existing or 0)
    if wanted <= 0:
        return
    themes = list(await session.scalars(select(Theme.code).where(col(Theme.active).is_(True))))
    taken = set(await session.scalars(select(Household.reference)))
    maker = _Maker(ctx, themes, taken, protector(ctx.settings))
    if not existing:
        maker.confidential_household()
    while len(maker.households) < wanted:
        maker.household(team="a" if len(maker.households) % 2 == 0 else "b")
    await maker.write(session)


class _Maker:
    """Generates rows for every table; ``write`` inserts them in dependency order."""

    def __init__(self, ctx: DemoContext, themes: list[str], taken: set[str], bsn: BsnProtector) -> None:
        self.ctx = ctx
        self.rng: random.Random = ctx.rng
        self.themes = themes
        self.taken = taken
        self.bsn = bsn
        self.today = datetime.now(UTC)
        self.households: list[dict[str, Any]] = []
        self.members: list[dict[str, Any]] = []
        self.contacts: list[dict[str, Any]] = []
        self.household_themes: list[dict[str, Any]] = []
        self.assignments: list[dict[str, Any]] = []
        self._bsn_serial = self.rng.randrange(10_000_000, 80_000_000)

    def confidential_household(self) -> None:
        row = self.household(team="a", status=S.active, coordinator="generalist_a", confidential=True)
        self.assignments.append(
            {
                "household_id": row["id"],
                "worker_id": row["coordinator_id"],
                "assigned_by": self.ctx.workers.get("team_lead_a"),
            }
        )

    def household(
        self,
        *,
        team: str,
        status: HouseholdStatus | None = None,
        coordinator: str | None = None,
        confidential: bool = False,
    ) -> dict[str, Any]:
        rng = self.rng
        status = status or rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        registered = self.today - timedelta(days=rng.randint(3, 3 * 365))
        workers = [k for k in ("generalist_a", "generalist_a2") if team == "a"] or ["generalist_b"]
        coordinator_key = coordinator or rng.choice(workers)
        buurten = [c for c in self.ctx.buurten if c.startswith("BU9999" + ("01" if team == "a" else "02"))]
        household_id = uuid.uuid4()
        closed = status is S.closed
        row = {
            "id": household_id,
            "reference": self._reference(),
            "team_id": self.ctx.teams[team],
            "buurt_id": self.ctx.buurten[rng.choice(buurten)],
            "postcode": f"{rng.randint(8900, 8939)}{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}",
            "house_number": rng.randint(1, 240),
            "house_number_addition": rng.choice((None, None, None, "A", "B", "bis")),
            "coordinator_id": self.ctx.workers.get(coordinator_key),
            "status": str(status),
            "confidential": confidential,
            "closing_reason": str(rng.choice(list(ClosingReason))) if closed else None,
            "registered_at": registered,
            "closed_at": self.today - timedelta(days=rng.randint(1, 60)) if closed else None,
            "version": 1,
            "created_at": registered,
            "updated_at": registered,
        }
        self.households.append(row)
        self._members(household_id, registered)
        self._contacts(row, status)
        for code in rng.sample(self.themes, k=min(len(self.themes), rng.choice((0, 1, 1, 2, 3)))):
            self.household_themes.append(
                {"household_id": household_id, "theme_code": code, "added_at": registered}
            )
        return row

    def _reference(self) -> str:
        while True:
            reference = "HH-" + "".join(self.rng.choice(_REFERENCE) for _ in range(8))
            if reference not in self.taken:
                self.taken.add(reference)
                return reference

    def _members(self, household_id: uuid.UUID, registered: datetime) -> None:
        rng = self.rng
        family = rng.choice(FAMILY)
        roles = [MemberRole.parent, *rng.choice(HOUSEHOLD_SHAPES)]
        for role in roles:
            member_id = uuid.uuid4()
            adult = role is not MemberRole.child
            age = rng.randint(19, 84) if adult else rng.randint(0, 17)
            bsn = self._bsn() if adult and rng.random() < 0.4 else None
            self.members.append(
                {
                    "id": member_id,
                    "household_id": household_id,
                    "given_name": rng.choice(GIVEN),
                    "family_name": family,
                    "birth_date": date.today() - timedelta(days=age * 365 + rng.randint(0, 364)),
                    "role": str(role),
                    "bsn_ciphertext": self.bsn.encrypt(bsn, member_id) if bsn else None,
                    "bsn_index": self.bsn.index(bsn) if bsn else None,
                    "version": 1,
                    "created_at": registered,
                    "updated_at": registered,
                }
            )

    def _bsn(self) -> str:
        """Generated numbers that pass the eleven-test (stored encrypted, like real ones)."""
        while True:
            self._bsn_serial += 1
            digits = f"9{self._bsn_serial:08d}"[:9]
            total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
            if total % 11 == 0:
                return digits

    def _contacts(self, household: dict[str, Any], status: HouseholdStatus) -> None:
        rng = self.rng
        count = {
            S.registered: 0,
            S.intake: rng.randint(1, 3),
            S.active: rng.randint(6, 20),
            S.aftercare: rng.randint(8, 18),
            S.closed: rng.randint(5, 16),
        }[status]
        start: datetime = household["registered_at"]
        end: datetime = household["closed_at"] or self.today
        span = max(int((end - start).total_seconds()), 3600)
        for _ in range(count):
            moment = start + timedelta(seconds=rng.randint(0, span))
            self.contacts.append(
                {
                    "id": uuid.uuid4(),
                    "household_id": household["id"],
                    "worker_id": household["coordinator_id"],
                    "kind": str(rng.choices(list(ContactKind), weights=(5, 4, 2, 1))[0]),
                    "occurred_at": moment,
                    "minutes": rng.choice((10, 15, 30, 45, 60, 90)),
                    "note": rng.choice(NOTES),
                    "created_at": moment,
                }
            )

    async def write(self, session: AsyncSession) -> None:
        for model, rows in (
            (Household, self.households),
            (Member, self.members),
            (ContactMoment, self.contacts),
            (HouseholdTheme, self.household_themes),
            (HouseholdAssignment, self.assignments),
        ):
            for start in range(0, len(rows), CHUNK):
                await session.execute(sa.insert(model), rows[start : start + CHUNK])
