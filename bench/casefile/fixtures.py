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
from app.domain.organisation.models import Team, Worker, WorkerRole, WorkerTeam
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


# The worklist scenarios: a team of 12 generalists with 60 open households each, and its lead. The
# demo data has two teams of two or three workers with 12-25k households each, so the benchmark sets
# such a team up once in its own data folder (``worklist_team``): households of team A (taken from the
# far end of the sample order, so no other scenario's households move) become the team's, 60 per
# worker as coordinator.
WORKLIST_TEAM = "Wijkteam Werklijst (bench)"
WORKLIST_WORKERS = 12
WORKLIST_CASELOAD = 60
WORKLIST_USER = "bench_worklist_{:02d}"
WORKLIST_LEAD = "bench_worklist_lead"


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
    # The worklist scenarios' callers: name -> (token, worker id): "worker" (60 households), "lead".
    worklist: dict[str, tuple[str, uuid.UUID]] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def worklist_headers(self, caller: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.worklist[caller][0]}"}

    def floor_env(self) -> dict[str, str]:
        """Who the floor acts for (it checks no token)."""
        env = {"FLOOR_WORKER": str(self.worker_id), "FLOOR_SUBJECT": self.user_subject}
        if self.worklist:
            env["FLOOR_WORKLIST_WORKER"] = str(self.worklist["worker"][1])
            env["FLOOR_WORKLIST_LEAD"] = str(self.worklist["lead"][1])
        return env


async def prepare(db: Database, settings: Settings) -> Fixtures:
    """A real token for the actor and the households of their team, sampled with a fixed seed; the
    worklist team (made once) and real tokens for one of its workers and its lead."""
    verifier = build_token_verifier(settings, db)
    keyring = await verifier.keys()
    async with db.transaction() as session:
        client = (
            await session.execute(sa.select(OAuthClient).where(OAuthClient.client_id == "mobile_app"))
        ).scalar_one()

        async def token_of(username: str) -> tuple[str, Principal]:
            user = (await session.execute(sa.select(User).where(User.username == username))).scalar_one()
            token, _, _ = await mint_for_user(session, keyring, settings, user, client, None)
            return token, await verifier.verify(token)

        token, principal = await token_of(ACTOR)
        assert principal.worker_id is not None
        teams = sorted(await _teams(session, principal.worker_id))
        active = await _sample(session, teams, "h.status IN ('active', 'aftercare')")
        open_ = await _sample(session, teams, "h.status <> 'closed'")
        await worklist_team(session, teams[0])
        worklist: dict[str, tuple[str, uuid.UUID]] = {}
        for caller, username in (("worker", WORKLIST_USER.format(1)), ("lead", WORKLIST_LEAD)):
            caller_token, caller_principal = await token_of(username)
            assert caller_principal.worker_id is not None
            worklist[caller] = (caller_token, caller_principal.worker_id)
    return Fixtures(
        token=token,
        worker_id=principal.worker_id,
        team_ids=teams,
        user_subject=principal.subject,
        client_id=principal.client_id,
        organisation_id=principal.organisation_id,
        active=active,
        open=open_,
        worklist=worklist,
    )


async def worklist_team(session: Any, from_team: uuid.UUID) -> None:
    """The worklist team, once: 12 generalists and a lead (workers with users), and 60 open households
    of ``from_team`` per generalist as coordinator (the last ones in the sample order)."""
    found = await session.execute(sa.text("SELECT id FROM teams WHERE name = :n"), {"n": WORKLIST_TEAM})
    if found.first() is not None:
        return
    municipality = await session.scalar(sa.select(Team.municipality_id).where(Team.id == from_team))
    team = Team(municipality_id=municipality, name=WORKLIST_TEAM)
    session.add(team)
    people = [(WORKLIST_USER.format(n), WorkerRole.generalist) for n in range(1, WORKLIST_WORKERS + 1)]
    made = [(Worker(name=username, role=role), username) for username, role in people]
    made.append((Worker(name=WORKLIST_LEAD, role=WorkerRole.team_lead), WORKLIST_LEAD))
    session.add_all([worker for worker, _ in made])
    await session.flush()  # the rows the links below refer to (the models declare no relationships)
    for worker, username in made:
        session.add(WorkerTeam(worker_id=worker.id, team_id=team.id))
        session.add(User(username=username, display_name=username, role=worker.role, worker_id=worker.id))
    await session.flush()
    workers = [worker.id for worker, _ in made if worker.role == WorkerRole.generalist]
    team_id = team.id
    # 60 households each, round robin over the workers, from the far end of the sample order.
    await session.execute(
        sa.text(
            "WITH picked AS (SELECT h.id, row_number() OVER (ORDER BY md5(h.id::text) DESC) AS n "
            "  FROM households h WHERE h.team_id = :from_team AND NOT h.confidential "
            "   AND h.status <> 'closed' ORDER BY md5(h.id::text) DESC LIMIT :total) "
            "UPDATE households AS h "
            "   SET team_id = :team, coordinator_id = (CAST(:workers AS uuid[]))[(p.n - 1) % :k + 1] "
            "  FROM picked AS p WHERE h.id = p.id"
        ),
        {
            "from_team": from_team,
            "team": team_id,
            "workers": workers,
            "k": len(workers),
            "total": len(workers) * WORKLIST_CASELOAD,
        },
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
