"""The administrative burden, recorded as a side effect of use (nobody is asked to fill anything in).

Every request of a team worker that writes case data is counted, with the number of fields it
carried, for each household it changed (the households of its change records), by the unit of work
when it commits (``UnitOfWork.count_writes``, ``UnitOfWork.close_intake``):

* ``case_write_months``: per household and local calendar month, the write requests and fields. Set
  beside the minutes of the contact moments of that month, this is the time at the table versus the
  time at the form.
* ``intake_burden``: per household, the write requests and fields from its first registration to its
  first agreed plan; the request that records that agreement is the last one counted
  (``plan_agreed_at`` is set with it, and the row stops counting).

The statistics catalogue publishes medians and spreads of both (app/domain/stats), through the same
disclosure control as every other figure. Both tables go with their household (ON DELETE CASCADE).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlmodel import Field, SQLModel

from app.db import RawStatement
from app.domain.base import table_of, tz_datetime


class CaseWriteMonth(SQLModel, table=True):
    __tablename__ = "case_write_months"
    __table_args__ = (sa.Index("ix_case_write_months_month", "month"),)

    household_id: uuid.UUID = Field(foreign_key="households.id", primary_key=True, ondelete="CASCADE")
    month: date = Field(primary_key=True)  # the first day of the local calendar month
    write_requests: int = 0
    fields_entered: int = 0


class IntakeBurden(SQLModel, table=True):
    __tablename__ = "intake_burden"

    household_id: uuid.UUID = Field(foreign_key="households.id", primary_key=True, ondelete="CASCADE")
    write_requests: int = 0
    fields_entered: int = 0
    plan_agreed_at: datetime | None = tz_datetime()  # the intake ended: no more counting


_LOCAL = ZoneInfo("Europe/Amsterdam")


def local_month(moment: datetime) -> date:
    """The first day of the local (Dutch) calendar month of ``moment``."""
    return moment.astimezone(_LOCAL).date().replace(day=1)


# One statement: the households that still exist (a work may delete one), their month's counters, and
# their intake counters while the intake runs (closed, with this request counted, for ``agreed``).
_RECORD = RawStatement.of(
    sa.text(
        """
    WITH touched AS (
        SELECT h.id AS household_id FROM households AS h WHERE h.id = ANY(:households)
    ), months AS (
        INSERT INTO case_write_months (household_id, month, write_requests, fields_entered)
        SELECT household_id, :month, :requests, :fields FROM touched WHERE :requests > 0
        ON CONFLICT (household_id, month) DO UPDATE
           SET write_requests = case_write_months.write_requests + EXCLUDED.write_requests,
               fields_entered = case_write_months.fields_entered + EXCLUDED.fields_entered
    )
    INSERT INTO intake_burden (household_id, write_requests, fields_entered, plan_agreed_at)
    SELECT household_id, :requests, :fields,
           CASE WHEN household_id = ANY(:agreed) THEN :now END
      FROM touched
    ON CONFLICT (household_id) DO UPDATE
       SET write_requests = intake_burden.write_requests + EXCLUDED.write_requests,
           fields_entered = intake_burden.fields_entered + EXCLUDED.fields_entered,
           plan_agreed_at = EXCLUDED.plan_agreed_at
     WHERE intake_burden.plan_agreed_at IS NULL
    RETURNING household_id
    """
    ).bindparams(
        sa.bindparam("households", type_=ARRAY(sa.Uuid)),
        sa.bindparam("agreed", type_=ARRAY(sa.Uuid)),
        sa.bindparam("month", type_=sa.Date),
        sa.bindparam("requests", type_=sa.Integer),
        sa.bindparam("fields", type_=sa.Integer),
        sa.bindparam("now", type_=sa.DateTime(timezone=True)),
    )
)

# The burden of a one-statement case write, counted by that very statement (``counted_ctes``): its
# parameters, from ``UnitOfWork.burden_params``.
COUNTED = sa.bindparam("b_counted", type_=sa.Boolean)
COUNTED_MONTH = sa.bindparam("b_month", type_=sa.Date)
COUNTED_FIELDS = sa.bindparam("b_fields", type_=sa.Integer)


def counted_ctes(written: Any, household: Any) -> list[Any]:
    """The request counted for ``household`` (a bound parameter of the statement) when the statement
    wrote (a row in ``written``) and the request is counted (``b_counted``): the month's counters, and
    the intake's while it runs. As ``_RECORD`` does for the work, without a statement of its own."""
    wrote = sa.and_(COUNTED, sa.exists(sa.select(written.c.id)))
    one: Any = sa.literal_column("1")
    months = table_of(CaseWriteMonth)
    month_row = sa.select(household, COUNTED_MONTH, one, COUNTED_FIELDS).where(wrote)
    month_insert = upsert(months).from_select(
        ["household_id", "month", "write_requests", "fields_entered"], month_row
    )
    month_counted = month_insert.on_conflict_do_update(
        index_elements=["household_id", "month"],
        set_={
            "write_requests": months.c.write_requests + month_insert.excluded.write_requests,
            "fields_entered": months.c.fields_entered + month_insert.excluded.fields_entered,
        },
    ).returning(months.c.household_id)
    intake = table_of(IntakeBurden)
    intake_row = sa.select(household, one, COUNTED_FIELDS).where(wrote)
    intake_insert = upsert(intake).from_select(
        ["household_id", "write_requests", "fields_entered"], intake_row
    )
    intake_counted = intake_insert.on_conflict_do_update(
        index_elements=["household_id"],
        set_={
            "write_requests": intake.c.write_requests + intake_insert.excluded.write_requests,
            "fields_entered": intake.c.fields_entered + intake_insert.excluded.fields_entered,
        },
        where=intake.c.plan_agreed_at.is_(None),
    ).returning(intake.c.household_id)
    return [month_counted.cte("burden_month"), intake_counted.cte("burden_intake")]


# Runs one raw statement: in the work's transaction when one is open, else on its own.
FetchOne = Callable[[RawStatement, Mapping[str, Any]], Awaitable[Any]]


async def record(
    fetch_one: FetchOne,
    *,
    changed: Collection[uuid.UUID],
    agreed: Collection[uuid.UUID],
    fields: int | None,
    now: datetime,
    month: date,
) -> None:
    """Count one request (``fields`` entered; None: not a counted request) for each household it
    changed, and close the intake of ``agreed``."""
    counted = sorted(set(changed) | set(agreed)) if fields is not None else sorted(set(agreed))
    if not counted:
        return
    values = {
        "households": counted,
        "agreed": sorted(set(agreed)),
        "month": month,
        "requests": 1 if fields is not None else 0,
        "fields": fields or 0,
        "now": now,
    }
    await fetch_one(_RECORD, values)


# What the app fills in by itself (the version it read, the version it builds on): nobody typed it.
NOT_ENTERED = frozenset({"expected_version", "supersedes_id"})


def fields_entered(body: object) -> int:
    """The fields a request body filled in: every value that is not null, empty or a container
    (a list of three themes is three fields; a nested member is its own fields)."""
    if isinstance(body, dict):
        return sum(fields_entered(value) for key, value in body.items() if key not in NOT_ENTERED)
    if isinstance(body, list):
        return sum(fields_entered(value) for value in body)
    return 0 if body is None or body == "" else 1
