"""The access log (NEN 7513 style): the table, and the typed entry a unit of work collects.

Every read and write of case data, denied attempts included, leaves one row: when, who, on behalf
of which client or organisation, which household and person, what, why, with what outcome, and the
request id. The table is append-only: a trigger (migration 0001) refuses UPDATE, DELETE and
TRUNCATE, so the application's own database role cannot rewrite history. It is range-partitioned by
month of ``occurred_at`` (migration 0180, ``partitions.py``): the triggers hold on every partition, and
retention removes a whole month past its term by detaching its partition, never row by row.

Entries are written by the unit of work: queued during the work and inserted with it, or, where a
hot path needs one round trip, by the very statement that does the work (``inline_cte``).

An entry's id is time-ordered (``ordered_id``, and ``ORDERED_ID_SQL`` for the rows a statement makes):
each new row goes to the right-hand end of the primary key's index, as the other indexes by time do,
instead of to a random leaf of an index of millions of rows (60 rows of a worklist page took twice as
long to insert into a log of 3 million rows with random ids: 1.2-1.6 against 0.6-0.7 ms).
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.base import one_of, table_of, utcnow, uuid7, uuid_pk
from app.domain.text import storable


class AccessAction(StrEnum):
    read = "read"
    list = "list"
    search = "search"
    create = "create"
    update = "update"
    delete = "delete"
    export = "export"
    break_glass = "break_glass"
    assign = "assign"
    sync = "sync"


class AccessOutcome(StrEnum):
    allowed = "allowed"
    denied = "denied"  # the caller was refused (the object may or may not exist)
    failed = "failed"  # allowed, but the request broke a rule and changed nothing


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"
    __table_args__ = (
        one_of("action", AccessAction),
        one_of("outcome", AccessOutcome),
        sa.Index("ix_access_log_occurred_at", "occurred_at"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: uuid.UUID = uuid_pk()
    # The partition key, so part of the primary key (PostgreSQL requires it of a partitioned table).
    occurred_at: datetime = Field(
        default_factory=utcnow,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.func.now()},
        sa_type=sa.DateTime(timezone=True),
    )
    actor_subject: str = Field(max_length=255, index=True)
    actor_role: str = Field(max_length=24)
    actor_worker_id: uuid.UUID | None = Field(default=None, index=True)
    client_id: str = Field(max_length=80)  # on whose behalf: the app or machine client used
    organisation_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = Field(default=None, index=True)
    person_id: uuid.UUID | None = Field(default=None, index=True)
    resource: str = Field(max_length=40)  # e.g. household, member, plan, contact_moment, referral
    resource_id: uuid.UUID | None = None
    action: str = Field(max_length=16)
    purpose: str = Field(max_length=80)
    outcome: str = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=500)  # break-glass justification
    request_id: str | None = Field(default=None, max_length=64)


def ordered_id() -> uuid.UUID:
    """A time-ordered id (the layout of RFC 9562's version 7): milliseconds since the epoch in the
    first 48 bits, then random bits. Ids made later sort after earlier ones (to the millisecond), so
    the primary key grows at its end; the random bits keep them unique."""
    rand = int.from_bytes(os.urandom(10))
    return uuid7(time.time_ns() // 1_000_000, (rand >> 62) & 0xFFF, rand & ((1 << 62) - 1))


# ``ordered_id`` in SQL, for the rows a statement makes itself (``inline_sql(each_of=...)``): PostgreSQL
# 18's ``uuidv7()`` written out, as the project runs on PostgreSQL 14 and later. gen_random_uuid's first
# 6 bytes overlaid with the milliseconds since the epoch; bits 52 and 53 turn version 4 into version 7.
ORDERED_ID_SQL = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send("
    "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), "
    "'hex')::uuid"
)


# The columns an entry fills in; ``occurred_at`` is the database's own clock.
ENTRY_COLUMNS = tuple(c.name for c in table_of(AccessLogEntry).columns if c.name != "occurred_at")


@dataclass(slots=True)
class AccessEntry:
    """One access-log row of a unit of work, before it is written.

    Amended while the work goes on (the id of the object a create made, the household a search
    found, the outcome when the work fails); ``written`` says whether a statement of the work wrote
    it already (``inline_cte``), and whether that write stands on its own or with the transaction.
    """

    actor_subject: str
    actor_role: str
    actor_worker_id: uuid.UUID | None
    client_id: str
    organisation_id: uuid.UUID | None
    resource: str
    action: str
    purpose: str = "casework"
    outcome: str = AccessOutcome.allowed
    household_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    resource_id: uuid.UUID | None = None
    reason: str | None = None
    request_id: str | None = None
    id: uuid.UUID = field(default_factory=ordered_id)
    written: Written | None = None

    def row(self) -> dict[str, Any]:
        """The column values of the entry. A text PostgreSQL cannot store (a NUL character, from a
        stated reason the input rules did not catch) is stored with a replacement character
        instead: whatever the input, the attempt must reach the log."""
        values = {name: getattr(self, name) for name in ENTRY_COLUMNS}
        for name in ("reason", "request_id", "purpose"):
            value = values[name]
            if isinstance(value, str):
                values[name] = storable(value)
        return values

    def params(self, prefix: str = "log_") -> dict[str, Any]:
        """The column values as the parameters of ``inline_cte``."""
        return {f"{prefix}{name}": value for name, value in self.row().items()}


@dataclass(frozen=True, slots=True)
class Shown:
    """One object a response showed, for its own access-log entry: the household (and person) whose
    data it carries, so that a resident's log lists every answer that showed their data."""

    household_id: uuid.UUID | None
    person_id: uuid.UUID | None = None
    resource_id: uuid.UUID | None = None


class Written(StrEnum):
    """How an entry got written by a statement of its unit of work."""

    alone = "alone"  # by a single statement outside any transaction: it stands whatever follows
    in_transaction = "in_transaction"  # inside the work's transaction: it stands only if that commits


def inline_sql(
    *, outcome: str = "'allowed'", gate: str | None = None, prefix: str = "log_", each_of: str | None = None
) -> str:
    """The CTE ``logged``: it inserts the entry from the ``<prefix><column>`` parameters
    (``AccessEntry.params``) with ``outcome`` (an SQL expression of the statement's own, e.g. a
    CASE over an earlier CTE) and returns it; with ``gate`` (the name of an earlier CTE) only when
    that CTE produced a row. For a statement that does its work and logs it in one round trip; the
    caller marks the entry with ``UnitOfWork.written_by_statement`` once the statement succeeded.

    With ``each_of`` (a query of the statement's own, selecting ``household_id``), one entry per
    household it finds, each with an id of its own, and the entry as it is when it finds none: an
    answer that shows several households is in each one's log (as ``UnitOfWork.log_each``)."""
    columns = [name for name in ENTRY_COLUMNS if name != "outcome"]
    values = ", ".join(f":{prefix}{name}" for name in columns)
    insert = f"logged AS (INSERT INTO access_log ({', '.join(columns)}, outcome)"
    if each_of is not None:
        own = {"id": ORDERED_ID_SQL, "household_id": "shown.household_id"}
        per_household = ", ".join(own.get(name, f":{prefix}{name}") for name in columns)
        # Only our own column names and queries are formatted in: the values are parameters.
        shown = f"SELECT {per_household}, {outcome} FROM ({each_of}) AS shown"  # noqa: S608
        none = f"SELECT {values}, {outcome} WHERE NOT EXISTS ({each_of})"
        return f"{insert} {shown} UNION ALL {none} RETURNING outcome)"
    where = f" WHERE EXISTS (SELECT 1 FROM {gate})" if gate else ""  # noqa: S608 - a CTE name of ours
    return f"{insert} SELECT {values}, {outcome}{where} RETURNING outcome)"


def inline_binds(prefix: str = "log_") -> list[sa.BindParameter[Any]]:
    """The typed parameters of ``inline_sql`` (bind them on the statement that embeds it)."""
    columns = table_of(AccessLogEntry).c
    return [sa.bindparam(f"{prefix}{n}", type_=columns[n].type) for n in ENTRY_COLUMNS if n != "outcome"]


def inline_cte(
    *,
    outcome: str = "'allowed'",
    gate: str | None = None,
    prefix: str = "log_",
    each_of: str | None = None,
    binds: tuple[sa.BindParameter[Any], ...] = (),
) -> Any:
    """``inline_sql`` as a CTE for a statement built with SQLAlchemy Core (``logged.c.outcome``);
    ``binds`` are the parameters ``each_of`` uses beyond the entry's."""
    sql = inline_sql(outcome=outcome, gate=gate, prefix=prefix, each_of=each_of)
    text = sa.text(sql.removeprefix("logged AS (")[:-1]).bindparams(*inline_binds(prefix), *binds)
    return text.columns(sa.column("outcome", sa.String)).cte("logged")
