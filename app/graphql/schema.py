"""The schema and its extensions: token, depth, alias and size limits, caches and error masking.

Order matters: MaxTokensLimiter puts ``max_tokens`` into the parse options before ParserCache parses
(the option is part of that cache's key); AddValidationRules adds the limit rule (and, in production,
graphql-core's NoSchemaIntrospectionCustomRule) before ValidationCache validates. The rule classes
are made once here, so every request passes the same tuple of rules and the cache keeps hitting.
Plain data fields are completed by ``execution.ExecutionContext`` without graphql-core's per-field
machinery (same results and errors; tests/graphql/test_fast_paths.py compares the two).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types.graphql import OperationType

from app.graphql.context import GraphQLContext
from app.graphql.execution import ExecutionContext, mark_plain_fields
from app.graphql.limits import Limits, limit_rule
from app.graphql.mutations import (
    ConflictProblem,
    ForbiddenProblem,
    InvalidInputProblem,
    Mutation,
    NotFoundProblem,
    StaleVersionProblem,
)
from app.graphql.queries import Query
from app.settings import Settings

CACHE_SIZE = 256
MASKED_MESSAGE = "Unexpected error."


def should_mask(error: GraphQLError) -> bool:
    """Mask anything an unexpected exception produced (its text may hold SQL or data).

    Errors without an original exception are about the query itself (syntax, validation, limits,
    refused permissions raised as GraphQL errors) and are kept: they say nothing about stored data.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class QueriesWithoutTransaction(SchemaExtension):
    """Queries read without BEGIN/COMMIT (``GraphQLContext.read_only``). Runs once the document is
    parsed and validated, so a refused document still touches no connection at all."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if isinstance(execution.context, GraphQLContext) and execution.operation_type is OperationType.QUERY:
            # No connection now (database down, pool exhausted): the first resolver that needs one
            # meets the same failure and reports it as a field error, masked in production. Raised
            # here, it would bypass the resolvers' error handling and MaskErrors.
            with suppress(Exception):
                await execution.context.read_only()
        yield


def extensions(settings: Settings, limits: Limits | None = None) -> list[Callable[[], SchemaExtension]]:
    limits = limits or Limits()
    rules: list[Any] = [limit_rule(limits)]
    if settings.is_production:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        lambda: MaskErrors(should_mask_error=should_mask, error_message=MASKED_MESSAGE),
        QueriesWithoutTransaction,
    ]


def build_schema(
    settings: Settings, limits: Limits | None = None, *, plain_fields: bool = True
) -> strawberry.Schema:
    """The schema; ``plain_fields=False`` leaves all of execution to graphql-core (the tests compare)."""
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Problem types are reached through unions; listing them keeps the SDL stable.
        types=[NotFoundProblem, ForbiddenProblem, ConflictProblem, StaleVersionProblem, InvalidInputProblem],
        extensions=extensions(settings, limits),
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=ExecutionContext if plain_fields else None,
    )
    if plain_fields:
        mark_plain_fields(schema._schema, schema.config.default_resolver)
    return schema
