"""The one-time codes of the authorization-code flow (RFC 6749 §4.1, PKCE S256 only: RFC 7636).

* Only the SHA-256 of a code is stored; a code lives ``authorization_code_ttl_seconds`` (a minute).
* The first attempt uses a code up, right or wrong. Its redemption names the refresh-token family the
  sign-in starts (``refresh_family_id``), before any token of it exists.
* A used code presented again is refused and ends that family (RFC 6749 §4.1.2: the server "SHOULD
  revoke all tokens previously issued based on that authorization code"; RFC 9700 §4.5). Someone other
  than the app redeemed it, or will: the sign-in is not to be trusted. The access token already issued
  is a short-lived JWT and cannot be recalled; its refresh tokens can.
* So a used code is kept as long as its family may live (``spent_codes``), not just a minute.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.domain.base import utcnow
from app.domain.identity.grants import InvalidGrant, hash_token
from app.domain.identity.models import AuthorizationCode, OAuthClient, User
from app.domain.identity.refresh import family_lives, revoke_family
from app.settings import Settings

log = logging.getLogger("app.domain.identity.codes")


def is_valid_code_challenge(challenge: str | None) -> bool:
    return bool(challenge) and CODE_CHALLENGE_PATTERN.match(str(challenge)) is not None


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
    # Spent codes are of no use to anyone: clear them out as new ones are made.
    spent = spent_codes(utcnow()).scalar_subquery()
    await session.execute(delete(AuthorizationCode).where(col(AuthorizationCode.code_hash).in_(spent)))
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
    family_id: uuid.UUID  # the refresh-token family of this sign-in


async def redeem_code(
    session: AsyncSession, *, client: OAuthClient, code: str, redirect_uri: str | None, verifier: str | None
) -> RedeemedCode:
    """Use a code up, whatever happens next: a second attempt, right or wrong, is ``invalid_grant`` and
    ends the refresh tokens the first one obtained."""
    if not verifier or CODE_VERIFIER_PATTERN.match(verifier) is None:
        raise InvalidGrant("A valid code_verifier is required (PKCE S256).")
    code_hash = hash_token(code)
    claimed = await session.execute(
        update(AuthorizationCode)
        .where(col(AuthorizationCode.code_hash) == code_hash, col(AuthorizationCode.used_at).is_(None))
        .values(used_at=utcnow(), refresh_family_id=uuid.uuid4())
        .returning(AuthorizationCode)
    )
    stored = claimed.scalar_one_or_none()
    if stored is None:
        await _end_sign_in_of_replayed(session, code_hash, client)
        raise InvalidGrant("The authorization code is invalid, expired or already used.")
    if stored.expires_at <= utcnow():
        raise InvalidGrant("The authorization code is invalid, expired or already used.")
    if stored.client_id != client.client_id or stored.redirect_uri != redirect_uri:
        raise InvalidGrant("The authorization code was issued to another client or redirect_uri.")
    expected = create_s256_code_challenge(verifier)
    if not hmac.compare_digest(expected.encode(), stored.code_challenge.encode()):
        raise InvalidGrant("The code_verifier does not match the code_challenge.")
    user = await session.get(User, stored.user_id)
    if user is None or not user.active or stored.refresh_family_id is None:
        raise InvalidGrant("The user of this authorization code can no longer sign in.")
    return RedeemedCode(user, set(stored.scope.split()), stored.refresh_family_id)


async def _end_sign_in_of_replayed(session: AsyncSession, code_hash: str, client: OAuthClient) -> None:
    """A used code presented again, by whichever client: the sign-in it started ends. (A concurrent
    first use holds the row until it commits, so its tokens are visible here and end too.)"""
    family_id = await session.scalar(
        select(AuthorizationCode.refresh_family_id).where(
            col(AuthorizationCode.code_hash) == code_hash, col(AuthorizationCode.used_at).is_not(None)
        )
    )
    if family_id is None:
        return
    await revoke_family(session, family_id)
    log.warning(
        "authorization code replayed: its sign-in's refresh tokens revoked",
        extra={"family_id": str(family_id), "client_id": client.client_id},
    )


def spent_codes(now: datetime) -> SelectOfScalar[str]:
    """Hashes of the codes of no further use at ``now``: past their expiry and, if used, with no
    refresh token of their sign-in left to redeem (presented again, a used code must still end it)."""
    return select(AuthorizationCode.code_hash).where(
        col(AuthorizationCode.expires_at) < now,
        ~family_lives(col(AuthorizationCode.refresh_family_id), now),
    )
