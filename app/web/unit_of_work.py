"""The request's unit of work: made when a route or the GraphQL context first asks for it, committed
when the work returns, failed (rolled back, its access-log entries kept as failed) when it raises.

For REST, the route's ``UoW`` dependency makes it and the route class ``WorkRoute`` ends it: the
route's handler (dependencies, endpoint, the answer's serialisation) runs inside, and the work is
committed (or failed) before the answer is sent, so a client never sees 201 for work that did not
commit. This is what a dependency with ``yield`` and ``scope="function"`` did; FastAPI enters two
context managers and a cancel scope per request for one, on the hottest path of every route."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute

from app.domain.unit_of_work.work import UnitOfWork, finish

# Where the request's unit of work is kept in its ASGI scope, for ``WorkRoute`` that ends it and the
# dependencies beneath the route's own ``UoW`` (the logged caller check, the Idempotency-Key claim)
# that use it without being a node of FastAPI's dependency tree of their own. In the scope, not in
# ``request.state``: a sub-request copies its parent's state (``app.web.subrequest``) and must make
# a unit of work of its own.
SCOPE_KEY = "wijkwerk.unit_of_work"

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def new_unit_of_work(request: Request) -> UnitOfWork:
    """A unit of work for ``request``: the app's database and wiring, the request's id on its log
    entries. Made by ``request_unit_of_work`` for REST and, when an operation asks, by GraphQL's context."""
    state = request.app.state
    return UnitOfWork(state.db, state.wiring, request_id=getattr(request.state, "request_id", None))


class WorkRoute(APIRoute):
    """The route class of every router whose routes take ``UoW``: ends the unit of work the route
    made once its handler is done (committed when it returned, failed when it raised), before the
    answer goes out. Subclasses add what must happen inside the work (``within_work``)."""

    def get_route_handler(self) -> Handler:
        handler = self.within_work(super().get_route_handler())

        async def work_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except BaseException as error:
                await _finish(request, error)
                raise
            await _finish(request, None)
            return response

        return work_handler

    def within_work(self, handler: Handler) -> Handler:
        """``handler`` with what a kind of route does before its unit of work ends (none here)."""
        return handler


async def _finish(request: Request, error: BaseException | None) -> None:
    uow = request.scope.pop(SCOPE_KEY, None)
    if uow is None:
        return  # the route made none (it takes no ``UoW``, or failed before its dependencies ran)
    # Shielded, as FastAPI shields a dependency's exit: a cancelled request still rolls back and
    # returns its connection.
    with anyio.CancelScope(shield=True):
        await finish(uow, error)


async def request_unit_of_work(request: Request) -> UnitOfWork:
    """The ``UoW`` dependency: the request's unit of work, ended by the route class (``WorkRoute``).
    A route of another class would leave it open: refused loudly, on every request."""
    if not isinstance(request.scope.get("route"), WorkRoute):
        raise RuntimeError(
            f"{request.method} {request.scope.get('route')!r}: a route taking `UoW` needs "
            "route_class=WorkRoute"
        )
    uow = new_unit_of_work(request)
    request.scope[SCOPE_KEY] = uow
    return uow


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
