"""The public client behind "Authorize" in ``/docs``: people sign in from Swagger UI with the
authorization code flow and PKCE, and are sent back to this service's ``/docs/oauth2-redirect``.

The redirect URI is the issuer's (``wijkwerk serve`` makes that the address it serves on); a demo
served on another address adds that one to the client on its next start.
"""

from __future__ import annotations

from app.api.docs import DOCS_CLIENT_ID, docs_redirect_uri
from app.demo import DemoContext, demo_loader
from app.domain.identity import accounts
from app.domain.identity import repository as identity_repo
from app.domain.identity.rules import check_redirect_uri
from app.domain.identity.schemas import ClientCreate, ClientUpdate
from app.domain.unit_of_work.work import UnitOfWork

# An OAuth client keeps at most this many redirect URIs (app.domain.identity.schemas).
_MAX_REDIRECT_URIS = 10


@demo_loader(order=11)
async def docs_client(uow: UnitOfWork, ctx: DemoContext) -> None:
    redirect = docs_redirect_uri(ctx.settings.issuer)
    if check_redirect_uri(redirect, ("redirect_uri",)):
        return  # an issuer no browser may be sent back to over plain http (not loopback): no client
    client = await identity_repo.client_by_client_id(uow.session, DOCS_CLIENT_ID)
    if client is None:
        data = ClientCreate(
            name="Swagger UI at /docs (demo)", client_id=DOCS_CLIENT_ID, redirect_uris=[redirect]
        )
        client, _ = await accounts.create_client(uow, data, ctx.hasher)
    elif redirect not in client.redirect_uris:
        kept = [redirect, *client.redirect_uris][:_MAX_REDIRECT_URIS]
        client = await accounts.update_client(uow, client.id, ClientUpdate(redirect_uris=kept))
    ctx.clients["docs"] = client.client_id
    ctx.credentials["clients"]["docs"] = {"client_id": client.client_id, "redirect_uri": redirect}
