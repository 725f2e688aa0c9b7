"""A request the service makes of itself, in process: one of a batch the caller sent in one round
trip (``POST /api/v1/sync/edits``), answered by the very route the caller could have called alone.

The sub-request goes through the whole application (middleware, authentication, the route's
dependencies, its own unit of work, Idempotency-Key, problem+json), so an edit in a batch is exactly
the request it stands for: no second code path per kind of edit. It carries the caller's own
credentials; nothing is added to what the caller may do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Message


@dataclass
class SubAnswer:
    """What the route answered: status, headers (lower-case names) and body bytes."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body as JSON (None when empty)."""
        return orjson.loads(self.body) if self.body else None


@dataclass(frozen=True)
class SubRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


async def send_within(request: Request, sub: SubRequest) -> SubAnswer:
    """Send ``sub`` to ``request``'s application, as ``request``'s caller, and collect the answer."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in sub.headers.items()
    ]
    if sub.body:
        headers.append((b"content-length", str(len(sub.body)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": request.scope.get("asgi", {"version": "3.0"}),
        "http_version": request.scope.get("http_version", "1.1"),
        "method": sub.method,
        "scheme": request.scope.get("scheme", "http"),
        "server": request.scope.get("server"),
        "client": request.scope.get("client"),
        "root_path": request.scope.get("root_path", ""),
        "path": sub.path,
        "raw_path": sub.path.encode(),
        "query_string": b"",
        "headers": headers,
    }
    if "state" in request.scope:  # the lifespan's state, as every request of the app sees it
        scope["state"] = dict(request.scope["state"])
    answer = SubAnswer()
    chunks: list[bytes] = []
    sent = False
    answered = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent
        if sent:  # the body was read: the "client" stays until the answer is complete
            await answered.wait()
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": sub.body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    await request.app(scope, receive, send)
    answer.body = b"".join(chunks)
    return answer
