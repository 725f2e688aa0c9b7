"""The floor: a minimal Starlette + asyncpg app answering the two benchmark queries with hand-written SQL.

PostgreSQL builds the whole response (``json_build_object``/``json_agg``) in one statement, byte for
byte the JSON Wijkwerk's GraphQL answer parses to (the runner checks that), as an anonymous caller
sees it: ideas hidden, no private fields. Run: ``FLOOR_DSN=postgresql://... uvicorn bench.graphql.floor:app``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

# One initiative as the GraphQL documents in bench.graphql.queries select it (``i`` is the row).
_THEMES = """COALESCE((SELECT json_agg(json_build_object('code', t.code, 'labelNl', t.label_nl) ORDER BY u.n)
    FROM unnest(i.themes) WITH ORDINALITY AS u(code, n) JOIN themes t ON t.code = u.code AND t.active),
  '[]'::json)"""
_GRANT = """(SELECT json_build_object('decision', upper(g.decision), 'amountCents', g.amount_cents,
    'decidedAt', g.decided_at) FROM initiative_grants g WHERE g.initiative_id = i.id)"""
_COMMON = f"""'id', i.id, 'title', i.title, 'status', upper(i.status),
  'requestedAmountCents', i.requested_cents, 'grantedAmountCents', i.granted_cents,
  'startsOn', i.starts_on, 'endsOn', i.ends_on, 'themes', {_THEMES}, 'grant', {_GRANT}"""

DASHBOARD_SQL = f"""
SELECT json_build_object('data', json_build_object('neighbourhood', (
  SELECT json_build_object('code', a.code, 'name', a.name, 'initiatives', COALESCE((
    SELECT json_agg(json_build_object({_COMMON}, 'network', json_build_object('id', n.id, 'name', n.name))
                    ORDER BY i.created_at DESC, i.id DESC)
    FROM (SELECT * FROM initiatives WHERE buurt_id = a.id AND status <> 'idea'
          ORDER BY created_at DESC, id DESC LIMIT $2) AS i
    JOIN resident_networks n ON n.id = i.network_id), '[]'::json))
  FROM areas a WHERE a.code = $1 AND a.level = 'buurt')))::text
"""

LIST_SQL = f"""
WITH page AS (SELECT * FROM initiatives WHERE status <> 'idea' ORDER BY created_at DESC, id DESC LIMIT $1 + 1)
SELECT json_build_object('data', json_build_object('initiatives', json_build_object(
  'pageInfo', json_build_object('hasNextPage', (SELECT count(*) FROM page) > $1),
  'nodes', COALESCE((
    SELECT json_agg(json_build_object({_COMMON}, 'summary', i.summary,
                      'neighbourhood', json_build_object('code', a.code, 'name', a.name))
                    ORDER BY i.created_at DESC, i.id DESC)
    FROM (SELECT * FROM page ORDER BY created_at DESC, id DESC LIMIT $1) AS i
    JOIN areas a ON a.id = i.buurt_id), '[]'::json))))::text
"""

DASHBOARD_PAGE = 200
LIST_PAGE = 20


async def setup(connection: asyncpg.Connection) -> None:
    await connection.execute("SET TIME ZONE 'UTC'")  # timestamps as Wijkwerk writes them (+00:00)


async def dashboard_json(pool: asyncpg.Pool, code: str) -> str:
    return str(await pool.fetchval(DASHBOARD_SQL, code, DASHBOARD_PAGE))


async def list_json(pool: asyncpg.Pool) -> str:
    return str(await pool.fetchval(LIST_SQL, LIST_PAGE))


async def _dashboard(request: Request) -> Response:
    body = await dashboard_json(request.app.state.pool, request.path_params["code"])
    return Response(body, media_type="application/json")


async def _list(request: Request) -> Response:
    return Response(await list_json(request.app.state.pool), media_type="application/json")


async def _health(_request: Request) -> Response:
    return PlainTextResponse("ok")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=10, max_size=10, init=setup)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/healthz", _health),
        Route("/dashboard/{code}", _dashboard, methods=["POST"]),
        Route("/list", _list, methods=["POST"]),
    ],
    lifespan=lifespan,
)
