"""The logged caller check writes the caller's attempt (or refusal) into the request's unit of work
without being handed it as a dependency of its own (one node less per request): it takes the one the
route's ``UoW`` made. That works only when the route declares ``UoW`` before the check; every route
must, and a route that does not is refused loudly instead of losing its access-log entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Security
from fastapi.routing import iter_route_contexts

from app.api.deps import logged_caller
from app.security.principal import Principal
from app.web.unit_of_work import request_unit_of_work


def _calls(context: Any) -> list[Callable[..., Any]]:
    dependant = getattr(context, "dependant", None)
    return [d.call for d in dependant.dependencies] if dependant is not None else []


def test_every_logged_route_declares_its_unit_of_work_before_the_caller(app: FastAPI) -> None:
    wrong = []
    checked = 0
    for context in iter_route_contexts(app.routes):
        calls = _calls(context)
        if logged_caller not in calls:
            continue
        checked += 1
        if request_unit_of_work not in calls[: calls.index(logged_caller)]:
            wrong.append(f"{sorted(context.methods or ())} {context.path_format}")
    assert checked > 80
    assert not wrong, "Declare `uow: UoW` before the caller check:\n" + "\n".join(wrong)


async def test_a_logged_route_without_its_unit_of_work_is_refused_loudly() -> None:
    app = FastAPI()

    @app.get("/forgot")
    async def forgot(principal: Annotated[Principal, Security(logged_caller, scopes=[])]) -> None:
        raise AssertionError("not reached")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        try:
            await client.get("/forgot")
        except RuntimeError as error:
            assert "declare `uow: UoW` before the caller check" in str(error)
        else:
            raise AssertionError("a logged route without its unit of work answered")
