"""The REST routers are included busiest first (app/api/v1/__init__.py, app/main.py). That is safe only
while no route can catch a request meant for another: every route of /api/v1, called with a path made
from its own template, must be the route the app selects."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.types import Message

from tests.ops.paths import sample_path


async def selected_route(app: FastAPI, method: str, path: str) -> Any:
    """The route FastAPI picks for the request (what it leaves in ``scope["route"]``). No token is
    sent, so no endpoint runs: every /api/v1 route refuses anonymous callers first."""
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(b"host", b"test")], "client": ("127.0.0.1", 1), "server": ("test", 80),
    }  # fmt: skip
    messages: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] in {401, 422}, (method, path, message["status"])

    await app(scope, receive, send)
    return scope.get("route")


async def test_every_api_route_is_the_one_selected_for_its_own_paths(app: FastAPI) -> None:
    wrong = []
    checked = 0
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        template = context.path_format or ""
        if not isinstance(route, APIRoute) or not template.startswith("/api/v1/"):
            continue
        for method in sorted(context.methods or ()):
            path = sample_path(template)
            chosen = await selected_route(app, method, path)
            checked += 1
            if chosen is not route:
                wrong.append(f"{method} {template} is answered by {getattr(chosen, 'path', chosen)}")
    assert checked > 100
    assert not wrong, "\n".join(wrong)
