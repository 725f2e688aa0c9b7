"""The directory search's page (``GET /api/v1/directory/services``) as one JSON document made by
PostgreSQL, in one statement: the buurt, the ranked hits (``repository.ranked``) and each hit's
service with its organisation, locations, areas and opening hours.

The document is ``ServiceHit``'s, built with ``documents.json_object`` from the read models, so no
pydantic model is made per hit; a test checks it against the model path (``service.search``, which
GraphQL uses) search by search.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.db import RawStatement
from app.domain.directory import repository as repo
from app.domain.directory.repository import AREA, LOC, MUNI, ORG, SAL, SAREA, SCHED, SVC
from app.domain.directory.rules import AreaLevel
from app.domain.directory.schemas import (
    AreaRef,
    LocationRead,
    OrganizationRef,
    ScheduleRead,
    ServiceHit,
    ServiceRead,
)
from app.domain.documents import api_json, constant, json_list, json_object
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

_OWN_FIELDS = frozenset(ServiceRead.model_fields) - {
    "organization",
    "internal_notes",
    "locations",
    "areas",
    "schedules",
    "stale",
}


def _locations() -> Any:
    """The service's locations (``LocationRead``), by name."""
    buurt = AREA.alias("location_buurt")
    values = {name: LOC.c[name] for name in LocationRead.model_fields if name != "neighbourhood"}
    document = json_object(LocationRead, {**values, "neighbourhood": buurt.c.code})
    return (
        sa.select(json_list(document, LOC.c.name, LOC.c.id))
        .select_from(
            SAL.join(LOC, LOC.c.id == SAL.c.location_id).outerjoin(buurt, buurt.c.id == LOC.c.buurt_id)
        )
        .where(SAL.c.service_id == SVC.c.id)
        .scalar_subquery()
    )


def _areas() -> Any:
    """The areas the service serves (``AreaRef``), by code; the whole municipality by its GM code."""
    area, municipality = AREA.alias("served_area"), MUNI.alias("served_municipality")
    code = sa.func.coalesce(area.c.code, municipality.c.code)
    document = json_object(
        AreaRef,
        {
            "code": code,
            "name": sa.func.coalesce(area.c.name, municipality.c.name),
            "level": sa.func.coalesce(area.c.level, constant("'municipality'")),
        },
    )
    return (
        sa.select(json_list(document, code))
        .select_from(SAREA.outerjoin(area, area.c.id == SAREA.c.area_id), municipality)
        .where(SAREA.c.service_id == SVC.c.id, municipality.c.id == ORG.c.municipality_id)
        .scalar_subquery()
    )


def _schedules() -> Any:
    """The service's opening hours (``ScheduleRead``), by weekday and opening time."""
    document = json_object(ScheduleRead, {name: SCHED.c[name] for name in ScheduleRead.model_fields})
    return (
        sa.select(json_list(document, SCHED.c.weekday, SCHED.c.opens_at, SCHED.c.id))
        .where(SCHED.c.service_id == SVC.c.id)
        .scalar_subquery()
    )


def _internal_notes(internal: bool, own_partner: bool) -> Any:
    """Internal notes for workers and administrators, and for the organisation's own partner."""
    if internal:
        return SVC.c.internal_notes
    if own_partner:
        mine = ORG.c.partner_organisation_id == sa.bindparam("own_partner", type_=sa.Uuid)
        return sa.case((mine, SVC.c.internal_notes))
    return sa.null()


def _service(internal: bool, own_partner: bool) -> Any:
    """The hit's ``ServiceRead``; stale as ``rules.is_stale`` with the cut-off date ``:stale_before``."""
    stale_before = sa.bindparam("stale_before", type_=sa.Date)
    return json_object(
        ServiceRead,
        {
            **{name: SVC.c[name] for name in _OWN_FIELDS},
            "organization": json_object(OrganizationRef, {"id": ORG.c.id, "name": ORG.c.name}),
            "internal_notes": _internal_notes(internal, own_partner),
            "locations": _locations(),
            "areas": _areas(),
            "schedules": _schedules(),
            "stale": sa.or_(SVC.c.assured_date.is_(None), SVC.c.assured_date <= stale_before),
        },
    )


def _area_level(level: Any, near: bool) -> Any:
    """The name of the hit's ``AreaLevel``; null without a buurt to be near."""
    if not near:
        return sa.null()
    return sa.case(*((level == constant(str(int(a))), constant(f"'{a.name}'")) for a in AreaLevel))


@lru_cache(maxsize=256)
def search_page(given: frozenset[str], internal: bool, own_partner: bool, after: bool) -> RawStatement:
    """The page as ``items`` (JSON text of the first ``:page_size`` hits, up to ``:limit`` =
    page_size + 1 found), ``found`` and the key of the last item (``last_*``)."""
    hits = repo.ranked(given, internal, own_partner, after)
    page = sa.select(
        hits,
        sa.func.row_number()
        .over(order_by=(hits.c.level, hits.c.neg_rank, hits.c.name, hits.c.id))
        .label("n"),
    ).cte("page")
    document = json_object(
        ServiceHit,
        {
            "service": _service(internal, own_partner),
            "area_level": _area_level(page.c.level, "neighbourhood" in given),
            "rank": page.c.rank,
        },
    )
    page_size = sa.bindparam("page_size", type_=sa.Integer)
    is_last = page.c.n == page_size
    items = sa.func.json_agg(aggregate_order_by(document, page.c.n)).filter(page.c.n <= page_size)
    statement = sa.select(
        sa.func.count().label("found"),
        sa.cast(sa.func.coalesce(items, sa.text("'[]'::json")), sa.Text).label("items"),
        sa.func.min(page.c.level).filter(is_last).label("last_level"),
        sa.func.min(page.c.neg_rank).filter(is_last).label("last_neg_rank"),
        sa.func.min(page.c.name).filter(is_last).label("last_name"),
        sa.func.array_agg(page.c.id).filter(is_last).label("last_id"),  # one id, or NULL
    ).select_from(page.join(SVC, SVC.c.id == page.c.id).join(ORG, ORG.c.id == SVC.c.organization_id))
    return RawStatement.of(statement)


@dataclass(frozen=True)
class SearchPage:
    items: bytes  # a JSON array of ServiceHit, made by PostgreSQL
    last: repo.SearchKey | None  # the key of the last item when more follow


async def search_services_json(
    uow: UnitOfWork,
    principal: Principal | None,
    flt: repo.SearchFilter,
    stale_before: date,
    *,
    page_size: int,
    after: repo.SearchKey | None,
) -> SearchPage:
    """REST's search: a page of ``page_size`` hits as JSON made by PostgreSQL in one statement, read
    where reads may lag (``Database.read_one``: no session, no transaction), with the key after its
    last item when more follow; the same hits, in the same order and shape, as ``service.search``."""
    visibility = repo.Visibility.of(principal)
    own_partner = not visibility.internal and visibility.own_partner is not None
    statement = search_page(repo.search_given(flt), visibility.internal, own_partner, after is not None)
    values = {
        **repo.search_values(flt, visibility, after),
        "stale_before": stale_before,
        "page_size": page_size,
        "limit": page_size + 1,
    }
    row = await uow.read_one(statement, values)
    last: tuple[int, float, str, uuid.UUID] | None = None
    if row["found"] > page_size:
        last = (row["last_level"], row["last_neg_rank"], row["last_name"], row["last_id"][0])
    return SearchPage(api_json(str(row["items"])), last)
