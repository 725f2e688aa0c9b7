"""The password hasher is chosen by the settings: argon2id at production cost by default, a cheap
profile for test suites that production settings refuse, and a hash of either cost signs in."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from argon2 import extract_parameters, profiles
from pydantic import ValidationError
from sqlmodel import select

from app.domain.identity.models import OAuthClient, User
from app.domain.identity.passwords import SecretHasher
from app.settings import Environment, PasswordHashing, Settings
from tests.auth.helpers import TOKEN_URL, Pkce, basic, exchange, sign_in
from tests.factories import PASSWORD, World

PRODUCTION: dict[str, Any] = {
    "environment": Environment.production,
    "issuer": "https://wijkwerk.example.nl",
    "database_url": "postgresql://wijkwerk@db.example.nl/wijkwerk",
    "secret_key": "k" * 32,
    "bsn_encryption_key": "e" * 32,
    "bsn_index_key": "i" * 32,
}


def test_production_settings_refuse_the_cheap_profile() -> None:
    with pytest.raises(ValidationError, match="WIJKWERK_PASSWORD_HASHING=fast is for tests and development"):
        Settings(**PRODUCTION, password_hashing=PasswordHashing.fast)
    # Development settings may choose it.
    assert Settings(password_hashing=PasswordHashing.fast).password_hashing is PasswordHashing.fast


def test_production_hashes_with_argon2id_at_the_library_defaults() -> None:
    settings = Settings(**PRODUCTION)
    assert settings.password_hashing is PasswordHashing.argon2id
    made = SecretHasher.for_settings(settings).hash("a resident's long password")
    assert extract_parameters(made) == profiles.RFC_9106_LOW_MEMORY


async def test_the_app_hashes_new_passwords_and_secrets_with_the_profile_of_its_settings(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await world.headers("admin")
    user = await client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": f"hashing-{secrets.token_hex(4)}",
            "display_name": "Hashing",
            "role": "resident",
            "password": "a resident's long password",
        },
    )
    assert user.status_code == 201, user.text
    body = {"name": "Hashing gateway", "role": "analyst", "allowed_scopes": ["stats:read"]}
    machine = await client.post("/api/v1/oauth-clients", headers=headers, json=body)
    assert machine.status_code == 201, machine.text
    async with world.app.state.db.transaction() as session:
        stored_user = (await session.execute(select(User).where(User.id == user.json()["id"]))).scalar_one()
        stored_client = (
            await session.execute(select(OAuthClient).where(OAuthClient.id == machine.json()["id"]))
        ).scalar_one()
    # The test settings choose the cheap profile (tests/conftest.py).
    assert stored_user.password_hash is not None and stored_client.secret_hash is not None
    assert extract_parameters(stored_user.password_hash) == profiles.CHEAPEST
    assert extract_parameters(stored_client.secret_hash) == profiles.CHEAPEST


async def test_hashes_made_at_production_cost_still_sign_in(client: httpx.AsyncClient, world: World) -> None:
    """An argon2 hash carries its parameters: switching the profile locks nobody out."""
    production = SecretHasher(profiles.RFC_9106_LOW_MEMORY)
    secret = secrets.token_urlsafe(24)
    async with world.app.state.db.transaction() as session:
        person = await session.get(User, world.people["resident"].user.id)
        machine = await session.get(OAuthClient, world.clients["analyst"].id)
        assert person is not None and machine is not None
        person.password_hash = production.hash(PASSWORD)
        machine.secret_hash = production.hash(secret)

    pkce = Pkce.new()
    code = (await sign_in(client, world, "resident", pkce))["code"]
    assert (await exchange(client, world, code, pkce.verifier)).status_code == 200
    form = {"grant_type": "client_credentials", "scope": "stats:read"}
    token = await client.post(TOKEN_URL, data=form, headers=basic(world.clients["analyst"].client_id, secret))
    assert token.status_code == 200, token.text
    # And the other way round: production verifies a cheap hash.
    assert production.verify(SecretHasher(profiles.CHEAPEST).hash(secret), secret)
    assert not production.verify(SecretHasher(profiles.CHEAPEST).hash(secret), secret + "x")
