"""The Strawberry GraphQL schema for neighbourhood-network dashboards, mounted at /graphql."""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute
from strawberry.fastapi import GraphQLRouter

from app.graphql.context import context_getter
from app.graphql.schema import build_schema
from app.settings import Settings


class _Router(GraphQLRouter):
    """JSON in and out with orjson: a dashboard answer is ~90 kB, which the standard library encodes
    several times slower (same JSON, UTF-8 instead of \\u escapes). orjson's decode error is a
    json.JSONDecodeError, which Strawberry answers with 400 as before."""

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def mount_graphql(app: FastAPI, settings: Settings) -> None:
    """Mount /graphql on the app (schema, context, limits).

    POST only (no queries over GET, so no cross-site GETs and no caching of personal answers), no
    batching, no subscriptions. Introspection and the GraphiQL IDE are off in production settings;
    the IDE is on for demo and development runs.
    """
    ide = (settings.demo or settings.environment == "development") and not settings.is_production
    schema = build_schema(settings)
    router: GraphQLRouter = _Router(
        schema,
        path="/graphql",
        graphql_ide="graphiql" if ide else None,
        allow_queries_via_get=False,
        context_getter=context_getter(settings),
        subscription_protocols=(),
        include_in_schema=False,
    )
    # No subscriptions: drop the WebSocket route instead of leaving a handshake endpoint around.
    router.routes = [r for r in router.routes if not isinstance(r, APIWebSocketRoute)]
    app.include_router(router)
    _route_first(app, router)
    app.state.graphql_schema = schema


def _route_first(app: FastAPI, router: GraphQLRouter) -> None:
    """Try /graphql before the REST routes: requests are routed by trying every route in order, and
    GraphQL (one path) would otherwise be matched against the whole REST API on every request."""
    routes = app.router.routes
    mounted = [r for r in routes if getattr(r, "original_router", None) is router]
    for route in mounted:
        routes.remove(route)
    routes[0:0] = mounted


def served_sdl(app: FastAPI) -> str:
    """The SDL of the schema mounted on ``app`` (openapi/schema.graphql must equal it)."""
    return str(app.state.graphql_schema.as_str()) + "\n"
