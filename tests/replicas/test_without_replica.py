"""Without WIJKWERK_READ_DATABASE_URL nothing changes: one engine, every read on the primary. The
setting's parsing, the lag rule, and `wijkwerk serve --replica` refused where it does not belong."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from typer.testing import CliRunner

from app import cli
from app.db import Database, replica_lag
from app.settings import Settings
from tests.factories import World
from tests.support.statements import counting_statements

NEIGHBOURHOODS = "query($m: String) { neighbourhoods(municipality: $m) { code } }"


async def test_without_replicas_there_is_no_second_engine_and_reads_stay_on_the_primary(
    app: FastAPI, client: httpx.AsyncClient, world: World, db: Database
) -> None:
    assert db.replicas == ()
    async with db.reading() as session:
        assert (await session.connection()).engine.url == db.engine.url
    query = {"query": NEIGHBOURHOODS, "variables": {"m": world.municipality.code}}
    with counting_statements(db) as statements:
        response = await client.post("/graphql", json=query)
    assert response.status_code == 200, response.text
    assert any("FROM areas" in s for s in statements)
    metrics = (await client.get("/metrics")).text
    assert "# HELP wijkwerk_db_read_fallbacks_total" in metrics  # the families are there, empty
    assert "# HELP wijkwerk_db_replica_usable" in metrics
    assert "wijkwerk_db_replica_usable{" not in metrics
    assert "wijkwerk_db_read_fallbacks_total{" not in metrics


def test_read_urls_are_a_comma_separated_list_of_postgresql_urls() -> None:
    settings = Settings(read_database_url=" postgresql://r1/w , postgresql://r2/w,postgresql://r1/w")
    assert settings.read_database_url == ["postgresql://r1/w", "postgresql://r2/w"]
    assert Settings().read_database_url == []


def test_a_bad_read_url_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(read_database_url="mysql://reader:s3cret@db/w")
    message = refused.value.errors()[0]["msg"]  # what the commands print (app.cli_support)
    assert "WIJKWERK_READ_DATABASE_URL" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("replaying", "streaming", "caught_up", "behind", "lag"),
    [
        (False, False, True, None, None),  # promoted, or no replica at all
        (True, True, True, 3600.0, 0.0),  # an idle primary: nothing new to replay
        (True, True, False, 4.5, 4.5),  # replaying what it received
        (True, False, True, 12.0, 12.0),  # cut off from the primary: as old as its last replay
        (True, False, True, None, float("inf")),  # nothing replayed and no receiver: unknown
        (True, True, False, -0.2, 0.0),  # clocks a little apart
    ],
)
def test_the_lag_of_a_replica(
    replaying: bool, streaming: bool, caught_up: bool, behind: float | None, lag: float | None
) -> None:
    assert replica_lag(replaying, streaming, caught_up, behind) == lag


PRODUCTION = {
    "WIJKWERK_ENVIRONMENT": "production",
    "WIJKWERK_ISSUER": "https://wijkwerk.example",
    "WIJKWERK_SECRET_KEY": "k" * 43,
    "WIJKWERK_BSN_ENCRYPTION_KEY": "e" * 43,
    "WIJKWERK_BSN_INDEX_KEY": "i" * 43,
    "DATABASE_URL": "postgresql://wijkwerk@db.example/wijkwerk",
}


def test_serve_replica_is_refused_in_production() -> None:
    result = CliRunner().invoke(cli.app, ["serve", "--replica"], env={**PRODUCTION, "COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "--replica is for development" in result.output
    assert "WIJKWERK_READ_DATABASE_URL" in result.output


def test_serve_replica_is_refused_with_a_database_of_its_own() -> None:
    env = {"WIJKWERK_ENVIRONMENT": "development", "DATABASE_URL": "postgresql://wijkwerk@db.example/w"}
    result = CliRunner().invoke(cli.app, ["serve", "--replica"], env={**env, "COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "copies the embedded PostgreSQL" in result.output
