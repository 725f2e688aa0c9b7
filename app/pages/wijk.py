"""The neighbourhood dashboard under /wijk/: static HTML shells, one small ES module and a stylesheet.

The pages hold no data: the module fetches it in the browser from POST /graphql with the persisted
queries of ``app/graphql/persisted/wijk_*.graphql`` (served here as plain text), so a page shows
exactly what an anonymous GraphQL caller gets. Everything a page loads comes from this host, under a
strict Content-Security-Policy (no inline script or style, no other origin).
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

FILES = Path(__file__).parent / "wijk_files"
# The queries live with the schema they are checked against (the allowlist of persisted queries).
QUERIES = Path(__file__).parent.parent / "graphql" / "persisted"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Shells and assets change only with a release; a short public cache spares repeat visits.
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "public, max-age=300",
    "Referrer-Policy": "no-referrer",
}
ASSETS = {"wijk.js": "text/javascript", "wijk.css": "text/css", "favicon.svg": "image/svg+xml"}
QUERY_NAMES = {"wijk_overview", "wijk_buurt", "wijk_initiative"}
BUURT_CODE = re.compile(r"BU\d{8}")
INITIATIVE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _page(name: str) -> Response:
    return FileResponse(FILES / f"{name}.html", media_type="text/html", headers=PAGE_HEADERS)


def _not_found() -> Response:
    return PlainTextResponse("Niet gevonden.", status_code=404, headers=PAGE_HEADERS)


async def overview(request: Request) -> Response:
    return _page("overzicht")


async def buurt(request: Request) -> Response:
    code = request.path_params["code"]
    return _page("buurt") if BUURT_CODE.fullmatch(code) else _not_found()


async def initiative(request: Request) -> Response:
    initiative_id = request.path_params["id"]
    return _page("initiatief") if INITIATIVE_ID.fullmatch(initiative_id) else _not_found()


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return _not_found()
    return FileResponse(FILES / name, media_type=ASSETS[name], headers=PAGE_HEADERS)


async def query(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in QUERY_NAMES:
        return _not_found()
    text = (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")
    return PlainTextResponse(text, headers=PAGE_HEADERS)


def wijk_pages() -> Starlette:
    """The /wijk/ pages as an app to mount at /wijk (GET and HEAD only; nothing to log in to)."""
    return Starlette(
        routes=[
            Route("/", overview, methods=["GET"]),
            Route("/buurt/{code}", buurt, methods=["GET"]),
            Route("/initiatief/{id}", initiative, methods=["GET"]),
            Route("/static/{name}", asset, methods=["GET"]),
            Route("/queries/{name}.graphql", query, methods=["GET"]),
        ]
    )
