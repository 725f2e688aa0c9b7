"""What GraphQL errors write to the log, which ones the client sees masked, and the outage answer.

graphql-core puts submitted values into its messages (an invalid literal or variable is quoted; a
syntax error prints the lines of the query around it), and Strawberry's default ``process_errors``
logs every error at ERROR with that message and a stack. So the schema logs here instead:

* a client's mistake (syntax, validation, limits, a refused permission, bad input): one INFO line
  with the kind of error and the operation's name; no query, no variables, no message;
* an error of our own: one ERROR line with the exception's type and stack frames (the JSON
  formatter of ``app.web.observability`` never writes an exception's message), the client gets
  "Unexpected error.";
* the database being unreachable: one WARNING line, and the whole request is answered 503 with
  ``Retry-After`` like REST (``unavailable`` marks the context; the router raises).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError, OperationDefinitionNode
from strawberry.types import ExecutionContext

from app.graphql.context import GraphQLContext
from app.web.outage import is_database_unavailable

log = logging.getLogger("app.graphql")

MASKED_MESSAGE = "Unexpected error."


def is_server_error(error: GraphQLError) -> bool:
    """Whether an exception of ours (a resolver, a loader, an extension) caused the error.

    Errors about the request itself have no such exception (syntax, validation, limits, permissions
    raised as GraphQL errors), or one raised while coercing a submitted value (an invalid date or
    UUID in a literal or a variable): those point at the document and not at a field being
    resolved. An exception raised while resolving a field carries the field's path.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return error.path is not None or not error.nodes


def should_mask(error: GraphQLError) -> bool:
    """Mask what an unexpected exception produced (its text may hold SQL or data); the client's own
    mistakes are answered as they are: they say nothing about stored data."""
    return is_server_error(error)


def error_class(error: GraphQLError) -> str:
    """The kind of a client error, for the log: ``syntax``, ``validation``, or the error's code
    (``limit``, ``forbidden``, ``unauthenticated``, ``bad_user_input``, ...), all names of ours."""
    if isinstance(error, GraphQLSyntaxError):
        return "syntax"
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code.lower()
    original = error.original_error
    if isinstance(original, GraphQLError) and original is not error:
        return error_class(original)
    return "validation" if error.path is None else "field"


def operation_name(execution_context: ExecutionContext | None) -> str | None:
    """The name of the operation being run, as declared in the parsed document (a GraphQL name);
    never the free text a client sends as ``operationName`` when the document does not declare it."""
    document = execution_context.graphql_document if execution_context else None
    if execution_context is None or document is None:
        return None
    wanted = execution_context.operation_name
    declared = {
        d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name
    }
    return wanted if wanted in declared else None


def log_errors(errors: Iterable[GraphQLError], execution_context: ExecutionContext | None) -> None:
    operation = operation_name(execution_context)
    client: set[str] = set()
    unavailable: BaseException | None = None
    for error in errors:
        original = error.original_error
        if not is_server_error(error) or original is None:
            client.add(error_class(error))
        elif is_database_unavailable(original):
            unavailable = original
        else:
            log.error(
                "graphql field failed",
                exc_info=original,
                extra={"operation": operation, "error_type": type(original).__name__},
            )
    if client:
        log.info("graphql client error", extra={"operation": operation, "error_class": sorted(client)})
    if unavailable is not None:
        database_unavailable(execution_context.context if execution_context else None, operation, unavailable)


def database_unavailable(context: object, operation: str | None, error: BaseException) -> None:
    """The database could not serve the operation: one WARNING line, and the context is marked so
    the router answers the whole request 503 (also for a repeat answered before the operation:
    ``app.graphql.compiled.CompiledAnswers``)."""
    log.warning("database unavailable", extra={"operation": operation, "error_type": type(error).__name__})
    if isinstance(context, GraphQLContext):
        context.database_unavailable = True


class ErrorLoggingSchema(strawberry.Schema):
    """Strawberry's schema with the error logging above (``process_errors`` is its documented hook;
    it sees each error before ``MaskErrors`` replaces it, so the log knows what the client does not)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)
