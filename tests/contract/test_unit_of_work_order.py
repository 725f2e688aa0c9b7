"""The logged caller check writes the caller's attempt (or refusal) into the request's unit of work
without being handed it as a dependency of its own (one node less per request): it takes the one the
route's ``UoW`` made. So does the Idempotency-Key claim (``Idempotent``), which claims the key in it.
That works only when the route declares ``UoW`` before them; every route must, and a route that does
not is refused loudly instead of losing its access-log entry or its claim."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Security
from fastapi.routing import iter_route_contexts

from app.api.deps import UoW, logged_caller
from app.api.idempotency import Idempotent, IdempotentRoute, _idempotency
from app.security.principal import Principal
from app.web.unit_of_work import WorkRoute, request_unit_of_work

ROOT = Path(__file__).resolve().parents[2]


def _solved_order(dependant: Any) -> list[Callable[..., Any]]:
    """The dependencies' calls in the order FastAPI makes them: each one's own dependencies first
    (depth first, in declaration order), a call already made not made again (the request's cache)."""
    order: list[Callable[..., Any]] = []

    def walk(node: Any) -> None:
        for sub in node.dependencies:
            walk(sub)
            if sub.call not in order:
                order.append(sub.call)

    walk(dependant)
    return order


@pytest.mark.parametrize(("user", "at_least"), [(logged_caller, 80), (_idempotency, 15)])
def test_every_route_declares_its_unit_of_work_before_what_takes_it(
    app: FastAPI, user: Callable[..., Any], at_least: int
) -> None:
    wrong = []
    checked = 0
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        calls = _solved_order(dependant) if dependant is not None else []
        if user not in calls:
            continue
        checked += 1
        if request_unit_of_work not in calls[: calls.index(user)]:
            wrong.append(f"{sorted(context.methods or ())} {context.path_format}")
    assert checked > at_least
    assert not wrong, "Declare `uow: UoW` before the caller check:\n" + "\n".join(wrong)


def test_only_the_caller_check_and_the_key_claim_take_the_unit_of_work_from_the_request() -> None:
    # Everything else receives the request's unit of work as the ``UoW`` dependency (one way to get
    # it); the caller check and the Idempotency-Key claim are the exceptions, for the node each saves
    # on every request.
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "app").rglob("*.py"))
        if "current_unit_of_work(" in path.read_text(encoding="utf-8")
    ]
    assert users == ["app/api/deps.py", "app/api/idempotency.py", "app/web/unit_of_work.py"]


async def test_a_logged_route_without_its_unit_of_work_is_refused_loudly() -> None:
    app = FastAPI()

    @app.get("/forgot")
    async def forgot(principal: Annotated[Principal, Security(logged_caller, scopes=[])]) -> None:
        raise AssertionError("not reached")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(RuntimeError, match="declare `uow: UoW` before the caller check"):
            await client.get("/forgot")


async def test_a_keyed_route_without_its_unit_of_work_is_refused_loudly() -> None:
    router = APIRouter(route_class=IdempotentRoute)

    @router.post("/forgot", response_model=None)
    async def forgot(_: Idempotent) -> None:
        raise AssertionError("not reached")

    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(RuntimeError, match="declare `uow: UoW` before the caller check"):
            await client.post("/forgot")


def test_every_route_taking_its_unit_of_work_ends_it(app: FastAPI) -> None:
    # The route class commits (or fails) the work the ``UoW`` dependency made; a route of another
    # class would leave it open (the dependency refuses such a route on every request, below).
    wrong = []
    checked = 0
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        if dependant is None or request_unit_of_work not in _solved_order(dependant):
            continue
        checked += 1
        if not isinstance(context.original_route, WorkRoute):
            wrong.append(f"{sorted(context.methods or ())} {context.path_format}")
    assert checked > 150
    assert not wrong, "Give these routers route_class=WorkRoute:\n" + "\n".join(wrong)


async def test_a_route_taking_its_unit_of_work_without_the_route_class_is_refused_loudly() -> None:
    app = FastAPI()

    @app.get("/open")
    async def left_open(uow: UoW) -> None:
        raise AssertionError("not reached")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(RuntimeError, match="needs route_class=WorkRoute"):
            await client.get("/open")


async def test_a_dependency_using_the_unit_of_work_after_it_ended_is_refused_loudly() -> None:
    """The route class ends the work when the handler returns, before a ``yield`` dependency's clean-up
    runs: such a clean-up asking for the session would open one that is never committed or closed (a
    connection lost to the pool). It fails instead, and the request answers 500."""
    used_late: list[str] = []

    async def late_cleanup(uow: UoW) -> AsyncIterator[None]:
        yield
        try:
            uow.session  # noqa: B018 (the attribute access is what is refused)
        except RuntimeError as refused:
            used_late.append(str(refused))

    app = FastAPI()
    router = APIRouter(route_class=WorkRoute)

    @router.get("/late", dependencies=[Depends(late_cleanup)])
    async def late() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(router)
    app.state.db = None  # the work never opens a session before its end: no database is asked
    app.state.wiring = None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/late")
    assert response.status_code == 200
    assert used_late == ["this unit of work has ended (committed or failed); it opens no session"]
