"""HEAD on every path that answers GET (RFC 9110 §9.3.2; NL GOV API Design Rules /core/http-methods).

FastAPI's routes answer only the methods they declare, so HEAD on a GET operation would be a 405. This
pure ASGI middleware hands a HEAD request on as a GET and sends the GET's status and headers
(``Content-Length`` and ``ETag`` included) without its body. Where GET is not allowed, HEAD is not
either: the 405 names the methods the path has.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            if "route" in as_get:  # the matched route, for the metrics and access line outside
                scope["route"] = as_get["route"]
