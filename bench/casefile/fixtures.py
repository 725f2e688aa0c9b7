"""What the case-file benchmark needs from its database: settings, a real token, households to read
and write, and a sync cursor of "yesterday" with a day of team work after it.

The data is the demo municipality at volume, made once with::

    WIJKWERK_DATA_DIR=.wijkwerk/bench-casefile .venv/bin/wijkwerk demo-data --households 100000

Everything here goes through the app's own code (token minting, the contact and household services,
the sync position and cursor signing), so the benchmark exercises what the app really does.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.api.v1.sync import CURSOR_KIND as SYNC_CURSOR
from app.bootstrap import wiring
from app.db import Database
from app.domain.concurrency import ExpectedVersion
from app.domain.households import contacts
from app.domain.households import service as households
from app.domain.households.models import ContactKind
from app.domain.households.schemas import ContactCreate, HouseholdUpdate
from app.domain.identity.grants import mint_for_user
from app.domain.identity.models import OAuthClient, User
from app.domain.identity.tokens import build_token_verifier
from app.domain.sync import repository as sync_repo
from app.domain.sync.rules import Phase, SyncPosition, teams_digest
from app.domain.unit_of_work.work import unit_of_work
from app.embedded import start_embedded_postgres
from app.security.principal import Principal
from app.settings import Settings
from app.web.cursors import Cursors

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".wijkwerk" / "bench-casefile"
ISSUER = "https://wijkwerk.bench.invalid"
ACTOR = "generalist_a"  # a generalist of team A (demo user, linked to a worker)
SAMPLE = 1000  # households the read and write scenarios rotate over
# A day of work in one team: contact moments and household updates, each its own transaction.
DAY_CONTACTS = 120
DAY_HOUSEHOLD_UPDATES = 30


def database(data_dir: Path) -> tuple[str, Any]:
    """The embedded PostgreSQL of the benchmark data (started, or joined when already running)."""
    if not (data_dir / "secrets.json").exists():
        raise SystemExit(
            f"No benchmark data in {data_dir}. Make it first:\n"
            f"  WIJKWERK_DATA_DIR={data_dir} .venv/bin/wijkwerk demo-data --households 100000"
        )
    return start_embedded_postgres(data_dir)


def app_env(data_dir: Path, url: str) -> dict[str, str]:
    """Production settings for the served app: the data's own secrets (its keys and BSN ciphertexts),
    an https issuer, INFO logs (one access line per request, as in production)."""
    secrets: dict[str, str] = json.loads((data_dir / "secrets.json").read_text())
    return {
        "WIJKWERK_ENVIRONMENT": "production",
        "DATABASE_URL": url,
        "WIJKWERK_ISSUER": ISSUER,
        "WIJKWERK_DATA_DIR": str(data_dir),
        "WIJKWERK_LOG_LEVEL": "INFO",
        "WIJKWERK_ACCESS_TOKEN_TTL_SECONDS": "3600",
        **{f"WIJKWERK_{name.upper()}": value for name, value in secrets.items()},
    }


def settings_from(env: dict[str, str]) -> Settings:
    values = {key.removeprefix("WIJKWERK_").lower(): value for key, value in env.items()}
    values["database_url"] = values.pop("database_url", env.get("DATABASE_URL"))
    return Settings(**values)


@dataclass
class Fixtures:
    token: str
    worker_id: uuid.UUID
    team_ids: list[uuid.UUID]
    user_subject: str
    client_id: str
    organisation_id: uuid.UUID | None
    active: list[uuid.UUID]  # households with a plan: the overview scenario
    open: list[uuid.UUID]  # not closed: the contact scenario
    sync_cursor: str = ""
    day: dict[str, int] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def prepare(db: Database, settings: Settings) -> Fixtures:
    """A real token for the actor and the households of their team, sampled with a fixed seed."""
    verifier = build_token_verifier(settings, db)
    keyring = await verifier.keys()
    async with db.transaction() as session:
        user = (await session.execute(sa.select(User).where(User.username == ACTOR))).scalar_one()
        client = (
            await session.execute(sa.select(OAuthClient).where(OAuthClient.client_id == "mobile_app"))
        ).scalar_one()
        token, _, _ = await mint_for_user(session, keyring, settings, user, client, None)
        principal = await verifier.verify(token)
        assert principal.worker_id is not None
        teams = sorted(await _teams(session, principal.worker_id))
        active = await _sample(session, teams, "h.status IN ('active', 'aftercare')")
        open_ = await _sample(session, teams, "h.status <> 'closed'")
    return Fixtures(
        token=token,
        worker_id=principal.worker_id,
        team_ids=teams,
        user_subject=principal.subject,
        client_id=principal.client_id,
        organisation_id=principal.organisation_id,
        active=active,
        open=open_,
    )


async def _teams(session: Any, worker_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.execute(
        sa.text("SELECT team_id FROM worker_teams WHERE worker_id = :w"), {"w": worker_id}
    )
    return {r[0] for r in rows}


async def _sample(session: Any, teams: list[uuid.UUID], condition: str) -> list[uuid.UUID]:
    rows = await session.execute(
        sa.text(
            f"SELECT h.id FROM households h WHERE h.team_id = ANY(:teams) AND NOT h.confidential "
            f"AND {condition} ORDER BY md5(h.id::text) LIMIT :n"
        ),
        {"teams": teams, "n": SAMPLE},
    )
    return [r[0] for r in rows]


async def a_day_of_work(db: Database, settings: Settings, fixtures: Fixtures) -> None:
    """Take "yesterday's" sync position, then do a day of team work through the app's services:
    contact moments and household updates, each in its own transaction (as the API would)."""
    verifier = build_token_verifier(settings, db)
    principal = await verifier.verify(fixtures.token)
    standing = await db.fetch_one(sync_repo.STANDING, {"worker_id": principal.worker_id})
    watermark = int(standing["watermark"])
    rng = random.Random(7)
    touched = rng.sample(fixtures.open, k=DAY_CONTACTS // 2)
    for index in range(DAY_CONTACTS):
        household_id = touched[index % len(touched)]
        data = ContactCreate(
            kind=rng.choice(list(ContactKind)),
            occurred_at=datetime.now(UTC) - timedelta(hours=rng.randint(1, 20)),
            minutes=rng.choice((15, 30, 45)),
            note="Huisbezoek, afspraken doorgenomen.",
        )
        async with unit_of_work(db, wiring()) as uow:
            await contacts.create_contact(uow, principal, household_id, data)
    for household_id in rng.sample(fixtures.open, k=DAY_HOUSEHOLD_UPDATES):
        update = HouseholdUpdate(house_number_addition=rng.choice(("A", "B", "C")))
        async with unit_of_work(db, wiring()) as uow:
            current = await households.get_household(uow, principal, household_id)
            expected = ExpectedVersion(current.version, current.id)
            await households.update_household(uow, principal, household_id, update, expected)
    position = SyncPosition(fixtures.worker_id, teams_digest(fixtures.team_ids), Phase.changes, watermark)
    fixtures.sync_cursor = Cursors(settings.secret("secret_key")).encode(SYNC_CURSOR, position.to_key())
    fixtures.day = {"contacts": DAY_CONTACTS, "household_updates": DAY_HOUSEHOLD_UPDATES}


def contact_body() -> str:
    """The body of the contact scenario; ``{n}`` makes each note different (see bench.harness)."""
    moment = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return json.dumps(
        {"kind": "home_visit", "occurred_at": moment, "minutes": 30, "note": "Bezoek {n}, post doorgenomen."}
    )


QUEUED_EDITS = 20


def upload_body(households: list[uuid.UUID]) -> str:
    """The body of the upload scenario: the contact moments of a day offline, one per household, each
    with its own Idempotency-Key (``{n}`` makes every request's keys new; see bench.harness)."""
    moment = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    edits = [
        {
            "key": f"offline-{{n}}-{index}",
            "method": "POST",
            "path": f"/api/v1/households/{household_id}/contacts",
            "body": {
                "kind": "home_visit",
                "occurred_at": moment,
                "minutes": 45,
                "note": "Bezoek {n}, offline.",
            },
        }
        for index, household_id in enumerate(households[:QUEUED_EDITS])
    ]
    return json.dumps({"edits": edits})


__all__ = [
    "Fixtures", "Principal", "a_day_of_work", "app_env", "contact_body", "database", "prepare", "upload_body",
]  # fmt: skip
