"""Deny by default for household members: walked with a member's token, every REST route answers
only when it is the member's own (``/api/v1/me``) or public; every GraphQL field that is not public
denies them; and the member's own routes deny every other kind of caller."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import FastAPI
from graphql import GraphQLInterfaceType, GraphQLObjectType, build_schema
from strawberry.permission import PermissionExtension

from app.api.public import PUBLIC_ROUTES
from app.domain.unit_of_work.work import UnitOfWork
from app.graphql.context import GraphQLContext
from app.graphql.permissions import PUBLIC_FIELDS, SeesNeighbourhoodFigures
from app.security.principal import Principal
from tests.contract.conftest import ROLE_ACTORS
from tests.contract.routes import MOUNT, WEBSOCKET, endpoints
from tests.factories import World
from tests.self_service.support import Signed, account, make_home

OWN = "/api/v1/me"
PARAMETER = re.compile(r"{([^}:]+)(:[^}]+)?}")
BODIES = {"POST", "PUT", "PATCH"}


def _path(template: str, ids: dict[str, str]) -> str:
    """The path with the ids of another household (and random ones where it has none)."""
    return PARAMETER.sub(lambda m: ids.get(m.group(1), str(uuid.uuid4())), template)


async def test_a_member_reaches_their_own_routes_and_nothing_of_anyone_else(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    own_home, other = await make_home(world, client), await make_home(world, client)
    member = await account(world, own_home, "Anna")
    headers = await member.headers()
    ids = {
        "household_id": other.id,
        "member_id": other.members["Anna"],
        "plan_id": str(other.plan["id"]),
        "person_id": other.person_id,
    }
    walked = 0
    for endpoint in endpoints(app):
        if endpoint.method in (MOUNT, WEBSOCKET) or endpoint.key in PUBLIC_ROUTES:
            continue
        if endpoint.path.startswith(OWN) or endpoint.path.startswith("/docs"):
            continue
        body: dict[str, Any] | None = {} if endpoint.method in BODIES else None
        response = await client.request(
            endpoint.method, _path(endpoint.path, ids), headers=headers, json=body
        )
        walked += 1
        assert response.status_code in (403, 404), (endpoint.method, endpoint.path, response.status_code)
        assert "de Vries" not in response.text and "Tineke" not in response.text
    assert walked > 100


async def test_the_members_own_routes_deny_every_other_caller(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    home = await make_home(world, client)
    own = [e for e in endpoints(app) if e.path.startswith(OWN)]
    assert {e.path for e in own} >= {
        OWN,
        OWN + "/plan",
        OWN + "/consents",
        OWN + "/access-log",
        OWN + "/export",
        OWN + "/plan/evaluations/{evaluation_id}/views",
    }
    for role, actor in ROLE_ACTORS.items():
        if role == "household_member":
            continue
        headers = await world.headers(actor)
        for endpoint in own:
            path = _path(endpoint.path, {"consent_id": str(uuid.uuid4()), "evaluation_id": str(uuid.uuid4())})
            response = await client.request(endpoint.method, path, headers=headers)
            expected = 401 if actor == "anonymous" else 403
            assert response.status_code == expected, (role, endpoint.method, endpoint.path, response.text)
            assert home.id not in response.text


def _permissions(app: FastAPI) -> dict[str, list[Any]]:
    schema = app.state.graphql_schema
    found: dict[str, list[Any]] = {}
    served = build_schema(schema.as_str())
    for type_name, graphql_type in served.type_map.items():
        if type_name.startswith("__") or not isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for field_name in graphql_type.fields:
            definition = schema.get_field_for_type(field_name, type_name)
            if definition is None:
                continue
            found[f"{type_name}.{field_name}"] = [
                p for e in definition.extensions if isinstance(e, PermissionExtension) for p in e.permissions
            ]
    return found


async def test_every_graphql_field_that_is_not_public_denies_a_member(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    home = await make_home(world, client, with_plan=False)
    member: Signed = await account(world, home, "Anna")
    principal: Principal = await app.state.token_verifier.verify(await member.token())
    context = GraphQLContext(
        app.state.db, UnitOfWork(app.state.db, app.state.wiring), principal, app.state.settings
    )
    info: Any = SimpleNamespace(context=context)
    source = SimpleNamespace(id=uuid.uuid4(), network_id=uuid.uuid4())
    public_figures = set(app.state.settings.stats_public_measures)
    checked = 0
    for field, permissions in _permissions(app).items():
        if field in PUBLIC_FIELDS:
            continue
        assert permissions, f"{field} declares no permission"
        for permission in permissions:
            if isinstance(permission, SeesNeighbourhoodFigures) and permission.measure in public_figures:
                continue  # published to everyone, anonymous callers included
            assert await permission.has_permission(source, info) is False, field
            checked += 1
    assert checked > 20

    # Over HTTP: a mutation is refused, and the member reads what an anonymous caller reads.
    bearer = await member.headers()
    start = f'mutation {{ startInitiative(id: "{uuid.uuid4()}", expectedVersion: 1) {{ __typename }} }}'
    mutation = await client.post("/graphql", json={"query": start}, headers=bearer)
    assert mutation.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    query = {"query": "{ networks(first: 5) { id name members { id displayName } } }"}
    as_member = await client.post("/graphql", json=query, headers=bearer)
    anonymous = await client.post("/graphql", json=query)
    assert as_member.status_code == 200 and as_member.json() == anonymous.json()
