"""``wijkwerk directory export`` and ``import``: HSDS 3.0 JSON and the tabular CSV set, all or nothing,
idempotent by HSDS id, every record valid against the schemas, and byte-stable round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.domain.directory.exchange import json_records
from app.domain.directory.hsds_schema import errors
from app.settings import Settings
from tests.cli.support import command_env, invoke, output_json
from tests.directory.support import FULL_SERVICE, Directory, make_directory
from tests.factories import World


@pytest.fixture
def env(migrated: str, settings: Settings, tmp_path: Path) -> dict[str, str]:
    return command_env(migrated, settings, tmp_path / "data")


@pytest.fixture
async def directory(world: World, client: httpx.AsyncClient) -> Directory:
    d = await make_directory(world, client)
    await d.service(
        "full",
        "welfare",
        **FULL_SERVICE,
        locations=[
            await d.location("buurthuis", "welfare", buurt=1),
            await d.location("elders", "welfare", buurt=None),
        ],
        areas=[world.wijken[0].code, world.municipality.code, world.buurten[3].code],
        schedules=[
            {"weekday": 2, "opens_at": "09:00:00", "closes_at": "12:00:00"},
            {
                "weekday": 4,
                "opens_at": "13:30",
                "closes_at": "16:00",
                "location_id": d.locations["buurthuis"],
            },
        ],
    )
    return d


async def _export(env: dict[str, str], world: World, *args: str) -> None:
    result = await invoke(["directory", "export", "--municipality", world.municipality.code, *args], env)
    assert result.exit_code == 0, (result.stderr, result.exception)


async def _import(env: dict[str, str], world: World, source: Path) -> dict[str, Any]:
    args = ["directory", "import", str(source), "--municipality", world.municipality.code, "--json"]
    return output_json(await invoke(args, env))


async def _forget_directory(app: FastAPI, world: World) -> None:
    """Remove the municipality's sociale kaart (its services, locations and links go with it)."""
    async with app.state.db.transaction() as session:
        await session.execute(
            text("DELETE FROM directory_organizations WHERE municipality_id = :m"),
            {"m": world.municipality.id},
        )


async def _versions(app: FastAPI, world: World) -> dict[str, int]:
    async with app.state.db.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT s.id, s.version FROM directory_services s JOIN directory_organizations o"
                " ON o.id = s.organization_id WHERE o.municipality_id = :m"
            ),
            {"m": world.municipality.id},
        )
        return {str(i): v for i, v in rows}


async def test_the_json_export_is_valid_hsds_and_round_trips_byte_for_byte(
    app: FastAPI, world: World, directory: Directory, env: dict[str, str], tmp_path: Path
) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    await _export(env, world, "--output", str(first))
    records = json.loads(first.read_text())
    assert sorted(r["name"] for r in records) == ["Dienst debt_a", "Dienst full", "Dienst housing_b"]
    for record in records:  # the non-public service is not published, its internal notes nowhere
        assert errors("service", record) == [], record
    assert "Bel eerst" not in first.read_text() and "internal_a" not in first.read_text()

    await _forget_directory(app, world)
    assert await _import(env, world, first) == {"records": 3, "created": 3, "changed": 0, "unchanged": 0}
    await _export(env, world, "--output", str(second))
    assert second.read_bytes() == first.read_bytes()

    versions = await _versions(app, world)
    assert await _import(env, world, first) == {"records": 3, "created": 0, "changed": 0, "unchanged": 3}
    assert await _versions(app, world) == versions  # the same file again wrote nothing


async def test_the_csv_set_round_trips_and_changes_are_taken_by_hsds_id(
    app: FastAPI, world: World, directory: Directory, env: dict[str, str], tmp_path: Path
) -> None:
    await _export(env, world, "--output", str(tmp_path / "before.json"))
    await _export(env, world, "--csv", str(tmp_path / "one"))
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert {"services.csv", "organizations.csv", "locations.csv", "addresses.csv"} <= set(names)
    assert {"service_at_location.csv", "schedules.csv", "service_areas.csv", "datapackage.json"} <= set(names)
    header = (tmp_path / "one" / "services.csv").read_text().splitlines()[0]
    assert header.startswith("id,organization_id,program_id,name,alternate_name,description,url,email,status")

    await _forget_directory(app, world)
    assert (await _import(env, world, tmp_path / "one"))["created"] == 3
    await _export(env, world, "--csv", str(tmp_path / "two"))
    for name in names:
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
    await _export(env, world, "--output", str(tmp_path / "after.json"))
    assert (tmp_path / "after.json").read_bytes() == (tmp_path / "before.json").read_bytes()

    # A changed name in services.csv changes that service only (by its HSDS id), its version goes up.
    services = tmp_path / "one" / "services.csv"
    services.write_text(services.read_text().replace("Dienst housing_b", "Woonhulp"))
    before = await _versions(app, world)
    assert await _import(env, world, tmp_path / "one") == {
        "records": 3,
        "created": 0,
        "changed": 1,
        "unchanged": 2,
    }
    after = await _versions(app, world)
    housing = directory.id("housing_b")
    assert after[housing] == before[housing] + 1
    assert {k: v for k, v in after.items() if k != housing} == {
        k: v for k, v in before.items() if k != housing
    }


async def test_malformed_records_are_named_by_record_field_and_rule_and_nothing_is_imported(
    app: FastAPI, world: World, directory: Directory, env: dict[str, str], tmp_path: Path
) -> None:
    exported = tmp_path / "all.json"
    await _export(env, world, "--output", str(exported))
    by_name = {r["name"]: r for r in json.loads(exported.read_text())}
    good, other, full = by_name["Dienst debt_a"], by_name["Dienst housing_b"], by_name["Dienst full"]
    await _forget_directory(app, world)
    broken_id = other | {"id": "not-a-uuid-SECRET"}
    bad_place = json.loads(json.dumps(full))
    link = bad_place["service_at_locations"][0]
    link["location"]["addresses"][0]["postal_code"] = "SECRET 99"
    unknown_theme = json.loads(json.dumps(good))
    unknown_theme["attributes"] = [
        a | {"taxonomy_term": a["taxonomy_term"] | {"code": "no_such_theme"}} for a in good["attributes"]
    ]
    path = tmp_path / "broken.ndjson"  # NDJSON: one record per line, as HSDS's format=ndjson
    path.write_text("\n".join(json.dumps(r) for r in (good, broken_id, bad_place, unknown_theme)) + "\n")

    args = ["directory", "import", str(path), "--municipality", world.municipality.code]
    result = await invoke(args, env)
    assert result.exit_code == 1, result.stdout
    assert "nothing was imported" in result.stderr
    assert "record 2: id (format)" in result.stderr
    assert "record 3: service_at_locations.0.location.addresses.0.postal_code" in result.stderr
    assert "record 4: attributes.0.taxonomy_term.code (unknown_theme)" in result.stderr
    assert "record 1" not in result.stderr
    assert "SECRET" not in result.stderr + result.stdout  # the data itself is never repeated
    assert await _versions(app, world) == {}  # not even the good first record


def test_records_are_read_from_any_chunking_of_an_array_or_ndjson() -> None:
    records = [{"id": "a", "n": 12345, "s": "x,]"}, {"id": "b", "n": 1.5, "list": [1, 2]}]
    for document in (json.dumps(records), "\n".join(json.dumps(r) for r in records) + "\n"):
        for size in (1, 3, 7, len(document)):
            chunks = [document[i : i + size] for i in range(0, len(document), size)]
            assert list(json_records(chunks)) == records, size
    with pytest.raises(ValueError):
        list(json_records(['[{"id": "a"}', ', {"id": ']))
