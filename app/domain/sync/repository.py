"""SQL of offline sync: where the caller stands, the change rows of their caseload, and the documents
of a page. Three statements a page, each compiled once and run on its own (no transaction: each is
atomic, and nothing the page reads must agree with more than what the sync rules already allow for).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlmodel import col

from app.db import RawStatement
from app.domain.base import table_of
from app.domain.documents import constant
from app.domain.households.access import CASE_WORKER, case_worker_caseload
from app.domain.households.models import Household
from app.domain.organisation.models import WorkerTeam
from app.domain.retention.repository import change_feed_horizon_query
from app.domain.unit_of_work.access_log import inline_cte
from app.domain.unit_of_work.change_feed import CaseChange
from app.domain.unit_of_work.registries import SyncRegistry

UUIDS = ARRAY(sa.Uuid)


def _standing() -> RawStatement:
    """The caller's teams now, the change feed's purge horizon, and the watermark: every transaction
    with a smaller id has finished (committed or aborted) by now."""
    team = col(WorkerTeam.team_id)
    teams = (
        sa.select(sa.func.coalesce(sa.func.array_agg(aggregate_order_by(team, team)), sa.text("'{}'")))
        .where(col(WorkerTeam.worker_id) == CASE_WORKER)
        .scalar_subquery()
    )
    watermark: Any = sa.literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
    return RawStatement.of(
        sa.select(
            teams.label("teams"),
            change_feed_horizon_query().scalar_subquery().label("horizon"),
            watermark.label("watermark"),
        )
    )


STANDING = _standing()


def _caseload_page(after: bool) -> RawStatement:
    """The ids of the caller's caseload (``access.caseload``) by id, ``limit`` of them after ``after``."""
    query = sa.select(col(Household.id)).where(case_worker_caseload())
    if after:
        query = query.where(col(Household.id) > sa.bindparam("after", type_=sa.Uuid))
    return RawStatement.of(query.order_by(col(Household.id)).limit(sa.bindparam("limit", type_=sa.Integer)))


CASELOAD_FIRST, CASELOAD_NEXT = _caseload_page(False), _caseload_page(True)


def _changes() -> RawStatement:
    """Changes in ``[from_txid, to_txid)`` after ``after_seq``, in seq order, that concern the caller:
    of a household in their caseload now (``visible``), or an access change / household deletion that
    took it from an audience they belonged to (one of ``team_ids``, or the personally involved).

    The caseload rule is checked once per change row, as the join to its household (a household that
    is not in the caseload joins nothing), and serves both the filter and ``visible``."""
    changes = table_of(CaseChange)
    households = table_of(Household)
    in_caseload = households.c.id.is_not(None)
    lost_it = sa.or_(
        changes.c.former_team_id == sa.any_(sa.bindparam("team_ids", type_=UUIDS)),
        sa.any_(changes.c.former_worker_ids) == CASE_WORKER,
    )
    query = (
        sa.select(
            changes.c.seq,
            changes.c.household_id,
            changes.c.entity,
            changes.c.entity_id,
            changes.c.op,
            in_caseload.label("visible"),
        )
        .select_from(changes)
        .outerjoin(households, sa.and_(households.c.id == changes.c.household_id, case_worker_caseload()))
        .where(
            changes.c.txid >= sa.bindparam("from_txid", type_=sa.BigInteger),
            changes.c.txid < sa.bindparam("to_txid", type_=sa.BigInteger),
            changes.c.seq > sa.bindparam("after_seq", type_=sa.BigInteger),
            sa.or_(in_caseload, lost_it),
        )
        .order_by(changes.c.seq)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    return RawStatement.of(query)


CHANGES = _changes()


def entity_ids(rank: int) -> str:
    """The parameter that names the objects of the ``rank``-th entity (snapshot order) a page wants."""
    return f"ids_{rank}"


@cache
def documents(registry: SyncRegistry) -> RawStatement:
    """The documents a page carries, as one JSON array of ``SyncUpsert`` objects built by PostgreSQL
    (households first, then each entity in snapshot order), and the ids it found: of each entity the
    objects named in ``ids_<rank>`` and every object of the households in ``whole``. Writes one
    access-log entry per household whose documents it carries (``log_`` parameters), or the entry as
    it is when it carries none."""
    whole = sa.bindparam("whole", type_=UUIDS)
    parts = []
    for rank, entity in enumerate(registry.in_snapshot_order()):
        docs = entity.documents.subquery(f"documents_{rank}")
        wanted = sa.bindparam(entity_ids(rank), type_=UUIDS)
        parts.append(
            sa.select(
                constant(str(rank)).label("rank"),
                constant(f"'{entity.name}'").label("entity"),
                docs.c.entity_id,
                docs.c.household_id,
                docs.c.data,
            ).where(sa.or_(docs.c.entity_id == sa.any_(wanted), docs.c.household_id == sa.any_(whole)))
        )
    found = sa.union_all(*parts).cte("found")
    logged = inline_cte(each_of="SELECT DISTINCT household_id FROM found")
    upsert = sa.func.json_build_object(
        constant("'entity'"),
        found.c.entity,
        constant("'id'"),
        found.c.entity_id,
        constant("'household_id'"),
        found.c.household_id,
        constant("'data'"),
        found.c.data,
    )
    in_order = aggregate_order_by(upsert, found.c.rank, found.c.household_id, found.c.entity_id)
    statement = sa.select(
        sa.select(sa.func.count()).select_from(logged).scalar_subquery().label("logged"),
        sa.cast(sa.func.coalesce(sa.func.json_agg(in_order), sa.text("'[]'::json")), sa.Text).label(
            "upserts"
        ),
        sa.func.coalesce(sa.func.array_agg(found.c.entity), sa.text("'{}'")).label("entities"),
        sa.func.coalesce(sa.func.array_agg(found.c.entity_id), sa.text("'{}'")).label("ids"),
    ).select_from(found)
    # ``logged`` reads ``found``: WITH must name it first.
    return RawStatement.of(statement.add_cte(found).add_cte(logged))


def wanted_values(registry: SyncRegistry, wanted: dict[str, Sequence[uuid.UUID]]) -> dict[str, Any]:
    """The ``ids_<rank>`` parameters of ``documents``: the ids wanted of each entity, by name."""
    return {
        entity_ids(rank): list(wanted.get(entity.name, ()))
        for rank, entity in enumerate(registry.in_snapshot_order())
    }
