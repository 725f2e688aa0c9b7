"""Organisation context tables: municipality, areas, teams, workers, partners, people and OAuth clients."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.auth.scopes import Role
from app.domain.base import one_of, string_array, timestamp_now, tz_datetime, uuid_pk


class AreaLevel(StrEnum):
    wijk = "wijk"
    buurt = "buurt"


class PartnerKind(StrEnum):
    gp = "gp"
    housing = "housing"
    school = "school"
    debt_help = "debt_help"
    youth_care = "youth_care"
    mental_health = "mental_health"
    welfare = "welfare"
    police = "police"
    other = "other"


class WorkerRole(StrEnum):
    generalist = "generalist"
    team_lead = "team_lead"


class ClientAuthMethod(StrEnum):
    client_secret_basic = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    private_key_jwt = "private_key_jwt"
    none = "none"  # public clients (the mobile app): PKCE only


class Municipality(SQLModel, table=True):
    __tablename__ = "municipalities"

    id: uuid.UUID = uuid_pk()
    code: str = Field(unique=True, max_length=6)  # GM + 4 digits
    name: str = Field(max_length=120)
    created_at: datetime = timestamp_now()


class Area(SQLModel, table=True):
    """A wijk (district, WK + 6 digits) or a buurt (neighbourhood, BU + 8 digits) inside a wijk."""

    __tablename__ = "areas"
    __table_args__ = (one_of("level", AreaLevel),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id", index=True)
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="areas.id", index=True)
    code: str = Field(unique=True, max_length=10)
    name: str = Field(max_length=120)
    level: str = Field(max_length=8)
    created_at: datetime = timestamp_now()


class Team(SQLModel, table=True):
    __tablename__ = "teams"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipalities.id", index=True)
    name: str = Field(max_length=120)
    created_at: datetime = timestamp_now()


class TeamArea(SQLModel, table=True):
    """The buurten a team covers; a buurt belongs to at most one team (routing is unambiguous)."""

    __tablename__ = "team_areas"

    team_id: uuid.UUID = Field(foreign_key="teams.id", primary_key=True, ondelete="CASCADE")
    area_id: uuid.UUID = Field(foreign_key="areas.id", primary_key=True, unique=True)


class Worker(SQLModel, table=True):
    __tablename__ = "workers"
    __table_args__ = (one_of("role", WorkerRole),)

    id: uuid.UUID = uuid_pk()
    name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254)
    role: str = Field(max_length=20)
    specialisms: list[str] = string_array()
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = timestamp_now()


class WorkerTeam(SQLModel, table=True):
    __tablename__ = "worker_teams"

    worker_id: uuid.UUID = Field(foreign_key="workers.id", primary_key=True, ondelete="CASCADE")
    team_id: uuid.UUID = Field(foreign_key="teams.id", primary_key=True, index=True, ondelete="CASCADE")


class PartnerOrganisation(SQLModel, table=True):
    __tablename__ = "partner_organisations"
    __table_args__ = (one_of("kind", PartnerKind),)

    id: uuid.UUID = uuid_pk()
    name: str = Field(max_length=160)
    kind: str = Field(max_length=20)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = timestamp_now()


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
    created_at: datetime = timestamp_now()
