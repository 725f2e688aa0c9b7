"""Reads that may lag go to a real streaming replica; writes and case files stay on the primary.

The replica is a real one (``pg_basebackup -R`` of a primary started for this module, replaying its
WAL): answers written on the primary show on the replica once it caught up; when it is stopped or
lags past the bound, the same reads are answered by the primary and the fallback metric counts them;
once it is back (or caught up) reads go to it again; and nothing the app sends it ever writes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.db import Database, Replica
from app.embedded import EmbeddedReplica
from tests.directory.support import if_match, make_directory
from tests.factories import World
from tests.households.support import create_household
from tests.replicas.support import DATABASE, caught_up, fallbacks, on_replica, received, statements_on
from tests.stats.helpers import refresh
from tests.support.statements import counting_statements

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("read_replica")]

NEIGHBOURHOODS = "query($m: String) { neighbourhoods(municipality: $m) { code } }"
WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE", "REFRESH", "SET")


@pytest.fixture
async def http(replicated_app: FastAPI) -> Any:
    transport = httpx.ASGITransport(app=replicated_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _db(app: FastAPI) -> Database:
    db: Database = app.state.db
    return db


def _replica(app: FastAPI) -> Replica:
    (replica,) = _db(app).replicas
    return replica


async def _neighbourhoods(http: httpx.AsyncClient, world: World) -> list[str]:
    response = await http.post(
        "/graphql", json={"query": NEIGHBOURHOODS, "variables": {"m": world.municipality.code}}
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return [n["code"] for n in response.json()["data"]["neighbourhoods"]]


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.upper().startswith(WRITES)]


async def test_public_graphql_reads_go_to_the_replica_once_it_has_caught_up(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    world = await World.create(replicated_app)  # written on the primary
    await caught_up(replicated_app, replica, DATABASE)
    with counting_statements(_db(replicated_app)) as primary, statements_on(_replica(replicated_app)) as read:
        codes = await _neighbourhoods(http, world)
    assert codes == sorted(b.code for b in world.buurten)  # the primary's write, read on the replica
    assert primary == []
    assert any("FROM areas" in s for s in read), read
    assert _writes(read) == []


async def test_statistics_are_read_on_the_replica(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    world = await World.create(replicated_app)
    await refresh(replicated_app)  # the rollups are fresh: no refresh starts in the background
    await caught_up(replicated_app, replica, DATABASE)
    headers = await world.headers("analyst")
    params = {"area": world.municipality.code, "from": "2025-01-01", "level": "wijk"}
    with counting_statements(_db(replicated_app)) as primary, statements_on(_replica(replicated_app)) as read:
        figures = await http.get("/api/v1/stats/households_registered", params=params, headers=headers)
        catalogue = await http.get("/api/v1/stats", headers=headers)
    assert figures.status_code == 200, figures.text
    assert catalogue.status_code == 200, catalogue.text
    assert {row["area_code"] for row in figures.json()["rows"]} == {w.code for w in world.wijken}
    assert [s for s in primary if "stats_" in s] == []  # the token check is the primary's
    assert any("stats_" in s for s in read), read
    assert _writes(read) == []


DIRECTORY_SERVICES = "query($f: DirectoryFilterInput) { directoryServices(filter: $f) { nodes { name } } }"


async def test_directory_reads_are_read_on_the_replica(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    """The sociale kaart's search, one service, the HSDS API and GraphQL's directoryServices read on
    the replica; only the token check touches the primary."""
    world = await World.create(replicated_app)
    directory = await make_directory(world, http)  # written on the primary, by the administrator
    await caught_up(replicated_app, replica, DATABASE)
    headers = await world.headers("generalist_a")
    with counting_statements(_db(replicated_app)) as primary, statements_on(_replica(replicated_app)) as read:
        search = await http.get("/api/v1/directory/services", params={"q": "schulden"}, headers=headers)
        one = await http.get(f"/api/v1/directory/services/{directory.id('debt_a')}")
        hsds = await http.get("/hsds/services", params={"full": "true"})
        hsds_one = await http.get(f"/hsds/services/{directory.id('debt_a')}")
        graphql = await http.post(
            "/graphql", json={"query": DIRECTORY_SERVICES, "variables": {"f": {"text": "schulden"}}}
        )
    for response in (search, one, hsds, hsds_one, graphql):
        assert response.status_code == 200, response.text
    assert [hit["service"]["name"] for hit in search.json()["items"]] == ["Dienst debt_a"]
    assert one.json()["internal_notes"] is None  # anonymous: the public fields only
    assert {s["name"] for s in hsds.json()["contents"]} == {"Dienst debt_a", "Dienst housing_b"}
    assert [n["name"] for n in graphql.json()["data"]["directoryServices"]["nodes"]] == ["Dienst debt_a"]
    assert [s for s in primary if "directory_" in s] == []
    assert sum("FROM directory_services" in s for s in read) >= 5, read
    assert _writes(read) == []


async def test_writes_and_case_files_stay_on_the_primary(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    world = await World.create(replicated_app)
    await caught_up(replicated_app, replica, DATABASE)
    headers = await world.headers("generalist_a")
    with counting_statements(_db(replicated_app)) as primary, statements_on(_replica(replicated_app)) as read:
        household = await create_household(http, world)
        file = await http.get(f"/api/v1/households/{household['id']}", headers=headers)
    assert file.status_code == 200, file.text
    assert read == []
    assert any(s.startswith("INSERT INTO households") for s in primary)
    assert any("access_log" in s for s in primary)  # the case file's read wrote its access-log row


async def test_reads_fall_back_to_the_primary_while_the_replica_is_down_and_return_after(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    world = await World.create(replicated_app)
    await caught_up(replicated_app, replica, DATABASE)
    assert await _neighbourhoods(http, world)  # pooled replica connections exist now
    before = fallbacks((await http.get("/metrics")).text, "unreachable")
    replica.stop()
    try:
        with (
            counting_statements(_db(replicated_app)) as primary,
            statements_on(_replica(replicated_app)) as read,
        ):
            codes = await _neighbourhoods(http, world)
        assert codes == sorted(b.code for b in world.buurten)
        assert any("FROM areas" in s for s in primary)
        assert not any("FROM areas" in s for s in read)
        metrics = (await http.get("/metrics")).text
        assert fallbacks(metrics, "unreachable") >= before + 1
        assert 'wijkwerk_db_replica_usable{replica="replica1"} 0.0' in metrics
    finally:
        replica.start()
    later = await World.create(replicated_app)  # written while the replica was away
    await caught_up(replicated_app, replica, DATABASE)
    with counting_statements(_db(replicated_app)) as primary, statements_on(_replica(replicated_app)) as read:
        codes = await _neighbourhoods(http, later)
    assert codes == sorted(b.code for b in later.buurten)
    assert primary == []
    assert any("FROM areas" in s for s in read)
    assert 'wijkwerk_db_replica_usable{replica="replica1"} 1.0' in (await http.get("/metrics")).text


async def test_a_replica_behind_the_bound_is_not_read_until_it_caught_up(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    routing = _db(replicated_app).reads
    await caught_up(replicated_app, replica, DATABASE)
    before = fallbacks((await http.get("/metrics")).text, "lagging")
    await on_replica(replica, DATABASE, "SELECT pg_wal_replay_pause()")
    bound = routing.max_lag
    try:
        world = await World.create(replicated_app)
        await received(replicated_app, replica, DATABASE)  # received by the replica, not replayed
        # Behind by anything at all is too far now (the replica's lag since the write is above 0).
        routing.max_lag = 0.0
        with counting_statements(_db(replicated_app)) as primary:
            codes = await _neighbourhoods(http, world)
        assert codes == sorted(b.code for b in world.buurten)  # the primary's answer: complete
        assert any("FROM areas" in s for s in primary)
        assert fallbacks((await http.get("/metrics")).text, "lagging") >= before + 1
    finally:
        routing.max_lag = bound
        await on_replica(replica, DATABASE, "SELECT pg_wal_replay_resume()")
    await caught_up(replicated_app, replica, DATABASE)
    routing.max_lag = 0.0  # caught up with a live receiver: no lag at all
    try:
        with counting_statements(_db(replicated_app)) as primary:
            assert await _neighbourhoods(http, world) == sorted(b.code for b in world.buurten)
        assert primary == []
    finally:
        routing.max_lag = bound


async def test_a_check_is_reused_for_its_interval(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    routing = _db(replicated_app).reads
    world = await World.create(replicated_app)
    await caught_up(replicated_app, replica, DATABASE)
    routing.check_seconds = 3600.0
    try:
        with statements_on(_replica(replicated_app)) as read:
            for _ in range(3):
                await _neighbourhoods(http, world)
        checks = [s for s in read if "pg_last_xact_replay_timestamp" in s]
        assert len(checks) <= 1
        assert len([s for s in read if "FROM areas" in s]) == 3
    finally:
        routing.check_seconds = 0.0


async def test_the_replica_engine_refuses_writes(replicated_app: FastAPI) -> None:
    """Every transaction on the replica's engine is READ ONLY: even a server that is no standby (a
    promoted one) would refuse a write sent by mistake."""
    async with _replica(replicated_app).sessions() as session:
        assert await session.scalar(text("SHOW default_transaction_read_only")) == "on"
        assert await session.scalar(text("SELECT pg_is_in_recovery()")) is True


async def test_a_kept_anonymous_search_is_never_older_than_the_version_it_is_kept_under(
    replicated_app: FastAPI, replica: EmbeddedReplica, http: httpx.AsyncClient
) -> None:
    """The answer cache reads the public data's version where the search reads its page: on the
    replica. A search made while the replica has not replayed a service's withdrawal from the public
    directory answers the replica's (old) page under the replica's (old) version; once the replica has
    replayed it, the next search reads the new version there and no longer lists the service. (Read on
    the primary, the version was already the new one while the page was the replica's old one, and
    that page was served under it until the cache's lifetime ran out.)"""
    world = await World.create(replicated_app)
    directory = await make_directory(world, http)
    await caught_up(replicated_app, replica, DATABASE)
    params = {"municipality": world.municipality.code, "q": "schulden"}

    async def search() -> list[str]:
        answer = await http.get("/api/v1/directory/services", params=params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"].startswith("public")
        return [hit["service"]["name"] for hit in answer.json()["items"]]

    assert await search() == ["Dienst debt_a"]
    with counting_statements(_db(replicated_app)) as primary, statements_on(_replica(replicated_app)) as read:
        assert await search() == ["Dienst debt_a"]  # kept: only the version is read, on the replica
    assert primary == []
    assert len([s for s in read if "public_data_versions" in s]) == 1, read
    assert not any("directory_" in s for s in read), read

    debt_a = directory.id("debt_a")
    entry = await http.get(f"/api/v1/directory/services/{debt_a}")
    routing = _db(replicated_app).reads
    bound = routing.max_lag
    routing.max_lag = 3600.0  # the paused replica stays the one that is read
    await on_replica(replica, DATABASE, "SELECT pg_wal_replay_pause()")
    try:
        withdrawn = await http.patch(
            f"/api/v1/directory/services/{debt_a}",
            json={"public": False},
            headers=await if_match(world, "admin", entry.headers["ETag"]),
        )
        assert withdrawn.status_code == 200, withdrawn.text
        await received(replicated_app, replica, DATABASE)  # received by the replica, not replayed
        with statements_on(_replica(replicated_app)) as read:
            assert await search() == ["Dienst debt_a"]  # what the replica has: its own version's answer
        assert any("public_data_versions" in s for s in read), read
    finally:
        await on_replica(replica, DATABASE, "SELECT pg_wal_replay_resume()")
        routing.max_lag = bound
    await caught_up(replicated_app, replica, DATABASE)
    assert await search() == []  # the replica has the withdrawal: computed anew, not the old page
