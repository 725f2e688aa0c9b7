"""The household member's access-log view next to its peer, the team's view of the same file's log
(``GET /api/v1/households/{id}/access-log``), on one large access log, in one run, in process.

    .venv/bin/python -m bench.self_service.run              # seeds once, then measures
    .venv/bin/python -m bench.self_service.run --rounds 400

Data (made once, in ``.wijkwerk/bench-self-service``, an embedded PostgreSQL of its own): an access
log of ``--rows`` rows (default 2,000,000; each batch of 250,000 over 20,000 random households of its
own, so ~160,000 households in all), and one household of three members
with ``--household-rows`` rows of its own (default 20,000: a file read daily for years): 40% about the
household as a whole, 30% about Anna, 20% about Ewout (another adult), 10% about their child.

Per scenario: the median and 95th percentile of ``--rounds`` sequential requests (after a warm-up)
through the whole app (ASGI, token check, the service, the unit of work committing the request's own
access-log row), and the SQL statements one request sends. The member's view answers more (rows about
the member, the household, the children, but not the other adult) with the same page size.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import event

from app.db import Database
from app.domain.households.models import Household, Member
from app.domain.identity.grants import mint_for_user
from app.domain.identity.models import ClientAuthMethod, OAuthClient, User
from app.domain.organisation.models import Area, Municipality, Team, TeamArea, Worker, WorkerTeam
from app.embedded import start_embedded_postgres
from app.main import create_app
from app.migrations import upgrade
from app.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".wijkwerk" / "bench-self-service"
ISSUER = "https://wijkwerk.bench.invalid"
HOUSEHOLDS = 20_000
BATCH = 250_000

BACKGROUND = """
INSERT INTO access_log (id, occurred_at, actor_subject, actor_role, actor_worker_id, client_id,
                        household_id, person_id, resource, action, purpose, outcome)
SELECT gen_random_uuid(), now() - (random() * interval '365 days'), :subject, 'generalist', :worker,
       'bench', h.ids[1 + (g % :households)], NULL, 'household', 'read', 'casework', 'allowed'
  FROM generate_series(1, :rows) AS g,
       (SELECT array_agg(gen_random_uuid()) AS ids FROM generate_series(1, :households)) AS h
"""
OWN = """
INSERT INTO access_log (id, occurred_at, actor_subject, actor_role, actor_worker_id, client_id,
                        household_id, person_id, resource, action, purpose, outcome)
SELECT gen_random_uuid(), now() - (random() * interval '365 days'), :subject, 'generalist', :worker,
       'bench', :household,
       CASE WHEN g % 10 < 4 THEN NULL WHEN g % 10 < 7 THEN CAST(:anna AS uuid)
            WHEN g % 10 < 9 THEN CAST(:ewout AS uuid) ELSE CAST(:child AS uuid) END,
       'plan', 'read', 'casework', 'allowed'
  FROM generate_series(1, :rows) AS g
"""


def settings(*, seeding: bool = False) -> Settings:
    # Seeding writes millions of rows in one statement per batch: no request timeout for that.
    timeout = 600_000 if seeding else Settings.model_fields["statement_timeout_ms"].default
    return Settings(
        environment=Environment.development, data_dir=DATA_DIR, issuer=ISSUER, statement_timeout_ms=timeout
    )


async def _seed(db: Database, rows: int, household_rows: int) -> dict[str, Any]:
    """The household, its people and the log; returns the ids (found again on a later run)."""
    async with db.transaction() as session:
        found = (await session.execute(sa.select(User).where(User.username == "bench-member"))).scalar()
        if found is not None:
            worker_user = (
                await session.execute(sa.select(User).where(User.username == "bench-worker"))
            ).scalar_one()
            return {"member": found, "worker": worker_user}
        municipality = Municipality(code="GM9998", name="Benchgemeente")
        session.add(municipality)
        await session.flush()
        wijk = Area(municipality_id=municipality.id, code="WK999801", name="Wijk", level="wijk")
        session.add(wijk)
        await session.flush()
        buurt = Area(
            municipality_id=municipality.id, parent_id=wijk.id, code="BU99980101", name="Buurt", level="buurt"
        )
        team = Team(municipality_id=municipality.id, name="Benchteam")
        worker = Worker(name="Bench generalist", role="generalist")
        session.add_all([buurt, team, worker])
        await session.flush()
        session.add_all(
            [TeamArea(team_id=team.id, area_id=buurt.id), WorkerTeam(worker_id=worker.id, team_id=team.id)]
        )
        household = Household(reference="HT-BENCH-1", team_id=team.id, buurt_id=buurt.id, postcode="9999ZZ",
                              house_number=1, status="active", coordinator_id=worker.id)  # fmt: skip
        session.add(household)
        await session.flush()
        anna = Member(household_id=household.id, given_name="Anna", role="parent")
        ewout = Member(household_id=household.id, given_name="Ewout", role="partner")
        child = Member(household_id=household.id, given_name="Bram", role="child")
        session.add_all([anna, ewout, child])
        await session.flush()
        member_user = User(username="bench-member", display_name="Anna", role="household_member",
                           member_id=anna.id, household_id=household.id)  # fmt: skip
        worker_user = User(
            username="bench-worker", display_name="Bench", role="generalist", worker_id=worker.id
        )
        app_client = OAuthClient(
            client_id="bench-app",
            name="Bench app",
            auth_method=ClientAuthMethod.none,
            redirect_uris=["http://127.0.0.1/cb"],
        )
        session.add_all([member_user, worker_user, app_client])
        await session.flush()
        common = {"subject": str(worker_user.id), "worker": worker.id}
        for start in range(0, rows, BATCH):
            batch = {"rows": min(BATCH, rows - start), "households": HOUSEHOLDS}
            await session.execute(sa.text(BACKGROUND), {**common, **batch})
        await session.execute(
            sa.text(OWN),
            {**common, "rows": household_rows, "household": household.id, "anna": anna.id, "ewout": ewout.id,
             "child": child.id},
        )  # fmt: skip
    async with db.engine.connect() as connection:
        await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(
            sa.text("ANALYZE access_log")
        )
    return {"member": member_user, "worker": worker_user}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _measure(
    http: httpx.AsyncClient, db: Database, path: str, headers: dict[str, str], rounds: int
) -> dict[str, float]:
    for _ in range(20):
        assert (await http.get(path, headers=headers)).status_code == 200
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    answer = await http.get(path, headers=headers)
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = await http.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return {
        "median_ms": statistics.median(times),
        "p95_ms": _percentile(times, 0.95),
        "sql": len(statements),
        "items": len(answer.json()["items"]),
    }


async def main(rows: int, household_rows: int, rounds: int) -> None:
    config = settings()
    url, _server = start_embedded_postgres(DATA_DIR, "wijkwerk_bench_self_service")
    db = Database(url, settings(seeding=True))
    await upgrade(db.engine)
    started = time.perf_counter()
    people = await _seed(db, rows, household_rows)
    print(f"data ready in {time.perf_counter() - started:.1f} s")
    app = create_app(config, database_url=url)
    async with app.router.lifespan_context(app):
        keyring = await app.state.token_verifier.keys()
        async with app.state.db.transaction() as session:
            client = (
                await session.execute(sa.select(OAuthClient).where(OAuthClient.client_id == "bench-app"))
            ).scalar_one()
            tokens = {
                name: (await mint_for_user(session, keyring, config, user, client, None))[0]
                for name, user in people.items()
            }
        household = people["member"].household_id
        member = {"Authorization": f"Bearer {tokens['member']}"}
        team = {"Authorization": f"Bearer {tokens['worker']}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            deep_member = await _cursor(http, "/api/v1/me/access-log", member)
            deep_team = await _cursor(http, f"/api/v1/households/{household}/access-log", team)
            scenarios = {
                "member view, first page": ("/api/v1/me/access-log?limit=50", member),
                "team view (peer), first page": (f"/api/v1/households/{household}/access-log?limit=50", team),
                "member view, page 11": (f"/api/v1/me/access-log?limit=50&cursor={deep_member}", member),
                "team view (peer), page 11": (
                    f"/api/v1/households/{household}/access-log?limit=50&cursor={deep_team}",
                    team,
                ),
            }
            print(f"{'scenario':34} {'median ms':>10} {'p95 ms':>8} {'SQL':>4} {'items':>6}")
            for name, (path, headers) in scenarios.items():
                result = await _measure(http, app.state.db, path, headers, rounds)
                line = f"{name:34} {result['median_ms']:10.2f} {result['p95_ms']:8.2f}"
                print(f"{line} {result['sql']:4d} {result['items']:6d}")
    await db.dispose()


async def _cursor(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> str:
    """The cursor of page 11 (500 rows in)."""
    cursor = None
    for _ in range(10):
        query = f"{path}?limit=50" + (f"&cursor={cursor}" if cursor else "")
        cursor = (await http.get(query, headers=headers)).json()["next_cursor"]
    assert cursor is not None
    return str(cursor)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--household-rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.household_rows, args.rounds))
