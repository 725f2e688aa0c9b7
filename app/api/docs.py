"""``/docs``: Swagger UI over ``/openapi.json``, served by the service itself (development and demo).

The page loads nothing from another host, so it works offline and behind a strict proxy: Swagger UI's
files come from the ``swagger-ui-bundle-v2`` package (``swagger_ui_path``) under ``/docs/assets``,
and the public validator badge (a request to swagger.io) is off.

"Authorize" signs a person in with the authorization code flow and PKCE, as the public client
``DOCS_CLIENT_ID``, whose redirect URI is this service's ``/docs/oauth2-redirect``
(``docs_redirect_uri``). The demo registers that client (app/demo/docs_client.py); elsewhere an admin
registers a public client with that id and redirect URI.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
DOCS_CLIENT_ID = "wijkwerk_docs"
_ASSETS = f"{DOCS_PATH}/assets"
_REDIRECT = f"{DOCS_PATH}/oauth2-redirect"


def docs_redirect_uri(public_url: str) -> str:
    """Where the authorization server sends a person back to Swagger UI on ``public_url``."""
    return public_url.rstrip("/") + _REDIRECT


def mount_docs(app: FastAPI, *, openapi_url: str) -> None:
    """Add ``/docs``, its OAuth redirect page and its assets to ``app``."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{_ASSETS}/favicon-32x32.png",
        oauth2_redirect_url=_REDIRECT,
        init_oauth={"clientId": DOCS_CLIENT_ID, "usePkceWithAuthorizationCodeGrant": True},
        # No validator badge: it sends the document's address to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    redirect = get_swagger_ui_oauth2_redirect_html()

    async def docs() -> HTMLResponse:
        return HTMLResponse(page.body)

    async def oauth2_redirect() -> HTMLResponse:
        return HTMLResponse(redirect.body)

    app.add_api_route(DOCS_PATH, docs, methods=["GET"], include_in_schema=False)
    app.add_api_route(_REDIRECT, oauth2_redirect, methods=["GET"], include_in_schema=False)
    app.mount(_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
