"""The floor of the directory search: a minimal Starlette + raw asyncpg app sending, per request, the
very statements Wijkwerk sent for the same search (captured in process by the runner, driver level,
without pool pings), each on its own as the app sends them (the app reads without a transaction).
Wijkwerk's search is one statement whose row carries the page's JSON made by PostgreSQL (``items``):
the floor answers it as the app does (one orjson pass, the ``items``/``next_cursor`` envelope); the
rows of any other statement as JSON (orjson). No token check, no middleware, no response model.

    FLOOR_DSN=postgresql://... FLOOR_SCRIPT=<pickle> uvicorn bench.directory.floor:app
"""

from __future__ import annotations

import os
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

Script = dict[str, list[tuple[str, tuple[Any, ...]]]]  # path with query -> the app's statements


class Floor:
    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        path = os.environ.get("FLOOR_SCRIPT")
        self.script: Script = pickle.loads(open(path, "rb").read()) if path else {}  # noqa: S301, SIM115 - ours

    async def search(self, request: Request) -> Response:
        calls = self.script.get(f"{request.url.path}?{request.url.query}")
        if calls is None:
            return PlainTextResponse("no script for this search", status_code=404)
        assert self.pool is not None
        answers = []
        async with self.pool.acquire() as connection:
            for sql, args in calls:
                answers.append([dict(row) for row in await connection.fetch(sql, *args)])
        if len(answers) == 1 and len(answers[0]) == 1 and "items" in answers[0][0]:
            items = orjson.dumps(orjson.loads(answers[0][0]["items"]))
            return Response(b'{"items":' + items + b',"next_cursor":null}', media_type="application/json")
        return Response(orjson.dumps(answers, default=str), media_type="application/json")


floor = Floor()


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    size = int(os.environ.get("FLOOR_POOL", "10"))
    floor.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=size, max_size=size)
    try:
        yield
    finally:
        await floor.pool.close()


app = Starlette(
    routes=[Route("/healthz", healthz), Route("/api/v1/directory/services", floor.search)],
    lifespan=lifespan,
)
