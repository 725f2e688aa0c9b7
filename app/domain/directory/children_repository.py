"""A service's children written whole: its links to locations, its service areas and its schedules, and
the services touched when a location changes (the directory's writes through the ORM, beside the
reads of ``repository``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, delete

from app.domain.directory.models import DirectorySchedule, DirectoryServiceArea, DirectoryServiceAtLocation
from app.domain.directory.repository import LOC, SAL, SVC


async def share_locations_of_links(
    session: AsyncSession, service_id: uuid.UUID, location_ids: Sequence[uuid.UUID]
) -> None:
    """Before a service's links are rewritten: its old and new locations ``FOR SHARE``, in id order.
    Else a move (0290's trigger, waiting on a deleted link) and the link's insert (reading the moved
    location ``FOR SHARE``) deadlock."""
    linked = sa.select(SAL.c.location_id).where(SAL.c.service_id == service_id)
    await session.execute(
        sa.select(LOC.c.id)
        .where(sa.or_(LOC.c.id.in_(linked), LOC.c.id.in_(set(location_ids))))
        .order_by(LOC.c.id)
        .with_for_update(read=True)
    )


async def replace_locations(
    session: AsyncSession, service_id: uuid.UUID, location_ids: Sequence[uuid.UUID]
) -> None:
    await share_locations_of_links(session, service_id, location_ids)
    await session.execute(
        delete(DirectoryServiceAtLocation).where(col(DirectoryServiceAtLocation.service_id) == service_id)
    )
    session.add_all(
        [
            DirectoryServiceAtLocation(service_id=service_id, location_id=i)
            for i in dict.fromkeys(location_ids)
        ]
    )


async def replace_areas(
    session: AsyncSession, service_id: uuid.UUID, area_ids: Sequence[uuid.UUID | None]
) -> None:
    await session.execute(
        delete(DirectoryServiceArea).where(col(DirectoryServiceArea.service_id) == service_id)
    )
    session.add_all([DirectoryServiceArea(service_id=service_id, area_id=i) for i in dict.fromkeys(area_ids)])


async def replace_schedules(
    session: AsyncSession, service_id: uuid.UUID, schedules: Sequence[DirectorySchedule]
) -> None:
    await session.execute(delete(DirectorySchedule).where(col(DirectorySchedule.service_id) == service_id))
    session.add_all(schedules)


async def touch_services_at(session: AsyncSession, location_id: uuid.UUID, moment: datetime) -> None:
    """A location changed: so did every service offered there (HSDS ``last_modified``)."""
    offered = sa.select(SAL.c.service_id).where(SAL.c.location_id == location_id)
    await session.execute(sa.update(SVC).where(SVC.c.id.in_(offered)).values(last_modified=moment))
