"""The version of the public data: one counter that every committed write of public data raises.

Anonymous answers (GraphQL dashboards, directory searches) are cached per process
(``app.web.answer_cache``); an answer is served again only while this counter is what it was when
the answer was computed. The counter lives in PostgreSQL, so a write through any process (or the
CLI, a job, a migration) makes every process recompute on its next request.

PostgreSQL raises it itself: a deferred constraint trigger on each public table (migration 0190)
bumps it once per writing transaction, at commit time. Deferred, because a lock on the counter taken
in the middle of a transaction could deadlock with a row lock taken after it; taken last, just
before the commit, it is only ever waited for, never held while waiting. One counter for all public
tables for the same reason (two counters locked in different orders could deadlock), at the price
of recomputing every cached answer after any public write, which the read-mostly dashboards afford.

Materialized views fire no triggers: the statistics refresh raises the counter itself (``bump``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from app.db import Database, RawStatement

PUBLIC = "public"  # the one counter's name

# What anonymous callers read (public GraphQL fields, HSDS): a write to any of them raises the counter.
PUBLIC_TABLES = (
    "themes",
    "municipalities",
    "areas",
    "resident_networks",
    "network_areas",
    "network_members",
    "initiatives",
    "initiative_grants",
    "year_plans",
    "year_plan_ledger",
    "network_meetings",
    "meeting_attendance",
    "grant_ballots",
    "policy_signals",
    "policy_signal_transitions",
    "directory_organizations",
    "directory_locations",
    "directory_services",
    "directory_service_at_locations",
    "directory_service_areas",
    "directory_schedules",
    "life_domains",  # the HSDS answers' taxonomy terms (0290)
)


class PublicDataVersion(SQLModel, table=True):
    __tablename__ = "public_data_versions"

    name: str = Field(primary_key=True, max_length=32)
    version: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})


_CURRENT = RawStatement.of(
    sa.text("SELECT version FROM public_data_versions WHERE name = :name").bindparams(
        sa.bindparam("name", type_=sa.String)
    )
)


async def current_version(db: Database) -> int:
    """The committed version of the public data (one indexed row, one round trip) as the public reads
    see it: through ``Database.read_one``, on a streaming replica when one is configured (else on the
    primary), like the anonymous answers the version is kept with (``app.web.answer_cache``)."""
    row = await db.read_one(_CURRENT, {"name": PUBLIC})
    return int(row["version"]) if row is not None else 0


async def bump(session: AsyncSession) -> None:
    """Raise the counter in the caller's transaction (for changes no trigger sees)."""
    await session.execute(
        sa.text("UPDATE public_data_versions SET version = version + 1 WHERE name = :name"), {"name": PUBLIC}
    )
