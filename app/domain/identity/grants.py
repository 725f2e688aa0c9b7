"""What a token may hold: the scopes and claims for a signed-in person or a machine client.

The token endpoint and the test-suite both mint tokens through these functions, so tests exercise
the real token code. The one-time codes of the authorization-code flow are in ``codes``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.domain.identity.keys import KeyRing
from app.domain.identity.models import OAuthClient, User
from app.domain.identity.tokens import issue_access_token
from app.domain.organisation.models import WorkerTeam
from app.security.scopes import Role, allowed_scopes
from app.settings import Settings


class InvalidScope(Exception):
    """A requested scope is not granted to this client or person (RFC 6749 ``invalid_scope``)."""


def grant_scopes(requested: set[str] | None, permitted: frozenset[str] | set[str]) -> set[str]:
    """The requested scopes if all are permitted; all permitted ones when none are requested."""
    if not requested:
        return set(permitted)
    if not requested <= set(permitted):
        raise InvalidScope("A requested scope is not allowed for this client.")
    return requested


def client_permitted_scopes(client: OAuthClient) -> set[str]:
    role_scopes = {str(s) for s in allowed_scopes(Role(client.role))} if client.role else set()
    return set(client.allowed_scopes) & role_scopes


def user_permitted_scopes(user: User, client: OAuthClient) -> set[str]:
    scopes = {str(s) for s in allowed_scopes(Role(user.role), bsn_read=user.bsn_read)}
    # A public client may further narrow what people can obtain through it.
    return scopes & set(client.allowed_scopes) if client.allowed_scopes else scopes


async def mint_for_client(
    keyring: KeyRing, settings: Settings, client: OAuthClient, requested: set[str] | None
) -> tuple[str, int, set[str]]:
    """Client credentials: the client acts as itself, in its own role."""
    scopes = grant_scopes(requested, client_permitted_scopes(client))
    extra: dict[str, Any] = {}
    if client.organisation_id:
        extra["organisation_id"] = str(client.organisation_id)
    token, ttl = issue_access_token(
        keyring,
        settings,
        subject=client.client_id,
        client_id=client.client_id,
        role=Role(str(client.role)),
        scopes=scopes,
        extra=extra,
    )
    return token, ttl, scopes


async def mint_for_user(
    session: AsyncSession,
    keyring: KeyRing,
    settings: Settings,
    user: User,
    client: OAuthClient,
    requested: set[str] | None,
) -> tuple[str, int, set[str]]:
    """Authorization code: the client acts for a signed-in person, in that person's role."""
    scopes = grant_scopes(requested, user_permitted_scopes(user, client))
    extra: dict[str, Any] = {"user_id": str(user.id), "name": user.display_name}
    if user.worker_id:
        teams = await session.scalars(
            select(WorkerTeam.team_id).where(WorkerTeam.worker_id == user.worker_id)
        )
        extra["worker_id"] = str(user.worker_id)
        extra["teams"] = [str(t) for t in teams]
    token, ttl = issue_access_token(
        keyring,
        settings,
        subject=str(user.id),
        client_id=client.client_id,
        role=Role(user.role),
        scopes=scopes,
        extra=extra,
    )
    return token, ttl, scopes


# -- what codes and refresh tokens share --------------------------------------------------------


class InvalidGrant(Exception):
    """The code or refresh token is unknown, used, expired, for another client, or PKCE fails."""


def hash_token(token: str) -> str:
    """How one-time codes and refresh tokens are stored: high-entropy secrets need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()
