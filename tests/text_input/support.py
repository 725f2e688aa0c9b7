"""Every place a REST client types text, read from the OpenAPI document the service publishes.

``text_inputs`` walks each operation's JSON request body (nested objects and arrays included) and its
query and path parameters, and yields each string a client chooses freely: no ``format`` (uuid, date,
date-time), no enum. Headers are left out (their own rules: If-Match, Idempotency-Key), and so are
the OAuth endpoints (form posts answered as RFC 6749 errors) and /graphql.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from app.security.scopes import ROLE_SCOPES, Role
from tests.factories import World
from tests.self_service.support import member_headers

HOUSEHOLD_MEMBER = "household_member"

# Actors of tests.factories.World, most specific first: the first whose role holds an operation's
# scopes calls it (validation answers before any object is looked up, so ids may be made up).
ACTORS: dict[str, Role] = {
    "team_lead_a": Role.team_lead,
    "partner_a": Role.partner,
    "privacy_officer": Role.privacy_officer,
    "admin": Role.admin,
    "network_coordinator": Role.network_coordinator,
    "analyst": Role.analyst,
    "policy_officer": Role.policy_officer,
    # Not a World actor: a household member's token comes from ``Callers`` (self-service, /api/v1/me).
    HOUSEHOLD_MEMBER: Role.household_member,
}


@dataclass(frozen=True)
class TextInput:
    method: str
    path: str  # the route template, e.g. /api/v1/households/{household_id}/members
    loc: tuple[str | int, ...]  # as the problem names it: ("body", "members", 0, "given_name")
    pattern: str | None
    min_length: int
    max_length: int | None
    scopes: frozenset[str]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {'.'.join(str(p) for p in self.loc)}"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _strings(
    document: dict[str, Any], schema: dict[str, Any], loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    schema = _resolve(document, schema)
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _strings(document, alternative, loc)
    kind = schema.get("type")
    if kind == "string" and not {"enum", "format", "const"} & schema.keys():
        yield loc, schema
    for name, field in schema.get("properties", {}).items():
        yield from _strings(document, field, (*loc, name))
    if kind == "array":
        yield from _strings(document, schema.get("items", {}), (*loc, 0))


def text_inputs(document: dict[str, Any]) -> list[TextInput]:
    found: dict[tuple[str, str, tuple[str | int, ...]], TextInput] = {}
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            scopes = frozenset(s for entry in operation.get("security", []) for s in entry.get("oauth2", []))
            places: list[tuple[dict[str, Any], tuple[str | int, ...]]] = [
                (p["schema"], (p["in"], p["name"]))
                for p in (_resolve(document, p) for p in operation.get("parameters", []))
                if p["in"] in {"query", "path"}
            ]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                places.append((body["schema"], ("body",)))
            for schema, start in places:
                for loc, string in _strings(document, schema, start):
                    found[(method.upper(), path, loc)] = TextInput(
                        method.upper(),
                        path,
                        loc,
                        string.get("pattern"),
                        string.get("minLength", 0),
                        string.get("maxLength"),
                        scopes,
                    )
    return list(found.values())


def actor_for(scopes: frozenset[str]) -> str:
    for actor, role in ACTORS.items():
        if scopes <= {str(s) for s in ROLE_SCOPES[role]}:
            return actor
    raise AssertionError(f"no test actor holds {sorted(scopes)}")


def _nested(loc: tuple[str | int, ...], value: str) -> Any:
    """``value`` at ``loc`` in a JSON document (``0`` is the one item of a list)."""
    if not loc:
        return value
    head, rest = loc[0], loc[1:]
    return [_nested(rest, value)] if head == 0 else {head: _nested(rest, value)}


def holding(field: TextInput, character: str) -> str:
    """Text of a length ``field`` accepts, with ``character`` inside (not at an end, which is stripped)."""
    length = max(field.min_length, 3)
    if field.max_length is not None:
        length = min(length, field.max_length)
    return "a" * (length // 2) + character + "a" * (length - length // 2 - 1)


@dataclass
class Request:
    method: str
    url: str
    params: dict[str, str]
    json: Any


def request_for(field: TextInput, value: str) -> Request:
    """A request of the field's operation with ``value`` in the field, the field alone: other ids are
    made up and other fields left out."""
    where, name = field.loc[0], str(field.loc[1]) if len(field.loc) > 1 else ""
    url = field.path
    if where == "path":
        url = url.replace("{" + name + "}", quote(value, safe=""))
    while "{" in url:
        start = url.index("{")
        url = url[:start] + str(uuid.uuid4()) + url[url.index("}", start) + 1 :]
    params = {name: value} if where == "query" else {}
    body = _nested(field.loc[1:], value) if where == "body" else None
    return Request(field.method, url, params, body)


@dataclass
class Callers:
    """The tokens an operation is called with: the World's actors, and one household member's."""

    world: World
    member: dict[str, str]

    @classmethod
    async def of(cls, world: World) -> Callers:
        for actor in ACTORS:
            if actor != HOUSEHOLD_MEMBER:
                await world.token(actor)  # the first token makes the signing key: not the input's doing
        return cls(world, await member_headers(world))

    async def headers(self, scopes: frozenset[str]) -> dict[str, str]:
        actor = actor_for(scopes)
        return self.member if actor == HOUSEHOLD_MEMBER else await self.world.headers(actor)
