"""The queries of the HSDS publication: public services only, in numbered pages (HSDS pages by number,
with totals), and the reference lists published as taxonomies."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.directory.repository import LOC, MUNI, ORG, SAL, SVC
from app.domain.reference.models import LifeDomain, Theme

# -- the HSDS publication: public entries only, numbered pages ------------------------------------


@dataclass(frozen=True)
class PublicFilter:
    """The query parameters of HSDS's lists (combined with AND, as the specification demands)."""

    search: str | None = None
    term: tuple[str, str] | None = None  # ("theme" | "life_domain", code)
    taxonomy: str | None = None  # "theme" | "life_domain"
    organization_id: uuid.UUID | None = None
    modified_after: datetime | None = None
    postcode: str | None = None  # service_at_locations only


def _public_where(flt: PublicFilter) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [SVC.c.public]
    if flt.search:
        query = sa.func.websearch_to_tsquery(sa.literal_column("'dutch'::regconfig"), flt.search)
        where.append(SVC.c.search_vector.op("@@")(query))
    if flt.term is not None:
        column = SVC.c.themes if flt.term[0] == "theme" else SVC.c.life_domains
        where.append(column.any_() == flt.term[1])
    if flt.taxonomy is not None:
        column = SVC.c.themes if flt.taxonomy == "theme" else SVC.c.life_domains
        where.append(sa.func.cardinality(column) > 0)
    if flt.organization_id is not None:
        where.append(SVC.c.organization_id == flt.organization_id)
    if flt.modified_after is not None:
        where.append(SVC.c.last_modified >= flt.modified_after)
    return where


async def public_services(
    session: AsyncSession, flt: PublicFilter, *, offset: int, limit: int
) -> tuple[int, list[uuid.UUID]]:
    """(how many public services match, the ids of one page of them by name)."""
    where = _public_where(flt)
    total = (await session.execute(sa.select(sa.func.count()).select_from(SVC).where(*where))).scalar_one()
    rows = await session.execute(
        sa.select(SVC.c.id).where(*where).order_by(SVC.c.name, SVC.c.id).offset(offset).limit(limit)
    )
    return total, list(rows.scalars())


async def public_services_at_locations(
    session: AsyncSession, flt: PublicFilter, *, offset: int, limit: int
) -> tuple[int, list[tuple[uuid.UUID, uuid.UUID]]]:
    """(how many links of a public service to a location match, one page of (link id, service id))."""
    where = _public_where(flt)
    if flt.postcode:
        where.append(sa.func.replace(LOC.c.postal_code, " ", "") == flt.postcode.replace(" ", "").upper())
    joined = SAL.join(SVC, SVC.c.id == SAL.c.service_id).join(LOC, LOC.c.id == SAL.c.location_id)
    total = (await session.execute(sa.select(sa.func.count()).select_from(joined).where(*where))).scalar_one()
    rows = await session.execute(
        sa.select(SAL.c.id, SAL.c.service_id)
        .select_from(joined)
        .where(*where)
        .order_by(SVC.c.name, LOC.c.name, SAL.c.id)
        .offset(offset)
        .limit(limit)
    )
    return total, [(sal_id, service_id) for sal_id, service_id in rows]


async def public_service_at_location(session: AsyncSession, sal_id: uuid.UUID) -> uuid.UUID | None:
    """The public service a link belongs to."""
    row = await session.execute(
        sa.select(SAL.c.service_id)
        .select_from(SAL.join(SVC, SVC.c.id == SAL.c.service_id))
        .where(SAL.c.id == sal_id, SVC.c.public)
    )
    return row.scalar_one_or_none()


async def organizations_with_municipality(
    session: AsyncSession, org_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    if not org_ids:
        return {}
    rows = await session.execute(
        sa.select(*ORG.c, MUNI.c.name.label("municipality_name"))
        .select_from(ORG.join(MUNI, MUNI.c.id == ORG.c.municipality_id))
        .where(ORG.c.id.in_(set(org_ids)))
    )
    return {row.id: dict(row._mapping) for row in rows}


async def organizations_numbered(
    session: AsyncSession, search: str | None, *, offset: int, limit: int
) -> tuple[int, list[uuid.UUID]]:
    where: list[sa.ColumnElement[bool]] = []
    if search:
        document = sa.func.to_tsvector(
            sa.literal_column("'dutch'::regconfig"), ORG.c.name + " " + ORG.c.description
        )
        query = sa.func.websearch_to_tsquery(sa.literal_column("'dutch'::regconfig"), search)
        where.append(document.op("@@")(query))
    total = (await session.execute(sa.select(sa.func.count()).select_from(ORG).where(*where))).scalar_one()
    rows = await session.execute(
        sa.select(ORG.c.id).where(*where).order_by(ORG.c.name, ORG.c.id).offset(offset).limit(limit)
    )
    return total, list(rows.scalars())


async def public_services_of(
    session: AsyncSession, org_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    result: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if org_ids:
        rows = await session.execute(
            sa.select(SVC.c.organization_id, SVC.c.id)
            .where(SVC.c.organization_id.in_(set(org_ids)), SVC.c.public)
            .order_by(SVC.c.name, SVC.c.id)
        )
        for org_id, service_id in rows:
            result[org_id].append(service_id)
    return result


async def reference_lists(
    session: AsyncSession,
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The active themes and life domains: (code, Dutch label, English label), in their order."""
    themes = await session.execute(
        select(Theme.code, Theme.label_nl, Theme.label_en)
        .where(col(Theme.active))
        .order_by(col(Theme.position), col(Theme.code))
    )
    domains = await session.execute(
        select(LifeDomain.code, LifeDomain.label_nl, LifeDomain.label_en)
        .where(col(LifeDomain.active))
        .order_by(col(LifeDomain.position), col(LifeDomain.code))
    )
    return [(c, nl, en) for c, nl, en in themes], [(c, nl, en) for c, nl, en in domains]
