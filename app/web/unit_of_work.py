"""The request's unit of work: made when a route or the GraphQL context first asks for it, committed
when the work returns, failed (rolled back, its access-log entries kept as failed) when it raises."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

from app.domain.unit_of_work.work import UnitOfWork, finish


async def request_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """A FastAPI dependency (with ``scope="function"``, so the commit happens before the answer is
    sent: a client never sees 201 for work that did not commit). The same ending as every other
    unit of work (``unit_of_work``), without a context manager around it: the hot reads go through
    here on every request."""
    state = request.app.state
    uow = UnitOfWork(state.db, state.wiring, request_id=getattr(request.state, "request_id", None))
    error: BaseException | None = None
    try:
        yield uow
    except BaseException as raised:
        error = raised
        raise
    finally:
        await finish(uow, error)
