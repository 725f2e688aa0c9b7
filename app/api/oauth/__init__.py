"""The built-in OAuth 2 authorization server, in the HTTP layer: token, login page, discovery.

``router`` gathers its endpoints; the identity context (app/domain/identity) stores and checks what
they hand out.
"""

from fastapi import APIRouter

from app.api.oauth import activate, authorize, discovery, token

router = APIRouter()
for module in (token, authorize, activate, discovery):
    router.include_router(module.router)
