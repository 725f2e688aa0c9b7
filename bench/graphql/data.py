"""The benchmark database: an embedded PostgreSQL of its own, migrated, with a fixed-seed data set.

2,000 initiatives and 50 resident networks in one municipality of 8 wijken and 40 buurten. One buurt
(``BIG_BUURT``) is the busy one: ~245 initiatives, of which ~200 are past the idea stage (what an
anonymous dashboard sees). Statuses follow a plausible mix; every decided request has a grant booked
on the network's year plan of that year (within its budget); 1-3 themes per initiative.

The server lives in ``.wijkwerk/bench/pgdata`` (never the shared test server) and stops when the
process that started it exits. Generation is skipped when the data set is already there.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from alembic.util.exc import CommandError

from app.db import Database
from app.embedded import create_database, drop_database, start_embedded_postgres
from app.migrations import upgrade
from app.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".wijkwerk" / "bench"
DATABASE = "wijkwerk_bench"
SEED = 20261122
MUNICIPALITY = "GM0999"
BIG_BUURT = "BU09990101"
INITIATIVES = 2000
BIG_BUURT_INITIATIVES = 245
NETWORKS = 50
STATUSES = {"idea": 15, "requested": 20, "granted": 15, "rejected": 10, "running": 20, "completed": 20}
DECIDED = {"granted", "rejected", "running", "completed"}
FUNDED = {"granted", "running", "completed"}
YEARS = (2025, 2026)
BUDGET_CENTS = 6_000_000


@dataclass
class BenchDatabase:
    url: str  # postgresql+asyncpg:// (Wijkwerk)
    dsn: str  # postgresql:// with the socket folder as host (asyncpg, node-postgres)
    server: Any


def start() -> BenchDatabase:
    url, server = start_embedded_postgres(DATA_DIR, DATABASE)
    return BenchDatabase(url=url, dsn=server.get_uri(DATABASE), server=server)


def bench_settings(url: str) -> Settings:
    return Settings(environment=Environment.test, database_url=url, data_dir=DATA_DIR)


async def prepare(db: BenchDatabase) -> None:
    """Migrate to the heads, generate the data set unless it exists, set up what the peer needs."""
    try:
        await _migrate(db.url)
    except CommandError:  # the chain of revisions was rewritten since: start from an empty database
        drop_database(db.server, DATABASE)
        create_database(db.server, DATABASE)
        await _migrate(db.url)
    connection = await asyncpg.connect(db.dsn)
    try:
        if await connection.fetchval("SELECT 1 FROM municipalities WHERE code = $1", MUNICIPALITY) is None:
            async with connection.transaction():
                await _generate(connection, random.Random(SEED))
            await connection.execute("ANALYZE")
        await connection.execute((Path(__file__).parent / "peer.sql").read_text())
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    database = Database(url, bench_settings(url))
    try:
        await upgrade(database.engine)
    finally:
        await database.dispose()


def _at(rng: random.Random, start: datetime, days: int) -> datetime:
    return start + timedelta(seconds=rng.randrange(days * 86_400))  # whole seconds: same JSON everywhere


async def _generate(connection: asyncpg.Connection, rng: random.Random) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    themes = [r["code"] for r in await connection.fetch("SELECT code FROM themes WHERE active ORDER BY code")]
    municipality = uuid.uuid4()
    await connection.execute(
        "INSERT INTO municipalities (id, code, name) VALUES ($1, $2, 'Benchstad')", municipality, MUNICIPALITY
    )
    areas: list[tuple[Any, ...]] = []
    buurten: list[uuid.UUID] = []
    codes: dict[uuid.UUID, str] = {}
    for w in range(1, 9):
        wijk = uuid.uuid4()
        areas.append((wijk, municipality, None, f"WK0999{w:02d}", f"Wijk {w}", "wijk"))
        for b in range(1, 6):
            buurt = uuid.uuid4()
            codes[buurt] = f"BU0999{w:02d}{b:02d}"
            areas.append((buurt, municipality, wijk, codes[buurt], f"Buurt {w}.{b}", "buurt"))
            buurten.append(buurt)
    await _copy(connection, "areas", ("id", "municipality_id", "parent_id", "code", "name", "level"), areas)

    networks, cover = _networks(rng, municipality, buurten)
    await _copy(connection, "resident_networks", ("id", "municipality_id", "name"), networks)
    await _copy(
        connection,
        "network_areas",
        ("network_id", "area_id"),
        [(n, a) for n, al in cover.items() for a in al],
    )
    await _copy(
        connection,
        "network_members",
        ("id", "network_id", "display_name", "is_resident", "role", "email", "phone"),
        _members(rng, [n[0] for n in networks]),
    )
    plans = {(n[0], y): uuid.uuid4() for n in networks for y in YEARS}
    granted: dict[uuid.UUID, int] = defaultdict(int)
    initiatives, grants = _initiatives(rng, start, themes, buurten, codes, cover, plans, granted)
    year_plans = [
        (plan, network, year, rng.sample(themes, 3), f"Plan {year}", BUDGET_CENTS, granted[plan])
        for (network, year), plan in plans.items()
    ]
    columns = ("id", "network_id", "year", "priorities", "summary", "budget_cents", "granted_cents")
    await _copy(connection, "year_plans", columns, year_plans)
    await _copy(connection, "initiatives", INITIATIVE_COLUMNS, initiatives)
    columns = ("id", "initiative_id", "year_plan_id", "decision", "amount_cents", "reason", "decided_at")
    await _copy(connection, "initiative_grants", columns, grants)


def _networks(
    rng: random.Random, municipality: uuid.UUID, buurten: list[uuid.UUID]
) -> tuple[list[tuple[Any, ...]], dict[uuid.UUID, list[uuid.UUID]]]:
    """50 networks of 1-3 buurten; every buurt has one, the busy buurt has three."""
    networks = [(uuid.uuid4(), municipality, f"Wijknetwerk {n:02d}") for n in range(1, NETWORKS + 1)]
    cover: dict[uuid.UUID, list[uuid.UUID]] = {}
    for index, (network, *_rest) in enumerate(networks):
        own = buurten[index % len(buurten)]
        extra = rng.sample(buurten, rng.randint(0, 2))
        cover[network] = list(dict.fromkeys([own, *extra]))
    for network, *_rest in networks[1:3]:  # the busy buurt (buurten[0]) is covered by networks 1-3
        cover[network] = list(dict.fromkeys([buurten[0], *cover[network]]))
    return networks, cover


def _members(rng: random.Random, networks: list[uuid.UUID]) -> list[tuple[Any, ...]]:
    rows = []
    for network in networks:
        size = rng.randint(6, 12)
        for m in range(size):
            role = "coordinator" if m == 0 else "member"
            resident = m < (size + 1) // 2 + 1  # a resident majority
            email = f"lid{m}.{network.hex[:6]}@example.org"
            rows.append((uuid.uuid4(), network, f"Lid {m}", resident, role, email, "0612345678"))
    return rows


INITIATIVE_COLUMNS = (
    "id", "network_id", "buurt_id", "year_plan_id", "title", "summary", "themes", "status",
    "initiator_name", "initiator_email", "initiator_phone", "requested_cents", "granted_cents",
    "starts_on", "ends_on", "participants_reached", "report", "created_at", "updated_at",
)  # fmt: skip


def _initiatives(
    rng: random.Random,
    start: datetime,
    themes: list[str],
    buurten: list[uuid.UUID],
    codes: dict[uuid.UUID, str],
    cover: dict[uuid.UUID, list[uuid.UUID]],
    plans: dict[tuple[uuid.UUID, int], uuid.UUID],
    granted: dict[uuid.UUID, int],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    by_buurt: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for network, area in cover.items():
        for buurt in area:
            by_buurt[buurt].append(network)
    places = [buurten[0]] * BIG_BUURT_INITIATIVES
    places += [rng.choice(buurten[1:]) for _ in range(INITIATIVES - BIG_BUURT_INITIATIVES)]
    statuses = list(STATUSES)
    weights = list(STATUSES.values())
    initiatives, grants = [], []
    for n, buurt in enumerate(places):
        network = rng.choice(by_buurt[buurt])
        status = rng.choices(statuses, weights)[0]
        created = _at(rng, start, 660)
        initiative = uuid.uuid4()
        plan = plans[(network, created.year)] if status != "idea" else None
        requested = rng.randrange(100, 2_500) * 100 if status != "idea" else None
        amount = rng.randrange(50, requested // 100 + 1) * 100 if requested and status in FUNDED else None
        starts = (created + timedelta(days=rng.randint(20, 90))).date()
        done = status == "completed"
        initiatives.append(
            (
                initiative, network, buurt, plan, f"Initiatief {n} in {codes[buurt]}",
                "Buren koken elke vrijdag samen en nodigen nieuwe bewoners uit.",
                rng.sample(themes, rng.randint(1, 3)), status, f"Initiatiefnemer {n}",
                f"bewoner{n}@example.org", None, requested, amount, starts,
                starts + timedelta(days=rng.randint(1, 120)), rng.randint(5, 200) if done else None,
                "Het liep goed; veertig buren kwamen." if done else None, created, created,
            )
        )  # fmt: skip
        if status in DECIDED:
            assert plan is not None
            decision = "rejected" if status == "rejected" else "granted"
            cents = amount or 0
            granted[plan] += cents
            decided = created + timedelta(days=rng.randint(3, 30), seconds=rng.randrange(86_400))
            grants.append(
                (uuid.uuid4(), initiative, plan, decision, cents, "Besluit van het netwerk.", decided)
            )
    return initiatives, grants


async def _copy(
    connection: asyncpg.Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    await connection.copy_records_to_table(table, records=rows, columns=list(columns))


if __name__ == "__main__":  # generate only: .venv/bin/python -m bench.graphql.data
    bench = start()
    asyncio.run(prepare(bench))
    print("ready:", bench.dsn)
