"""Offers named in the work: a service of the sociale kaart or a running resident initiative that a
plan action or an outbound referral points to. The facts those links must meet, as SQL over a bound
id (so a one-statement case write checks them where it writes) and as lookups for a whole plan
version at once; ``rules.offer_problems`` turns either into field errors.

The rules, decided here once:

* A **service** named must exist and be visible to the caller: public, or (non-public) only for case
  roles and administrators (``rules.sees_internal``); one the caller may not see is an unknown one. It
  must be ``active`` (not inactive, temporarily closed or defunct): a new action or referral asks for
  help that is offered now. For a referral it must also be a service of the receiving organisation.
* An **initiative** named must exist, be ``running`` and take place in the household's own buurt: the
  household joins something in its neighbourhood. Initiatives have no service areas, so a neighbouring
  buurt's initiative does not count (the sociale kaart lists it as that buurt's community offer).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import table_of
from app.domain.directory.models import DirectoryOrganization, DirectoryService, ServiceStatus
from app.domain.initiatives.models import Initiative, InitiativeStatus

SVC = table_of(DirectoryService)
ORG = table_of(DirectoryOrganization)
INI = table_of(Initiative)


# The facts the SQL below states (``rules.SERVICE_RULES`` / ``INITIATIVE_RULES`` name their answers).
SERVICE_FACTS = ("service", "service_active")
INITIATIVE_FACTS = ("initiative", "initiative_buurt", "initiative_running")


def _visible(internal: Any) -> Any:
    return sa.or_(SVC.c.public, internal)


def service_facts(service_id: Any, internal: Any) -> dict[str, Any]:
    """``service``: none named, or one the reader may see; ``service_active``: none named, or an
    active one. ``service_id`` and ``internal`` are SQL (bound parameters)."""
    found = sa.select(SVC.c.id).where(SVC.c.id == service_id, _visible(internal))
    active = found.where(SVC.c.status == sa.literal_column(f"'{ServiceStatus.active}'"))
    return {
        "service": sa.or_(service_id.is_(None), found.exists()),
        "service_active": sa.or_(service_id.is_(None), active.exists()),
    }


def initiative_facts(initiative_id: Any, buurt_id: Any) -> dict[str, Any]:
    """``initiative``: none named, or one that exists; ``initiative_buurt``: in ``buurt_id``;
    ``initiative_running``: running."""
    found = sa.select(INI.c.id).where(INI.c.id == initiative_id)
    running = found.where(INI.c.status == sa.literal_column(f"'{InitiativeStatus.running}'"))
    return {
        "initiative": sa.or_(initiative_id.is_(None), found.exists()),
        "initiative_buurt": sa.or_(initiative_id.is_(None), found.where(INI.c.buurt_id == buurt_id).exists()),
        "initiative_running": sa.or_(initiative_id.is_(None), running.exists()),
    }


async def service_states(
    session: AsyncSession, ids: Iterable[uuid.UUID], *, internal: bool
) -> dict[uuid.UUID, tuple[bool, uuid.UUID | None]]:
    """The named services the reader may see: id -> (active, the partner organisation offering it)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(SVC.c.id, SVC.c.status, ORG.c.partner_organisation_id)
        .select_from(SVC.join(ORG, ORG.c.id == SVC.c.organization_id))
        .where(SVC.c.id.in_(wanted), _visible(sa.literal(internal)))
    )
    return {i: (status == ServiceStatus.active, partner) for i, status, partner in rows}


async def initiative_states(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, bool]]:
    """The named initiatives that exist: id -> (their buurt, running)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(INI.c.id, INI.c.buurt_id, INI.c.status).where(INI.c.id.in_(wanted))
    )
    return {i: (buurt, status == InitiativeStatus.running) for i, buurt, status in rows}
