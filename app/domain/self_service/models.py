"""Self-service tables: the activation codes coordinators hand household members.

The switches themselves live on the household and member rows (``households.self_service``,
``members.self_service``) and the accounts in ``users`` (bound to a member by ``member_id``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import timestamp_now, tz_datetime, uuid_pk


class ActivationCode(SQLModel, table=True):
    """A one-time code with which a household member sets the password of their account (the built-in
    sign-in; DigiD through the municipality's broker needs none). Shown once to the coordinator who
    made it; only a keyed hash is stored. A newer code for the same account, or switching
    self-service off, revokes it."""

    __tablename__ = "self_service_activation_codes"
    __table_args__ = (sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: uuid.UUID = uuid_pk()
    code_hash: str = Field(unique=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_by_worker_id: uuid.UUID | None = Field(default=None, foreign_key="workers.id")
    created_at: datetime = timestamp_now()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    used_at: datetime | None = tz_datetime()
    revoked_at: datetime | None = tz_datetime()
