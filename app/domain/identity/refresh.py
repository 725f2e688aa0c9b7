"""Refresh tokens for people's apps (RFC 6749 §6, OAuth 2.0 Security BCP RFC 9700 §2.2.2 and §4.14).

* Issued with the authorization-code grant to people's clients only (no role, registered redirect URIs:
  the clients that may use that grant, all public). Never with client credentials: a machine client
  simply authenticates again.
* Opaque, 256 random bits; only the SHA-256 is stored (as for the one-time codes), so a copy of the
  table signs nobody in. Tokens and their hashes are never logged.
* Rotated on every use: a refresh answers a new refresh token and marks the presented one used. The
  tokens of one sign-in form a *family*. A used token presented again (a thief's copy, or the app's own
  stale one: the server cannot tell which) revokes the whole family, the newest token included.
* A family ends ``refresh_token_ttl_seconds`` after the sign-in whatever happens (a working day by
  default), and earlier when none of its tokens was used for ``refresh_token_idle_seconds``.
* Each refresh reads the user again: deactivated, or in another role than at sign-in, ends the family;
  the scopes are those the user may hold *now* (``bsn:read`` withdrawn is gone at the next refresh),
  and ``mint_for_user`` reads the worker's teams afresh.
* Revocation (RFC 7009) ends the family; deactivating a user ends all of theirs. Ended families are
  deleted by the retention purge (``wijkwerk purge``, category ``refresh_tokens``): see ``ended_tokens``.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.domain.base import utcnow
from app.domain.identity.grants import InvalidGrant, InvalidScope, hash_token, user_permitted_scopes
from app.domain.identity.models import OAuthClient, RefreshToken, User
from app.security.scopes import PERSON_ROLES
from app.settings import Settings

log = logging.getLogger("app.domain.identity.refresh")

_REFUSED = "The refresh token is invalid, expired or revoked."


def may_refresh(client: OAuthClient) -> bool:
    """People's clients (the ones that use the authorization-code grant) get refresh tokens."""
    return client.role is None and bool(client.redirect_uris)


async def issue_refresh_token(
    session: AsyncSession,
    settings: Settings,
    *,
    client: OAuthClient,
    user: User,
    scopes: set[str],
    family: uuid.UUID | RefreshToken,
) -> str:
    """A new refresh token: the first of the sign-in's family (its id named when the code was used), or
    the successor of the presented token."""
    now = utcnow()
    if isinstance(family, RefreshToken):
        parent: RefreshToken | None = family
        family_id, expires = family.family_id, family.expires_at
    else:
        parent, family_id = None, family
        expires = now + timedelta(seconds=settings.refresh_token_ttl_seconds)
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=hash_token(token),
            family_id=family_id,
            parent_id=parent.id if parent else None,
            client_id=client.client_id,
            user_id=user.id,
            role=user.role,
            scope=" ".join(sorted(scopes)),
            expires_at=expires,
            idle_expires_at=min(expires, now + timedelta(seconds=settings.refresh_token_idle_seconds)),
        )
    )
    await session.flush()
    return token


@dataclass(frozen=True)
class Redeemed:
    user: User
    scopes: set[str]  # for the new access token
    keep: set[str]  # for the next refresh token: the family's scopes the user may still hold
    token: RefreshToken  # the presented token, now used: the parent of the next one


async def redeem_refresh_token(
    session: AsyncSession, *, client: OAuthClient, token: str, requested: set[str]
) -> Redeemed:
    """Check and use up a refresh token. InvalidGrant (family revoked where it says so) or InvalidScope
    (the token stays usable: a bad request does not end the session)."""
    found = await session.execute(
        select(RefreshToken).where(col(RefreshToken.token_hash) == hash_token(token)).with_for_update()
    )
    stored = found.scalar_one_or_none()
    if stored is None or stored.client_id != client.client_id or stored.revoked_at is not None:
        raise InvalidGrant(_REFUSED)
    if stored.used_at is not None:
        await revoke_family(session, stored.family_id)
        log.warning(
            "refresh token reused: family revoked",
            extra={"family_id": str(stored.family_id), "client_id": client.client_id},
        )
        raise InvalidGrant(_REFUSED)
    now = utcnow()
    if now >= stored.expires_at or now >= stored.idle_expires_at:
        raise InvalidGrant(_REFUSED)
    granted = set(stored.scope.split())
    if not requested <= granted:  # RFC 6749 §6: narrower or equal, never wider
        raise InvalidScope("A requested scope was not granted at sign-in.")
    user = await session.get(User, stored.user_id)
    keep = _still_permitted(user, stored, client, granted)
    if user is None or not keep:
        await revoke_family(session, stored.family_id)
        raise InvalidGrant("The user can no longer sign in with this refresh token.")
    scopes = requested & keep if requested else keep
    if not scopes:
        raise InvalidScope("The requested scopes are no longer available to this user.")
    stored.used_at = now
    await session.flush()
    return Redeemed(user, scopes, keep, stored)


def _still_permitted(
    user: User | None, stored: RefreshToken, client: OAuthClient, granted: set[str]
) -> set[str]:
    """The granted scopes the user may hold now; none when they are inactive or changed role."""
    if user is None or not user.active or user.role != stored.role or user.role not in PERSON_ROLES:
        return set()
    return granted & user_permitted_scopes(user, client)


async def revoke_refresh_token(session: AsyncSession, client: OAuthClient, token: str) -> None:
    """RFC 7009: end the token's family. Unknown tokens and other clients' tokens change nothing."""
    found = await session.execute(
        select(RefreshToken.family_id, RefreshToken.client_id).where(
            col(RefreshToken.token_hash) == hash_token(token)
        )
    )
    row = found.first()
    if row is not None and row.client_id == client.client_id:
        await revoke_family(session, row.family_id)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_user_refresh_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """End every session of a user (deactivated): their apps must sign in again."""
    await session.execute(
        sa.update(RefreshToken)
        .where(
            col(RefreshToken.user_id) == user_id,
            col(RefreshToken.revoked_at).is_(None),
            col(RefreshToken.expires_at) > utcnow(),
        )
        .values(revoked_at=utcnow())
    )


def family_lives(family_id: Mapped[Any], now: datetime) -> sa.Exists:
    """Whether a token of the family ``family_id`` (a column of the outer query) could still be redeemed
    at ``now``: one that is neither used nor revoked, nor past the family's end or its idle end. An
    ended family never revives (new tokens come only from redeeming a live one)."""
    live = aliased(RefreshToken)
    return (
        select(live.id)
        .where(
            col(live.family_id) == family_id,
            col(live.used_at).is_(None),
            col(live.revoked_at).is_(None),
            col(live.expires_at) > now,
            col(live.idle_expires_at) > now,
        )
        .exists()
    )


def ended_tokens(now: datetime) -> SelectOfScalar[uuid.UUID]:
    """Ids of the tokens whose family has ended at ``now``. A used token of a *live* family is kept:
    presented again, it must still revoke the family. Deleting an ended family changes no answer."""
    return select(RefreshToken.id).where(~family_lives(col(RefreshToken.family_id), now))
