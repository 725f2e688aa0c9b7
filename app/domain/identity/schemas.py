"""Create, update and read models of people (users) and machine clients (OAuth clients).

Reads never carry a password or secret hash; a client secret appears once, in ``ClientCredentials``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.domain.identity.models import ClientAuthMethod
from app.domain.identity.rules import MIN_PASSWORD_LENGTH
from app.domain.inputs import Flag, WholeNumber
from app.domain.organisation.schemas import Input, Name, Output
from app.domain.text import SingleLine
from app.security.scopes import Role

ScopeName = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z_]+(:[a-z_]+)?$")]
RedirectUri = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[\x21-\x7e]+$")]
Subject = Annotated[SingleLine, StringConstraints(min_length=1, max_length=255)]
# Typed on a keyboard: a control character in a password is a mistake (and a tab would move focus).
# The service refuses a shorter one (rules.check_password, rule password_too_short); stated here.
Password = Annotated[
    SingleLine, StringConstraints(max_length=256), Field(json_schema_extra={"minLength": MIN_PASSWORD_LENGTH})
]


# -- OAuth clients ---------------------------------------------------------------------------------


class ClientCreate(Input):
    name: Name = Field(examples=["Schuldhulp referral gateway"])
    role: Role | None = Field(
        default=None, description="partner or analyst for machine clients; null for a public app (PKCE)."
    )
    client_id: str | None = Field(
        default=None,
        max_length=80,
        pattern=r"^[a-z0-9][a-z0-9._-]{2,79}$",
        description="Chosen by the server when omitted.",
    )
    organisation_id: uuid.UUID | None = Field(default=None, description="Required for partner clients.")
    auth_method: ClientAuthMethod | None = Field(
        default=None,
        description="Defaults to none (public), private_key_jwt (with jwks) or client_secret_basic.",
    )
    allowed_scopes: list[ScopeName] | None = Field(
        default=None, max_length=20, description="Defaults to every scope of the role."
    )
    redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=10)
    jwks: dict[str, Any] | None = Field(default=None, description="Public keys for private_key_jwt.")
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=100_000), WholeNumber] | None = None


class ClientUpdate(Input):
    name: Name | None = None
    allowed_scopes: list[ScopeName] | None = Field(default=None, max_length=20)
    redirect_uris: list[RedirectUri] | None = Field(default=None, max_length=10)
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=100_000), WholeNumber] | None = None
    active: Flag | None = None


class ClientJwks(Input):
    jwks: dict[str, Any] = Field(description="A JWK Set of the client's public signing keys.")


class ClientRead(Output):
    id: uuid.UUID
    client_id: str
    name: str
    role: Role | None
    organisation_id: uuid.UUID | None
    auth_method: ClientAuthMethod
    allowed_scopes: list[str]
    redirect_uris: list[str]
    jwks: dict[str, Any] | None
    rate_limit_per_minute: int | None
    active: bool
    created_at: datetime


class ClientCredentials(ClientRead):
    """Returned once, on creation or rotation: the secret is stored only as an argon2 hash."""

    client_secret: str | None = Field(
        default=None, description="Shown once; store it now. Null for public and private_key_jwt clients."
    )


# -- users -----------------------------------------------------------------------------------------


class UserCreate(Input):
    username: str = Field(max_length=80, pattern=r"^[a-z0-9][a-z0-9._-]{1,79}$", examples=["j.devries"])
    display_name: Name
    role: Role
    worker_id: uuid.UUID | None = None
    bsn_read: Flag = Field(default=False, description="Only for generalists and team leads.")
    external_subject: Subject | None = Field(
        default=None, description="The person's subject at the municipality IdP."
    )
    password: Password | None = Field(
        default=None, description="At least 12 characters; omit for people who sign in through the IdP."
    )
    active: Flag = True


class UserUpdate(Input):
    display_name: Name | None = None
    role: Role | None = None
    worker_id: uuid.UUID | None = None
    bsn_read: Flag | None = None
    external_subject: Subject | None = None
    password: Password | None = None
    active: Flag | None = None


class UserRead(Output):
    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    worker_id: uuid.UUID | None
    bsn_read: bool
    external_subject: str | None
    has_password: bool = False
    active: bool
    created_at: datetime
