"""Identity tables: the people who sign in, OAuth clients, token signing keys, one-time codes,
refresh tokens and used client assertions. Only hashes of secrets, codes and tokens are stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, string_array, timestamp_now, tz_datetime, uuid_pk
from app.security.scopes import Role


class ClientAuthMethod(StrEnum):
    client_secret_basic = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    private_key_jwt = "private_key_jwt"
    none = "none"  # public clients (the mobile app): PKCE only


class User(SQLModel, table=True):
    """A person who signs in: a worker, resident, privacy officer or administrator."""

    __tablename__ = "users"
    __table_args__ = (one_of("role", Role),)

    id: uuid.UUID = uuid_pk()
    username: str = Field(unique=True, max_length=80)
    password_hash: str | None = Field(default=None, max_length=255)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=24)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id", unique=True)
    bsn_read: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    external_subject: str | None = Field(default=None, unique=True, max_length=255)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = timestamp_now()


class OAuthClient(SQLModel, table=True):
    __tablename__ = "oauth_clients"
    __table_args__ = (one_of("role", Role), one_of("auth_method", ClientAuthMethod))

    id: uuid.UUID = uuid_pk()
    client_id: str = Field(unique=True, max_length=80)
    name: str = Field(max_length=120)
    # Machine clients act as this role; public clients (the app) act for the signed-in person.
    role: str | None = Field(default=None, max_length=24)
    organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="partner_organisations.id", index=True
    )
    auth_method: str = Field(max_length=24)
    secret_hash: str | None = Field(default=None, max_length=255)
    jwks: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    redirect_uris: list[str] = string_array()
    allowed_scopes: list[str] = string_array()
    rate_limit_per_minute: int | None = None
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = timestamp_now()


class SigningKey(SQLModel, table=True):
    """Token signing keys. The private key is stored wrapped with the service's secret key."""

    __tablename__ = "signing_keys"

    kid: str = Field(primary_key=True, max_length=64)
    alg: str = Field(max_length=10)
    private_key_encrypted: str
    public_jwk: dict[str, Any] = Field(sa_type=JSONB)
    created_at: datetime = timestamp_now()
    retired_at: datetime | None = tz_datetime()


class AuthorizationCode(SQLModel, table=True):
    """One-time codes of the authorization-code flow; only a hash of the code is stored."""

    __tablename__ = "authorization_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=80)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    redirect_uri: str
    scope: str
    code_challenge: str = Field(max_length=128)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    used_at: datetime | None = tz_datetime()
    # Set when the code is used: the refresh-token family of that sign-in, which the code presented
    # again revokes (RFC 6749 §4.1.2).
    refresh_family_id: uuid.UUID | None = None
    created_at: datetime = timestamp_now()


class RefreshToken(SQLModel, table=True):
    """One refresh token (its hash); the tokens of one sign-in share ``family_id`` and ``expires_at``."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = uuid_pk()
    token_hash: str = Field(unique=True, max_length=64)
    family_id: uuid.UUID = Field(index=True)
    # The token this one replaced (None for the first of a family).
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="refresh_tokens.id", ondelete="SET NULL")
    client_id: str = Field(foreign_key="oauth_clients.client_id", ondelete="CASCADE", max_length=80)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=24)  # the user's role at sign-in: another role needs a new sign-in
    scope: str
    issued_at: datetime = timestamp_now()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)  # the family's end
    idle_expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    used_at: datetime | None = tz_datetime()
    revoked_at: datetime | None = tz_datetime()


class UsedClientAssertion(SQLModel, table=True):
    """The ``jti`` of every accepted client assertion, kept until the assertion expires."""

    __tablename__ = "oauth_used_assertions"

    client_id: str = Field(primary_key=True, max_length=80)
    jti: str = Field(primary_key=True, max_length=255)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
