"""The statements of the directory's import and export: upserts by HSDS id that change a row only when
what it holds differs (so importing the same file again writes nothing), and the public services in
id order for the export."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.directory.children_repository import share_locations_of_links
from app.domain.directory.repository import (
    AREA,
    LOC,
    MUNI,
    ORG,
    SAL,
    SAREA,
    SCHED,
    SVC,
)
from app.domain.reference.models import LifeDomain, Theme

__all__ = ["LOC", "ORG", "SAL", "SAREA", "SCHED", "SVC", "share_locations_of_links"]

Row = Mapping[str, Any]


async def upsert(
    session: AsyncSession, table: sa.Table, rows: Sequence[Row], *, insert_only: Row | None = None
) -> int:
    """Insert the rows, or update the stored ones with their id where a value differs (the version,
    when the table has one, goes up by one, and ``last_modified`` becomes now unless the rows carry
    it); how many rows were written. ``insert_only`` holds values
    a new row gets and a stored one keeps (the municipality an organisation belongs to)."""
    if not rows:
        return 0
    values = [dict(row) | dict(insert_only or {}) for row in rows]
    statement = insert(table).values(values)
    columns = [name for name in rows[0] if name != "id"]
    changes: dict[str, Any] = {name: statement.excluded[name] for name in columns}
    if "version" in table.c:
        changes["version"] = table.c.version + 1
    if "last_modified" in table.c and "last_modified" not in columns:
        changes["last_modified"] = sa.func.now()
    differs = sa.tuple_(*(table.c[name] for name in columns)).is_distinct_from(
        sa.tuple_(*(statement.excluded[name] for name in columns))
    )
    result = await session.execute(
        statement.on_conflict_do_update(index_elements=[table.c.id], set_=changes, where=differs)
    )
    return _rows_written(result)


async def delete_other_children(
    session: AsyncSession, table: sa.Table, service_id: uuid.UUID, keep: Sequence[uuid.UUID]
) -> int:
    """Remove the service's rows of ``table`` that the imported record no longer names."""
    result = await session.execute(
        sa.delete(table).where(table.c.service_id == service_id, table.c.id.not_in(list(keep)))
    )
    return _rows_written(result)


def _rows_written(result: Any) -> int:
    """The rows an INSERT .. ON CONFLICT, UPDATE or DELETE wrote (its result is a cursor result)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def touch_service(session: AsyncSession, service_id: uuid.UUID) -> None:
    """A service's children changed but not its row: its version still goes up."""
    await session.execute(sa.update(SVC).where(SVC.c.id == service_id).values(version=SVC.c.version + 1))


async def municipality(session: AsyncSession, code: str) -> uuid.UUID | None:
    row = await session.execute(sa.select(MUNI.c.id).where(MUNI.c.code == code))
    return row.scalar_one_or_none()


async def areas_of_municipality(
    session: AsyncSession, municipality_id: uuid.UUID
) -> dict[str, tuple[uuid.UUID, str]]:
    """Every buurt and wijk of the municipality: code -> (id, level)."""
    rows = await session.execute(
        sa.select(AREA.c.code, AREA.c.id, AREA.c.level).where(AREA.c.municipality_id == municipality_id)
    )
    return {code: (area_id, level) for code, area_id, level in rows}


async def active_codes(session: AsyncSession) -> tuple[set[str], set[str]]:
    """The active theme and life-domain codes."""
    themes = await session.execute(select(Theme.code).where(col(Theme.active)))
    domains = await session.execute(select(LifeDomain.code).where(col(LifeDomain.active)))
    return set(themes.scalars()), set(domains.scalars())


async def organization_exists(session: AsyncSession, org_id: uuid.UUID) -> bool:
    row = await session.execute(sa.select(ORG.c.id).where(ORG.c.id == org_id))
    return row.first() is not None


async def service_exists(session: AsyncSession, service_id: uuid.UUID) -> bool:
    row = await session.execute(sa.select(SVC.c.id).where(SVC.c.id == service_id))
    return row.first() is not None


def _published(municipality: str | None) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [SVC.c.public]
    if municipality is not None:
        of_municipality = (
            sa.select(ORG.c.id)
            .join(MUNI, MUNI.c.id == ORG.c.municipality_id)
            .where(MUNI.c.code == municipality)
        )
        where.append(SVC.c.organization_id.in_(of_municipality))
    return where


async def public_service_ids(
    session: AsyncSession, municipality: str | None, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """A batch of the public services' ids (of one municipality's organisations), in id order."""
    statement = sa.select(SVC.c.id).where(*_published(municipality))
    if after is not None:
        statement = statement.where(SVC.c.id > after)
    rows = await session.execute(statement.order_by(SVC.c.id).limit(limit))
    return list(rows.scalars())


async def count_public_services(session: AsyncSession, municipality: str | None) -> int:
    row = await session.execute(sa.select(sa.func.count()).select_from(SVC).where(*_published(municipality)))
    return int(row.scalar_one())
