"""``/docs`` works offline and its "Authorize" signs a person in (issue 11, item 12)."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from app.api.docs import DOCS_CLIENT_ID, docs_redirect_uri
from app.demo import DemoContext
from app.demo.docs_client import docs_client
from app.domain.identity import repository as identity_repo
from app.domain.unit_of_work.work import unit_of_work
from tests.auth.helpers import Pkce, hidden_fields, query_of
from tests.factories import PASSWORD

# Every URL the page names: attributes, and the quoted paths its script hands to Swagger UI.
_URLS = re.compile(r"""(?:href|src)="([^"]+)"|(?:url|oauth2RedirectUrl):[^'\n]*'([^']+)'""")


async def test_the_docs_page_loads_nothing_from_another_host(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    urls = [a or b for a, b in _URLS.findall(page.text)]
    assert len(urls) >= 4, urls  # stylesheet, icon, script, the contract, the OAuth redirect page
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        assert (await client.get(url)).status_code == 200, url
    assert "cdn" not in page.text and "validator.swagger.io" not in page.text
    assert "'/openapi.json'" in page.text


async def test_the_docs_page_signs_in_as_the_registered_public_client(
    client: httpx.AsyncClient, app: FastAPI, world: Any
) -> None:
    # As `wijkwerk serve --demo` runs it: the issuer is the address served on.
    settings = app.state.settings.model_copy(update={"issuer": "http://127.0.0.1:8000"})
    async with unit_of_work(app.state.db, app.state.wiring) as uow:
        await docs_client(uow, DemoContext(settings=settings, hasher=app.state.secret_hasher))
    async with app.state.db.transaction() as session:
        registered = await identity_repo.client_by_client_id(session, DOCS_CLIENT_ID)
    redirect = docs_redirect_uri(settings.issuer)
    assert registered is not None and redirect in registered.redirect_uris
    assert (await client.get("/docs")).text.count(DOCS_CLIENT_ID) == 1  # Swagger UI's initOAuth

    # What Swagger UI does on "Authorize": the login page, the redirect back, the code for tokens.
    pkce, state = Pkce.new(), secrets.token_urlsafe(8)
    params = {
        "response_type": "code",
        "client_id": DOCS_CLIENT_ID,
        "redirect_uri": redirect,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text) | {
        "username": world.people["generalist_a"].username,
        "password": PASSWORD,
    }
    back = await client.post("/oauth/authorize", data=form)
    assert back.status_code == 302 and back.headers["location"].startswith(redirect + "?")
    code = query_of(back.headers["location"])["code"]
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": DOCS_CLIENT_ID,
            "code_verifier": pkce.verifier,
        },
    )
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    households = await client.get("/api/v1/households", headers={"Authorization": f"Bearer {access}"})
    assert households.status_code == 200
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200
