"""The schema and its extensions: persisted queries (``app.graphql.persisted``); token, depth, alias
and size limits, caches, the argument rules and error masking (what errors write to the log:
``app.graphql.errors``).

Order matters: PersistedQueries puts a document sent by hash in place first; MaxTokensLimiter puts
``max_tokens`` into the parse options before ParserCache parses (the option is part of that cache's
key); AddValidationRules adds the limit rule (and, in production, graphql-core's
NoSchemaIntrospectionCustomRule) before ValidationCache validates. The rule classes
are made once here, so every request passes the same tuple of rules and the cache keeps hitting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
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
from strawberry.schema.types.base_scalars import DateTimeDefinition

from app.domain.base import iso_timestamp
from app.graphql.arguments import ArgumentRules
from app.graphql.compiled import CompiledAnswers, CompiledReads, Plans
from app.graphql.errors import MASKED_MESSAGE, ErrorLoggingSchema, should_mask
from app.graphql.input_errors import SubmittedValuesOut
from app.graphql.limits import CACHE_SIZE, Limits, limit_rule
from app.graphql.mutations import (
    ConflictProblem,
    ForbiddenProblem,
    InvalidInputProblem,
    Mutation,
    NotFoundProblem,
    StaleVersionProblem,
)
from app.graphql.persisted import Documents, PersistedQueries, allowlist
from app.graphql.queries import Query
from app.settings import Settings


def extensions(
    settings: Settings, limits: Limits, documents: Documents, plans: Plans | None
) -> list[Callable[[], SchemaExtension]]:
    rules: list[Any] = [limit_rule(limits)]
    if settings.is_production:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        lambda: PersistedQueries(documents),  # first: the others work on the document it puts in place
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        ArgumentRules,  # before CompiledReads, which answers only what it let through
        *([lambda: CompiledReads(plans)] if plans is not None else []),
        lambda: MaskErrors(should_mask_error=should_mask, error_message=MASKED_MESSAGE),
        SubmittedValuesOut,  # errors about input, said without the submitted value
    ]


# Timestamps as the REST API writes them (UTC, ``Z``), not strawberry's ``isoformat`` (``+00:00``);
# input is parsed as strawberry's own DateTime parses it.
DATETIME = strawberry.scalar(
    name="DateTime",
    description="Date with time (ISO 8601, UTC, written with Z)",
    serialize=iso_timestamp,
    parse_value=DateTimeDefinition.parse_value,
)


class Schema(ErrorLoggingSchema):
    """The served schema, with what answers a repeated compiled query before the extensions run
    (``app.graphql.compiled.CompiledAnswers``; None when every field is left to its resolver)."""

    compiled_answers: CompiledAnswers | None = None


def build_schema(settings: Settings, limits: Limits | None = None, compiled: bool = True) -> Schema:
    """The served schema; ``compiled=False`` leaves every field to its resolver (the differential
    test's other path)."""
    documents = Documents(allowlist(), settings.graphql_persisted_only)
    plans = Plans() if compiled else None
    schema = Schema(
        query=Query,
        mutation=Mutation,
        # Problem types are reached through unions; listing them keeps the SDL stable.
        types=[NotFoundProblem, ForbiddenProblem, ConflictProblem, StaleVersionProblem, InvalidInputProblem],
        extensions=extensions(settings, limits or Limits(), documents, plans),
        config=StrawberryConfig(auto_camel_case=True, scalar_map={datetime: DATETIME}),
    )
    if plans is not None:
        schema.compiled_answers = CompiledAnswers(plans, documents)
    return schema
