"""The request's unit of work: made when a route or the GraphQL context first asks for it, committed
when the work returns, failed (rolled back, its access-log entries kept as failed) when it raises."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

from app.domain.unit_of_work.work import UnitOfWork, finish

# Where the request's unit of work is kept in its ASGI scope, for the dependencies beneath the route's
# own ``UoW`` (the logged caller check) that use it without being a node of FastAPI's dependency tree
# of their own. In the scope, not in ``request.state``: a sub-request copies its parent's state
# (``app.web.subrequest``) and must make a unit of work of its own.
SCOPE_KEY = "wijkwerk.unit_of_work"


def new_unit_of_work(request: Request) -> UnitOfWork:
    """A unit of work for ``request``: the app's database and wiring, the request's id on its log
    entries. Made by ``request_unit_of_work`` for REST and, when an operation asks, by GraphQL's context."""
    state = request.app.state
    return UnitOfWork(state.db, state.wiring, request_id=getattr(request.state, "request_id", None))


async def request_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """A FastAPI dependency (with ``scope="function"``, so the commit happens before the answer is
    sent: a client never sees 201 for work that did not commit). The same ending as every other
    unit of work (``unit_of_work``), without a context manager around it: the hot reads go through
    here on every request."""
    uow = new_unit_of_work(request)
    request.scope[SCOPE_KEY] = uow
    error: BaseException | None = None
    try:
        yield uow
    except BaseException as raised:
        error = raised
        raise
    finally:
        await finish(uow, error)


def current_unit_of_work(request: Request) -> UnitOfWork:
    """The unit of work the route's ``UoW`` dependency made for this request. A route declares its
    ``UoW`` before any dependency that uses this (tests/contract/test_unit_of_work_order.py walks
    every route); one that does not is a programming error, refused loudly."""
    uow = request.scope.get(SCOPE_KEY)
    if not isinstance(uow, UnitOfWork):
        raise RuntimeError(
            f"{request.method} {request.scope.get('route')!r}: declare `uow: UoW` before the caller check"
        )
    return uow
