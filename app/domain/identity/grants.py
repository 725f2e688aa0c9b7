"""What a token may hold: the scopes and claims for a signed-in person or a machine client.

The token endpoint and the test-suite both mint tokens through these functions, so tests exercise
the real token code. Also here: the one-time codes of the authorization-code flow (PKCE S256 only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.base import utcnow
from app.domain.identity.keys import KeyRing
from app.domain.identity.models import AuthorizationCode, OAuthClient, User
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
    if user.member_id and user.household_id:  # a household member: the member the sign-in is bound to
        extra["member_id"] = str(user.member_id)
        extra["household_id"] = str(user.household_id)
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


# -- authorization codes -------------------------------------------------------------------------


class InvalidGrant(Exception):
    """The code is unknown, used, expired, for another client or redirect URI, or PKCE fails."""


def is_valid_code_challenge(challenge: str | None) -> bool:
    return bool(challenge) and CODE_CHALLENGE_PATTERN.match(str(challenge)) is not None


def hash_token(token: str) -> str:
    """How one-time codes and refresh tokens are stored: high-entropy secrets need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_code(
    session: AsyncSession,
    settings: Settings,
    *,
    client: OAuthClient,
    user: User,
    redirect_uri: str,
    scopes: set[str],
    code_challenge: str,
) -> str:
    """A one-time code for ``user``; only its hash is stored, and it lives for a minute or so."""
    # Expired codes are of no use to anyone: clear them out as new ones are made.
    await session.execute(delete(AuthorizationCode).where(col(AuthorizationCode.expires_at) < utcnow()))
    code = secrets.token_urlsafe(32)
    session.add(
        AuthorizationCode(
            code_hash=hash_token(code),
            client_id=client.client_id,
            user_id=user.id,
            redirect_uri=redirect_uri,
            scope=" ".join(sorted(scopes)),
            code_challenge=code_challenge,
            expires_at=utcnow() + timedelta(seconds=settings.authorization_code_ttl_seconds),
        )
    )
    await session.flush()
    return code


@dataclass(frozen=True)
class RedeemedCode:
    user: User
    scopes: set[str]


async def redeem_code(
    session: AsyncSession, *, client: OAuthClient, code: str, redirect_uri: str | None, verifier: str | None
) -> RedeemedCode:
    """Use a code up, whatever happens next: a second attempt, right or wrong, is ``invalid_grant``."""
    if not verifier or CODE_VERIFIER_PATTERN.match(verifier) is None:
        raise InvalidGrant("A valid code_verifier is required (PKCE S256).")
    claimed = await session.execute(
        update(AuthorizationCode)
        .where(
            col(AuthorizationCode.code_hash) == hash_token(code),
            col(AuthorizationCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
        .returning(AuthorizationCode)
    )
    stored = claimed.scalar_one_or_none()
    if stored is None or stored.expires_at <= utcnow():
        raise InvalidGrant("The authorization code is invalid, expired or already used.")
    if stored.client_id != client.client_id or stored.redirect_uri != redirect_uri:
        raise InvalidGrant("The authorization code was issued to another client or redirect_uri.")
    expected = create_s256_code_challenge(verifier)
    if not hmac.compare_digest(expected.encode(), stored.code_challenge.encode()):
        raise InvalidGrant("The code_verifier does not match the code_challenge.")
    user = await session.get(User, stored.user_id)
    if user is None or not user.active:
        raise InvalidGrant("The user of this authorization code can no longer sign in.")
    return RedeemedCode(user, set(stored.scope.split()))
