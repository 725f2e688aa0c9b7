"""The `wijkwerk` commands against the test database (DATABASE_URL set, so no embedded server starts)."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from joserfc.jwk import ECKey
from sqlalchemy import func
from sqlmodel import col, select

from app.db import Database
from app.demo import organisation as demo_org
from app.domain.identity.models import OAuthClient, SigningKey, User
from app.domain.organisation.models import Area, Team, Worker
from tests.cli.support import invoke, output_json
from tests.factories import World, next_code


async def _one(db: Database, model: type[Any], *where: Any) -> Any:
    async with db.transaction() as session:
        return (await session.execute(select(model).where(*where))).scalars().one()


# -- clients create --------------------------------------------------------------------------------


async def test_clients_create_for_a_partner_by_name(
    client: httpx.AsyncClient, world: World, db: Database, env: dict[str, str]
) -> None:
    organisation = world.organisations["a"]
    args = ["clients", "create", "--role", "partner", "--organisation", organisation.name.upper()]
    created = output_json(await invoke([*args, "--scopes", "referrals:read", "--json"], env))
    assert created["allowed_scopes"] == "referrals:read"
    assert created["organisation_id"] == str(organisation.id)
    stored = await _one(db, OAuthClient, OAuthClient.client_id == created["client_id"])
    assert world.hasher.verify(stored.secret_hash, created["client_secret"])

    token = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client_id"], created["client_secret"]),
    )
    assert token.status_code == 200, token.text

    table = await invoke(args, env)
    assert table.exit_code == 0
    assert "Store the secret now" in table.stdout


async def test_clients_create_explains_broken_rules(world: World, env: dict[str, str]) -> None:
    outside = await invoke(
        ["clients", "create", "--role", "analyst", "--scopes", "stats:read cases:read"], env
    )
    assert outside.exit_code == 1
    assert "scope_not_in_role" in outside.stderr and "allowed_scopes.1" in outside.stderr
    unknown = await invoke(
        ["clients", "create", "--role", "partner", "--organisation", str(uuid.uuid4())], env
    )
    assert unknown.exit_code == 1 and "not_found" in unknown.stderr
    bad_role = await invoke(["clients", "create", "--role", "admin"], env)
    assert bad_role.exit_code == 2


async def test_clients_create_with_private_key_jwt(
    world: World, db: Database, env: dict[str, str], tmp_path: Path
) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "cli-1", "alg": "ES256"}, private=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    client_id = f"cli-partner-{next_code()}"
    args = ["clients", "create", "--role", "partner", "--organisation", str(world.organisations["b"].id)]
    args += ["--client-id", client_id, "--auth-method", "private_key_jwt", "--jwks", str(jwks), "--json"]
    created = output_json(await invoke(args, env))
    assert created["client_secret"] is None and created["auth_method"] == "private_key_jwt"
    stored = await _one(db, OAuthClient, OAuthClient.client_id == client_id)
    assert stored.jwks["keys"][0]["kid"] == "cli-1" and stored.secret_hash is None


# -- users create ----------------------------------------------------------------------------------


async def test_users_create_with_a_generated_password(
    world: World, db: Database, env: dict[str, str]
) -> None:
    worker = world.people["generalist_a"].worker
    assert worker is not None
    async with db.transaction() as session:  # a fresh worker without an account
        fresh = Worker(name="Generalist CLI", role="generalist")
        session.add(fresh)
    username = f"cli.generalist{next_code()}"
    args = ["users", "create", "--username", username, "--role", "generalist", "--worker-id", str(fresh.id)]
    created = output_json(await invoke([*args, "--bsn-read", "--generate-password", "--json"], env))
    assert created["bsn_read"] is True and len(created["password"]) >= 12
    stored = await _one(db, User, User.username == username)
    assert stored.worker_id == fresh.id
    assert world.hasher.verify(stored.password_hash, created["password"])

    taken = await invoke([*args, "--generate-password"], env)
    assert taken.exit_code == 1 and "username_taken" in taken.stderr
    resident = ["users", "create", "--username", f"r{next_code()}", "--role", "resident", "--bsn-read"]
    refused = await invoke([*resident, "--generate-password"], env)
    assert refused.exit_code == 1 and "bsn_read_not_eligible" in refused.stderr


async def test_users_create_takes_the_policy_officer_role(db: Database, env: dict[str, str]) -> None:
    username = f"cli.policy{next_code()}"
    args = ["users", "create", "--username", username, "--role", "policy_officer", "--generate-password"]
    created = output_json(await invoke([*args, "--json"], env))
    assert created["role"] == "policy_officer"
    assert (await _one(db, User, User.username == username)).worker_id is None


async def test_users_create_prompts_for_the_password(world: World, db: Database, env: dict[str, str]) -> None:
    username = f"cli.resident{next_code()}"
    password = "a resident's long password"
    args = ["users", "create", "--username", username, "--role", "resident", "--json"]
    created = output_json(await invoke(args, env, input=f"{password}\n{password}\n"))
    assert "password" not in created
    assert password not in created.values()
    stored = await _one(db, User, User.username == username)
    assert world.hasher.verify(stored.password_hash, password)
    short = await invoke(
        ["users", "create", "--username", f"x{next_code()}", "--role", "resident"], env, "short\nshort\n"
    )
    assert short.exit_code == 1 and "password_too_short" in short.stderr


# -- demo data -------------------------------------------------------------------------------------


async def _demo_counts(db: Database) -> dict[str, int]:
    async with db.transaction() as session:

        async def count(model: type[Any], *where: Any) -> int:
            return int(
                (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
            )

        return {
            "areas": await count(Area, col(Area.code).like("%9999%")),
            "teams": await count(Team, col(Team.name).in_(demo_org.TEAMS.values())),
            "workers": await count(Worker, col(Worker.name).like("%(demo)")),
            "users": await count(User, col(User.username).in_(demo_org.USERS)),
            "clients": await count(
                OAuthClient,
                col(OAuthClient.client_id).in_(["partner_a", "partner_b", "analyst", "mobile_app"]),
            ),
        }


# The demo's default size is made for the statistics; these tests need its organisation only.
DEMO_DATA = ["demo-data", "--households", "80"]


async def test_demo_data_is_idempotent_and_keeps_working_credentials(
    app: FastAPI, db: Database, env: dict[str, str], tmp_path: Path
) -> None:
    first = await invoke(DEMO_DATA, env)
    assert first.exit_code == 0, (first.stdout, first.stderr)
    path = tmp_path / "data" / "demo-credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = json.loads(path.read_text())
    counts = await _demo_counts(db)
    assert counts == {"areas": 8, "teams": 2, "workers": 5, "users": 8, "clients": 4}

    second = await invoke(DEMO_DATA, env)
    assert second.exit_code == 0
    assert await _demo_counts(db) == counts
    assert json.loads(path.read_text()) == credentials  # still valid, so unchanged

    path.unlink()  # credentials lost: new ones are set, still nothing duplicated
    third = await invoke(DEMO_DATA, env)
    assert third.exit_code == 0
    renewed = json.loads(path.read_text())
    assert renewed["users"]["admin"]["password"] != credentials["users"]["admin"]["password"]
    assert await _demo_counts(db) == counts
    admin = await _one(db, User, User.username == "admin")
    hasher = app.state.secret_hasher
    assert hasher.verify(admin.password_hash, renewed["users"]["admin"]["password"])
    partner = await _one(db, OAuthClient, OAuthClient.client_id == "partner_a")
    assert hasher.verify(partner.secret_hash, renewed["clients"]["partner_a"]["client_secret"])
    team_a = await _one(db, Team, Team.name == demo_org.TEAMS["a"])
    assert team_a.municipality_id == (await _one(db, Area, Area.code == "WK999901")).municipality_id


# -- migrate, contracts and keys -------------------------------------------------------------------


async def test_migrate_reports_the_head(env: dict[str, str]) -> None:
    result = await invoke(["migrate"], env)
    assert result.exit_code == 0, result.stderr
    assert "Database at" in result.stdout


async def test_openapi_export_writes_the_contract(tmp_path: Path, env: dict[str, str]) -> None:
    result = await invoke(["openapi", "export", "--out", str(tmp_path / "contracts")], env)
    assert result.exit_code == 0, result.stderr
    document = json.loads((tmp_path / "contracts" / "openapi.json").read_text())
    assert "/api/v1/oauth-clients" in document["paths"]


async def test_keys_rotate_adds_a_signing_key(db: Database, env: dict[str, str]) -> None:
    result = await invoke(["keys", "rotate"], env)
    assert result.exit_code == 0, result.stderr
    kid = result.stdout.strip().rsplit(" ", 1)[-1]
    stored = await _one(db, SigningKey, SigningKey.kid == kid)
    assert stored.retired_at is None
