"""The neighbourhood dashboard under /wijk/: HTML shells, one small ES module and a stylesheet.

The pages hold no data: the module fetches it in the browser from GET /graphql with the persisted
queries of ``app/graphql/persisted/wijk_*.graphql`` (served here as plain text), so a page shows
exactly what an anonymous GraphQL caller gets. Everything a page loads comes from this host, under a
strict Content-Security-Policy (no inline script or style, no other origin).

Without JavaScript a shell says so in Dutch and links to what still works: the page's own data as
JSON (the same persisted query by GET, its hash and variables in the address) and the query's text.
That link is the one thing filled in per request.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from html import escape
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
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
ASSETS = {
    "wijk.js": "text/javascript",
    "wijk.css": "text/css",
    "zonder-js.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
QUERY_NAMES = {"wijk_overview", "wijk_buurt", "wijk_initiative"}
BUURT_CODE = re.compile(r"BU\d{8}")
INITIATIVE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _page(name: str, data_url: str) -> Response:
    shell = (FILES / f"{name}.html").read_text(encoding="utf-8")
    return HTMLResponse(shell.replace("{{gegevens}}", escape(data_url)), headers=PAGE_HEADERS)


def _query_hash(name: str) -> str:
    return hashlib.sha256((QUERIES / f"{name}.graphql").read_bytes()).hexdigest()


def data_url(name: str, variables: dict[str, object]) -> str:
    """GET /graphql for the persisted query ``name``: what the page's module asks, as an address."""
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": _query_hash(name)}}
    params = {"variables": json.dumps(variables), "extensions": json.dumps(persisted)}
    return "/graphql?" + urlencode(params)


def last_finished_quarters(today: date) -> list[str]:
    """The quarters a buurt page shows (wijk.js ``lastQuarters``): the last four finished, oldest first."""
    year, quarter = today.year, (today.month - 1) // 3
    found: list[str] = []
    while len(found) < 4:
        if quarter == 0:
            year, quarter = year - 1, 4
        found.insert(0, f"{year}-Q{quarter}")
        quarter -= 1
    return found


def buurt_variables(code: str, today: date) -> dict[str, object]:
    quarters = dict(zip(("q1", "q2", "q3", "q4"), last_finished_quarters(today), strict=True))
    return {"code": code, "year": today.year, **quarters}


def _not_found() -> Response:
    return PlainTextResponse("Niet gevonden.", status_code=404, headers=PAGE_HEADERS)


async def overview(request: Request) -> Response:
    return _page("overzicht", data_url("wijk_overview", {}))


async def buurt(request: Request) -> Response:
    code = request.path_params["code"]
    if not BUURT_CODE.fullmatch(code):
        return _not_found()
    return _page("buurt", data_url("wijk_buurt", buurt_variables(code, date.today())))


async def initiative(request: Request) -> Response:
    initiative_id = request.path_params["id"]
    if not INITIATIVE_ID.fullmatch(initiative_id):
        return _not_found()
    return _page("initiatief", data_url("wijk_initiative", {"id": initiative_id}))


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
