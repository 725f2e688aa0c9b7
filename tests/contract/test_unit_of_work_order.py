"""The logged caller check writes the caller's attempt (or refusal) into the request's unit of work
without being handed it as a dependency of its own (one node less per request): it takes the one the
route's ``UoW`` made. That works only when the route declares ``UoW`` before the check; every route
must, and a route that does not is refused loudly instead of losing its access-log entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Security
from fastapi.routing import iter_route_contexts

from app.api.deps import logged_caller
from app.security.principal import Principal
from app.web.unit_of_work import request_unit_of_work

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


def test_every_logged_route_declares_its_unit_of_work_before_the_caller(app: FastAPI) -> None:
    wrong = []
    checked = 0
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        calls = _solved_order(dependant) if dependant is not None else []
        if logged_caller not in calls:
            continue
        checked += 1
        if request_unit_of_work not in calls[: calls.index(logged_caller)]:
            wrong.append(f"{sorted(context.methods or ())} {context.path_format}")
    assert checked > 80
    assert not wrong, "Declare `uow: UoW` before the caller check:\n" + "\n".join(wrong)


def test_only_the_caller_check_takes_the_unit_of_work_from_the_request() -> None:
    # Everything else receives the request's unit of work as the ``UoW`` dependency (one way to get
    # it); the caller check is the one exception, for the node it saves on every request.
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "app").rglob("*.py"))
        if "current_unit_of_work(" in path.read_text(encoding="utf-8")
    ]
    assert users == ["app/api/deps.py", "app/web/unit_of_work.py"]


async def test_a_logged_route_without_its_unit_of_work_is_refused_loudly() -> None:
    app = FastAPI()

    @app.get("/forgot")
    async def forgot(principal: Annotated[Principal, Security(logged_caller, scopes=[])]) -> None:
        raise AssertionError("not reached")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(RuntimeError, match="declare `uow: UoW` before the caller check"):
            await client.get("/forgot")
