"""The Strawberry GraphQL schema for neighbourhood-network dashboards, mounted at /graphql."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, overload

import cross_web
import orjson
from cross_web import AsyncHTTPRequestAdapter
from fastapi import FastAPI, Request, Response, WebSocket
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.domain.errors import ServiceUnavailable
from app.graphql.context import GraphQLContext, context_getter
from app.graphql.schema import Schema, build_schema
from app.settings import Settings
from app.web.answer_cache import AnswerCache


class _Router(GraphQLRouter[GraphQLContext, None]):
    """JSON in and out with orjson: a dashboard answer is ~90 kB, which the standard library encodes
    several times slower (same JSON, UTF-8 instead of \\u escapes). orjson's decode error is a
    json.JSONDecodeError, which Strawberry refuses with 400.

    Refusals and outages are answered like REST's, by the app's problem handlers: Strawberry's own
    400s (malformed JSON, no query, a batch) come as plain text, so they are raised again as HTTP
    errors (problem+json with the request id); a request during which the database could not serve
    a field raises ServiceUnavailable (503 with Retry-After) instead of answering 200 with
    "Unexpected error." where the data should be."""

    def __init__(
        self,
        schema: Schema,
        *,
        path: str,
        context_getter: Callable[[Request], Awaitable[GraphQLContext]],
        answers: AnswerCache,
        **kwargs: Any,
    ) -> None:
        super().__init__(schema, path=path, **kwargs)
        self.answers = answers
        self.compiled_answers = schema.compiled_answers
        self._context_of = context_getter
        # Strawberry's own routes take the context, the root value and a sub-response as FastAPI
        # dependencies: four dependency solves per request (its wrapper around our getter, the getter,
        # the root value, the Response parameter), ~300 of a repeated list query's ~1,150 function
        # calls. These routes make the context themselves and run the same view. No subscriptions:
        # the WebSocket route is not kept.
        self.routes = []
        for method in ("GET", "POST"):
            self.add_api_route(path, self._endpoint, methods=[method], include_in_schema=False)

    def decode_json(self, data: str | bytes) -> object:
        decoded = orjson.loads(data)
        if not isinstance(decoded, dict | list):  # Strawberry would fail on it with a 500
            raise StarletteHTTPException(400, "The body must be a JSON object with a query.")
        return decoded

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    @overload
    async def run(
        self, request: Request, context: GraphQLContext = UNSET, root_value: None = UNSET
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: GraphQLContext = UNSET, root_value: None = UNSET
    ) -> WebSocket: ...

    async def run(
        self, request: Request | WebSocket, context: GraphQLContext = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):  # never routed here: the WebSocket route is dropped
            return await super().run(request, context=context, root_value=root_value)
        if not isinstance(context, GraphQLContext):  # context_getter always makes one
            return await self._answer(request, context, root_value)
        try:
            response = await self._answered(request, context, root_value)
        except BaseException as error:
            await context.finish(error)
            raise
        # Committed before the answer is sent: a client never sees data of work that did not commit.
        await context.finish(None)
        return response

    async def _answered(self, request: Request, context: GraphQLContext, root_value: None) -> Response:
        if self._public_read(request, context):
            return await self.answers.answer(
                request, context.db, lambda: self._computed(request, context, root_value)
            )
        return await self._answer(request, context, root_value)

    def _public_read(self, request: Request, context: GraphQLContext) -> bool:
        """An anonymous GET of a query (not the IDE's page): the same answer for every such caller."""
        return (
            request.method == "GET"
            and isinstance(context, GraphQLContext)
            and context.principal is None
            and not self.should_render_graphql_ide(self.request_adapter_class(request))
        )

    async def _computed(
        self, request: Request, context: GraphQLContext, root_value: None
    ) -> tuple[Response, bool]:
        response = await self._answer(request, context, root_value)
        return response, getattr(request.state, "graphql_errors", True)

    async def _answer(self, request: Request, context: GraphQLContext, root_value: None) -> Response:
        try:
            response = await super().run(request, context=context, root_value=root_value)
        except cross_web.HTTPException as refused:
            raise StarletteHTTPException(refused.status_code, _reason(refused)) from refused
        if isinstance(context, GraphQLContext) and context.database_unavailable:
            raise ServiceUnavailable()
        return response

    async def _endpoint(self, request: Request) -> Response:
        """What Strawberry's GET and POST routes do, with the context made here: the request and a
        sub-response of its own (``get_sub_response``; Strawberry keeps its last one on the router,
        shared by concurrent requests) are set on it as Strawberry's FastAPI integration sets them."""
        context = await self._context_of(request)
        context.request = request
        context.response = request.state.graphql_sub_response = _sub_response()
        return await self.run(request, context=context, root_value=None)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        # A POST of one JSON operation, nearly every request: read without Strawberry's parse of the
        # Content-Type (through the email package, ~35 function calls) and its scan of the headers
        # for a streaming transport, which serves nothing here (no subscription protocols: every
        # request is plain "http"). Anything else, and anything Strawberry refuses, goes its way.
        if not self.protocols and request.method == "POST" and request.content_type == "application/json":
            operation = _one_operation(self.parse_json(await request.get_body()))
            if operation is not None:
                return operation
        return await super().parse_http_body(request)

    async def get_sub_response(self, request: Request) -> Response:
        response: Response = request.state.graphql_sub_response
        return response

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: GraphQLContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # A repeated query that compiled whole is answered by its plan, without the operation's
        # steps and hooks that already passed for it (app.graphql.compiled.CompiledAnswers).
        if self.compiled_answers is not None and isinstance(context, GraphQLContext):
            answered = await self.compiled_answers.answer(
                request_data.query,
                request_data.operation_name,
                request_data.variables,
                request_data.extensions,
                context,
            )
            if answered is not None:
                return answered
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Whether the answer has errors decides whether it may be kept and served as public.
        request.state.graphql_errors = bool(result.errors)
        return await super().process_result(request, result)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET with a persisted query's hash and no text is a query, not a visit to the IDE.
        return super().should_render_graphql_ide(request) and "extensions" not in request.query_params


def _sub_response() -> Response:
    """An empty response whose status and headers, when a resolver sets them, go into the answer
    (``create_response`` copies its headers): made as FastAPI makes a ``Response`` parameter, without
    a status and without the ``content-length: 0`` of an empty body, which would be sent twice."""
    response = Response()
    del response.headers["content-length"]
    response.status_code = None  # type: ignore[assignment]  # "none set": create_response answers 200
    return response


def _one_operation(data: object) -> GraphQLRequestData | None:
    """The operation a JSON body sends, when it is one that Strawberry's checks let through."""
    if not isinstance(data, dict):
        return None  # a batch (refused), or what Strawberry answers 400
    query, variables, extensions = data.get("query"), data.get("variables"), data.get("extensions")
    if not isinstance(query, str | None) or not isinstance(variables, dict | None):
        return None
    if not isinstance(extensions, dict | None):
        return None
    return GraphQLRequestData(query, variables, data.get("operationName"), extensions, protocol="http")


def _reason(refused: cross_web.HTTPException) -> str:
    """Strawberry's reason for a refusal; the one that quotes the client's ``operationName`` is said
    without it (never echo submitted values)."""
    if isinstance(refused.__cause__, CannotGetOperationTypeError):
        return "operationName names no operation of the document."
    return refused.reason


def mount_graphql(app: FastAPI, settings: Settings) -> None:
    """Mount /graphql on the app (schema, context, limits, persisted queries, HTTP caching).

    Queries by POST and GET (a GET never runs a mutation; its caller is only ever known from the
    Authorization header, which a cross-site GET cannot send), no batching, no subscriptions. An
    anonymous GET is answered public and cacheable (``app.web.answer_cache``); any other answer is
    ``no-store``. Introspection and the GraphiQL IDE are off in production settings; the IDE is on
    for demo and development runs.
    """
    ide = (settings.demo or settings.environment == "development") and not settings.is_production
    schema = build_schema(settings)
    router = _Router(
        schema,
        path="/graphql",
        graphql_ide="graphiql" if ide else None,
        allow_queries_via_get=True,
        answers=AnswerCache(
            entries=settings.graphql_answer_cache_entries,
            lifetime=settings.graphql_answer_cache_seconds,
            max_age=settings.graphql_cache_max_age_seconds,
        ),
        context_getter=context_getter(settings),
        subscription_protocols=(),
        include_in_schema=False,
    )
    app.include_router(router)
    app.state.graphql_schema = schema


def served_sdl(app: FastAPI) -> str:
    """The SDL of the schema mounted on ``app`` (openapi/schema.graphql must equal it)."""
    return str(app.state.graphql_schema.as_str()) + "\n"
