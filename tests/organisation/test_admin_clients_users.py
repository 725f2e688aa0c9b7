"""OAuth clients and the people who sign in, set up through the admin REST API."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from app.db import Database
from app.domain.identity.models import OAuthClient, User
from tests.factories import World, next_code

API = "/api/v1"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _rules(response: httpx.Response) -> list[tuple[list[Any], str]]:
    return [(e["loc"], e["rule"]) for e in response.json()["errors"]]


async def _token(client: httpx.AsyncClient, client_id: str, secret: str, **form: str) -> httpx.Response:
    return await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", **form}, auth=(client_id, secret)
    )


async def _stored(db: Database, model: type[Any], object_id: str) -> Any:
    async with db.transaction() as session:
        return await session.get(model, uuid.UUID(object_id))


# -- OAuth clients ---------------------------------------------------------------------------------


async def test_partner_client_secret_is_shown_once_and_works(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    headers = await world.headers("admin")
    client_id = f"schuldhulp-{next_code()}"
    body: dict[str, Any] = {
        "name": "Schuldhulp gateway",
        "role": "partner",
        "organisation_id": str(world.organisations["a"].id),
        "client_id": client_id,
        "allowed_scopes": ["referrals:read"],
    }
    created = await client.post(f"{API}/oauth-clients", headers=headers, json=body)
    assert created.status_code == 201, created.text
    credentials = created.json()
    assert credentials["auth_method"] == "client_secret_basic"
    assert credentials["allowed_scopes"] == ["referrals:read"]
    secret = credentials["client_secret"]
    assert len(secret) >= 40

    read = await client.get(f"{API}/oauth-clients/{credentials['id']}", headers=headers)
    assert "client_secret" not in read.json()
    assert secret not in read.text and "argon2" not in read.text
    stored = await _stored(db, OAuthClient, credentials["id"])
    assert stored.secret_hash.startswith("$argon2") and world.hasher.verify(stored.secret_hash, secret)

    token = await _token(client, client_id, secret)
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "referrals:read"
    assert (await _token(client, client_id, secret, scope="referrals:write")).status_code == 400

    rotated = await client.post(f"{API}/oauth-clients/{credentials['id']}/secret", headers=headers)
    assert rotated.status_code == 200
    assert rotated.json()["client_secret"] != secret
    assert (await _token(client, client_id, secret)).status_code == 401
    assert (await _token(client, client_id, rotated.json()["client_secret"])).status_code == 200

    taken = await client.post(f"{API}/oauth-clients", headers=headers, json=body)
    assert taken.status_code == 409
    assert taken.json()["type"] == "urn:wijkwerk:problem:client_id_taken"


async def test_client_scopes_must_stay_within_the_role(client: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("admin")
    body = {"name": "BI", "role": "analyst", "allowed_scopes": ["stats:read", "cases:read"]}
    refused = await client.post(f"{API}/oauth-clients", headers=headers, json=body)
    assert refused.status_code == 422
    assert _rules(refused) == [(["body", "allowed_scopes", 1], "scope_not_in_role")]

    analyst = await client.post(
        f"{API}/oauth-clients", headers=headers, json={"name": "BI", "role": "analyst"}
    )
    assert analyst.status_code == 201
    assert analyst.json()["allowed_scopes"] == ["initiatives:read", "stats:read"]
    assert analyst.json()["client_id"].startswith("analyst-")
    widened = await client.patch(
        f"{API}/oauth-clients/{analyst.json()['id']}", headers=headers, json={"allowed_scopes": ["admin"]}
    )
    assert _rules(widened) == [(["body", "allowed_scopes", 0], "scope_not_in_role")]
    narrowed = await client.patch(
        f"{API}/oauth-clients/{analyst.json()['id']}",
        headers=headers,
        json={"allowed_scopes": ["stats:read"], "rate_limit_per_minute": 100},
    )
    assert (narrowed.json()["allowed_scopes"], narrowed.json()["rate_limit_per_minute"]) == (
        ["stats:read"],
        100,
    )

    no_org = await client.post(f"{API}/oauth-clients", headers=headers, json={"name": "P", "role": "partner"})
    assert _rules(no_org) == [(["body", "organisation_id"], "organisation_required")]
    unknown_org = await client.post(
        f"{API}/oauth-clients",
        headers=headers,
        json={"name": "P", "role": "partner", "organisation_id": str(uuid.uuid4())},
    )
    assert _rules(unknown_org) == [(["body", "organisation_id"], "unknown_organisation")]
    person_role = await client.post(
        f"{API}/oauth-clients", headers=headers, json={"name": "P", "role": "admin"}
    )
    assert _rules(person_role) == [(["body", "role"], "not_a_machine_role")]


async def test_public_app_client_uses_pkce_and_redirects(client: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("admin")
    created = await client.post(
        f"{API}/oauth-clients",
        headers=headers,
        json={"name": "Wijkwerk app", "redirect_uris": ["http://127.0.0.1:8765/callback"]},
    )
    assert created.status_code == 201, created.text
    app_client = created.json()
    assert (app_client["auth_method"], app_client["client_secret"], app_client["role"]) == (
        "none",
        None,
        None,
    )
    rotate = await client.post(f"{API}/oauth-clients/{app_client['id']}/secret", headers=headers)
    assert rotate.status_code == 409
    jwks = await client.put(
        f"{API}/oauth-clients/{app_client['id']}/jwks", headers=headers, json={"jwks": {}}
    )
    assert jwks.status_code == 409
    empty = await client.patch(
        f"{API}/oauth-clients/{app_client['id']}", headers=headers, json={"redirect_uris": []}
    )
    assert _rules(empty) == [(["body", "redirect_uris"], "redirect_uri_required")]
    insecure = await client.post(
        f"{API}/oauth-clients",
        headers=headers,
        json={"name": "x", "redirect_uris": ["http://evil.example/cb"]},
    )
    assert _rules(insecure) == [(["body", "redirect_uris", 0], "redirect_uri_invalid")]


async def test_registering_a_jwks_switches_to_private_key_jwt(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    headers = await world.headers("admin")
    client_pk = str(world.clients["partner_b"].id)
    client_id = world.clients["partner_b"].client_id
    key = ECKey.generate_key("P-256", parameters={"kid": "partner-b-1", "alg": "ES256"}, private=True)
    private = dict(key.as_dict(private=True))
    leaked = await client.put(
        f"{API}/oauth-clients/{client_pk}/jwks", headers=headers, json={"jwks": {"keys": [private]}}
    )
    assert _rules(leaked) == [(["body", "jwks", "keys", 0], "jwk_private")]

    public = {"keys": [dict(key.as_dict(private=False))]}
    registered = await client.put(
        f"{API}/oauth-clients/{client_pk}/jwks", headers=headers, json={"jwks": public}
    )
    assert registered.status_code == 200, registered.text
    assert registered.json()["auth_method"] == "private_key_jwt"
    assert (await _stored(db, OAuthClient, client_pk)).secret_hash is None
    assert (await _token(client, client_id, world.secrets["partner_b"])).status_code == 401
    assert (await client.post(f"{API}/oauth-clients/{client_pk}/secret", headers=headers)).status_code == 409

    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": "http://test", "iat": now, "exp": now + 60}
    assertion = jwt.encode(
        {"alg": "ES256", "kid": "partner-b-1"}, {**claims, "jti": secrets.token_hex(8)}, key
    )
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )
    assert token.status_code == 200, token.text


# -- users -----------------------------------------------------------------------------------------


async def test_users_with_roles_worker_links_and_passwords(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    headers = await world.headers("admin")
    worker = await client.post(
        f"{API}/workers",
        headers=headers,
        json={"name": "Generalist D", "role": "generalist", "team_ids": [str(world.teams["a"].id)]},
    )
    password = "a long enough password"
    body = {
        "username": f"generalist.d{next_code()}",
        "display_name": "Generalist D",
        "role": "generalist",
        "worker_id": worker.json()["id"],
        "bsn_read": True,
        "password": password,
    }
    created = await client.post(f"{API}/users", headers=headers, json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["has_password"] is True and user["bsn_read"] is True
    assert "password" not in user and "password_hash" not in user and password not in created.text
    stored = await _stored(db, User, user["id"])
    assert world.hasher.verify(stored.password_hash, password)

    taken = await client.post(f"{API}/users", headers=headers, json=body)
    assert taken.json()["type"] == "urn:wijkwerk:problem:username_taken"
    second_link = await client.post(
        f"{API}/users", headers=headers, json={**body, "username": f"x{next_code()}"}
    )
    assert second_link.status_code == 409
    assert second_link.json()["type"] == "urn:wijkwerk:problem:worker_has_user"

    resident = {**body, "username": f"resident.{next_code()}", "role": "resident", "worker_id": None}
    refused = await client.post(f"{API}/users", headers=headers, json=resident)
    assert _rules(refused) == [(["body", "bsn_read"], "bsn_read_not_eligible")]
    short = await client.post(
        f"{API}/users", headers=headers, json={**resident, "bsn_read": False, "password": "hunter2"}
    )
    assert _rules(short) == [(["body", "password"], "password_too_short")]
    assert "hunter2" not in short.text
    machine = await client.post(
        f"{API}/users", headers=headers, json={**resident, "bsn_read": False, "role": "partner"}
    )
    assert _rules(machine) == [(["body", "role"], "not_a_person_role")]

    demoted = await client.patch(f"{API}/users/{user['id']}", headers=headers, json={"role": "resident"})
    assert {rule for _, rule in _rules(demoted)} == {"bsn_read_not_eligible", "worker_link_not_allowed"}
    new_password = "another long password"
    changed = await client.patch(
        f"{API}/users/{user['id']}",
        headers=headers,
        json={"password": new_password, "external_subject": f"idp|{next_code()}", "bsn_read": False},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["bsn_read"] is False
    stored = await _stored(db, User, user["id"])
    assert world.hasher.verify(stored.password_hash, new_password) and not world.hasher.verify(
        stored.password_hash, password
    )
    idp_only = await client.patch(f"{API}/users/{user['id']}", headers=headers, json={"password": None})
    assert idp_only.json()["has_password"] is False


async def test_user_list_is_paginated_in_username_order(client: httpx.AsyncClient, world: World) -> None:
    headers = await world.headers("admin")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "role": "generalist"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"{API}/users", headers=headers, params=params)).json()
        assert len(page["items"]) <= 3
        assert all("password_hash" not in u for u in page["items"])
        seen += [u["username"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert {world.people["generalist_a"].username, world.people["generalist_b"].username} <= set(seen)
