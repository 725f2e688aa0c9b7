"""Shared column helpers for every context's tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic autogenerate and hand-written migrations agree.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


def table_of(model: type[SQLModel]) -> sa.Table:
    """The table of a model (SQLModel declares ``__table__`` without a type)."""
    return metadata.tables[str(model.__tablename__)]


class Clock:
    """The domain's one clock: what every service means by "now" (UTC). It is real time, unless it is
    moved: a test walks one case from intake to closing through months of worklists with it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    @contextmanager
    def moved(self, by: timedelta) -> Iterator[None]:
        """Run the block ``by`` later than real time (cumulative when nested)."""
        self.offset += by
        try:
            yield
        finally:
            self.offset -= by


CLOCK = Clock()


def utcnow() -> datetime:
    return CLOCK.now()


def iso_timestamp(moment: datetime) -> str:
    """A timestamp as the API writes it everywhere (REST, GraphQL, webhooks, exports): UTC with ``Z``,
    microseconds only when there are any, i.e. as pydantic writes a UTC datetime. The read model's
    SQL writes the same format (``readmodel.sql.iso_utc``)."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def uuid7(millis: int, rand_a: int, rand_b: int) -> uuid.UUID:
    """RFC 9562's version 7 layout: 48 bits of milliseconds since the epoch, the version, 12 bits
    ``rand_a``, the variant, 62 bits ``rand_b``. Ids of later milliseconds sort after earlier ones, so
    an index by id grows at its end instead of at random leaves."""
    return uuid.UUID(int=(millis << 80) | (7 << 76) | (rand_a << 64) | (2 << 62) | rand_b)


def uuid_pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def timestamp_now() -> Any:
    return Field(
        default_factory=utcnow,
        sa_column_kwargs={"server_default": sa.func.now(), "nullable": False},
        sa_type=sa.DateTime(timezone=True),
    )


def tz_datetime(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        nullable=nullable,
        index=index,
        sa_type=sa.DateTime(timezone=True),
    )


def string_array() -> Any:
    return Field(
        default_factory=list,
        sa_column_kwargs={"nullable": False, "server_default": "{}"},
        sa_type=sa.ARRAY(sa.String()),
    )


def one_of(column: str, values: Any) -> sa.CheckConstraint:
    """A CHECK that ``column`` holds one of an enum's values (named ``<column>_allowed``)."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")
