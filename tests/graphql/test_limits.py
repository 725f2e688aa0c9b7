"""Abusive documents are refused in validation (before any resolver or SQL runs), the caches still hit
with the limits in place, and production settings switch off introspection, the IDE and GET."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache

from app.db import Database
from app.domain.unit_of_work.work import UnitOfWork, Wiring
from app.graphql.context import GraphQLContext
from app.graphql.errors import MASKED_MESSAGE, should_mask
from app.graphql.limits import CACHE_SIZE, Limits
from app.main import create_app
from app.settings import Environment, Settings
from tests.factories import World
from tests.support.statements import counting_statements

LIMITS = Limits()


async def post(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


ABUSIVE = {
    "depth": '{ n: neighbourhood(code: "BU00000000") { initiatives(first: 1) { network { '
    "initiatives(first: 1) { network { initiatives(first: 1) { network { initiatives(first: 1) "
    "{ network { initiatives(first: 1) { network { name } } } } } } } } } } } }",
    "aliases": "{ " + " ".join(f"t{n}: themes {{ code }}" for n in range(LIMITS.max_aliases + 1)) + " }",
    # Eight aliases in the document; with the fragment's five spread seven times, 38.
    "aliases through fragments": "fragment F on Theme { a: code b: code c: code d: labelNl e: labelEn } "
    "{ themes { ...F ...F } x: themes { ...F } y: themes { ...F } z: themes { ...F ...F ...F } }",
    "tokens": "{ themes { " + "code " * (LIMITS.max_tokens + 1) + "} }",
    "size": '{ neighbourhood(code: "BU00000000") { initiatives(first: 500) { network { '
    "initiatives(first: 500) { title } } } } }",
}


@pytest.mark.parametrize("kind", sorted(ABUSIVE))
async def test_abusive_documents_are_refused_before_any_resolver(
    app: FastAPI, client: httpx.AsyncClient, world: World, kind: str
) -> None:
    # ``world`` makes sure a neighbourhood exists for the control query, whatever ran before.
    with counting_statements(app.state.db) as control:
        assert (await post(client, "{ neighbourhoods(first: 1) { code } }"))["data"]["neighbourhoods"]
    assert control, "a resolver that reads the database sends statements"
    with counting_statements(app.state.db) as seen:
        body = await post(client, ABUSIVE[kind])
    assert body["data"] is None
    assert seen == [], f"{kind}: SQL ran for a refused document"
    message = body["errors"][0]["message"]
    expected = {
        "depth": "levels deep",
        "aliases": "aliases",
        "aliases through fragments": "38 aliases",
        "tokens": "more than",
        "size": "values; the limit is",
    }[kind]
    assert expected in message, message


def _parse_cache_info() -> Any:
    """Hits and misses of Strawberry's parse cache for our cache size (one LRU cache per size,
    shared by every ParserCache of that size)."""
    cached: Any = ParserCache(maxsize=CACHE_SIZE).cached_parse_document  # a functools.lru_cache
    return cached.cache_info()


def _validate_cache_info() -> Any:
    cached: Any = ValidationCache(maxsize=CACHE_SIZE).cached_validate_document  # a functools.lru_cache
    return cached.cache_info()


async def test_limits_and_caches_work_together(client: httpx.AsyncClient) -> None:
    """The limit rule is one class per schema: the same document validates once, then hits the cache."""
    query = "{ themes { code labelEn } neighbourhoods(first: 1) { code } }"
    await post(client, query)
    parse_before = _parse_cache_info()
    validate_before = _validate_cache_info()
    for _ in range(3):
        assert "errors" not in await post(client, query)
    parse_after = _parse_cache_info()
    validate_after = _validate_cache_info()
    assert parse_after.hits - parse_before.hits == 3 and parse_after.misses == parse_before.misses
    assert validate_after.hits - validate_before.hits == 3 and validate_after.misses == validate_before.misses
    # A refused document is refused again from the cache, just as fast.
    for _ in range(2):
        assert (await post(client, ABUSIVE["depth"]))["data"] is None


def test_the_mask_policy() -> None:
    leaked = GraphQLError("boom", original_error=RuntimeError('relation "initiatives" SELECT * FROM users'))
    assert should_mask(leaked)
    assert not should_mask(GraphQLError("Cannot query field 'household' on type 'Query'."))
    assert not should_mask(GraphQLError("Not allowed.", original_error=GraphQLError("Not allowed.")))


@pytest.fixture(scope="module")
async def production_app(migrated: str) -> AsyncIterator[FastAPI]:
    settings = Settings(
        environment=Environment.production,
        database_url=migrated,
        issuer="https://wijkwerk.example",
        secret_key=secrets.token_urlsafe(32),
        bsn_encryption_key=secrets.token_urlsafe(32),
        bsn_index_key=secrets.token_urlsafe(32),
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def production(production_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=production_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as http:
        yield http


async def test_production_refuses_introspection(production: httpx.AsyncClient) -> None:
    for query in ("{ __schema { types { name } } }", '{ __type(name: "Initiative") { fields { name } } }'):
        body = await post(production, query)
        assert body["data"] is None
        assert "introspection" in body["errors"][0]["message"].lower()
    assert (await post(production, "{ themes { code } }"))["data"]["themes"]


async def test_production_has_no_ide_no_get_mutations_no_batches(production: httpx.AsyncClient) -> None:
    ide = await production.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 404 and "graphiql" not in ide.text.lower()
    # Queries by GET (public, cacheable: test_http_caching.py), never a mutation.
    via_get = await production.get("/graphql", params={"query": "mutation { __typename }"})
    assert via_get.status_code in (400, 405) and "data" not in via_get.text
    batch = await production.post("/graphql", json=[{"query": "{ themes { code } }"}] * 2)
    assert batch.status_code == 400


async def test_production_limits_apply(app: FastAPI, production: httpx.AsyncClient) -> None:
    for kind in ("depth", "aliases through fragments", "tokens"):
        assert (await post(production, ABUSIVE[kind]))["data"] is None, kind


async def test_production_masks_unexpected_errors(production_app: FastAPI, settings: Settings) -> None:
    """A resolver that fails deep down (here: no database) answers "Unexpected error." and nothing more."""
    schema = production_app.state.graphql_schema
    configured = production_app.state.settings
    db = Database("postgresql://nobody:secret@127.0.0.1:9/nowhere", configured)
    try:
        context = GraphQLContext(db, UnitOfWork(db, Wiring()), None, configured)
        result = await schema.execute("{ themes { code } }", context_value=context)
    finally:
        await db.dispose()
    assert result.data is None
    assert [e.message for e in result.errors] == [MASKED_MESSAGE]
    assert "nowhere" not in str(result.errors[0].formatted) and "secret" not in str(
        result.errors[0].formatted
    )
