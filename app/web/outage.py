"""Whether an error means "the database cannot serve us right now": both faces answer such errors
with 503 and ``Retry-After`` (REST from its problem handler, GraphQL for the whole request), so the
operations alert "503 means database trouble" sees every face alike."""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc as sa_exc

# SQLSTATEs that mean "the database cannot serve us right now": connection exceptions (08xxx),
# operator intervention (57P01-57P05: shutdown, crash, cannot connect now), query canceled (57014:
# the statement timeout) and too many connections (53300).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "57014", "53300")
_UNAVAILABLE_NAMES = frozenset(
    {"InterfaceError", "CannotConnectNowError", "ConnectionDoesNotExistError", "AdminShutdownError"}
)


def _causes(error: BaseException) -> list[BaseException]:
    """The error, the driver error it wraps and everything it was raised from, each once."""
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is seen for seen in chain) or len(chain) > 10:
            continue
        chain.append(current)
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return chain


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError | OSError | TimeoutError | asyncpg.exceptions.InterfaceError):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
        return True
    return type(error).__name__ in _UNAVAILABLE_NAMES


def is_database_unavailable(error: BaseException) -> bool:
    """Connection-level failures (server down, restarting, pool exhausted, statement timeout)."""
    return any(_unavailable(cause) for cause in _causes(error))
