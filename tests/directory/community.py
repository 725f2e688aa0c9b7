"""Resident initiatives made directly in the database (the initiatives context owns their routes):
the community offers a plan action can point to and "what is there for this household" lists."""

from __future__ import annotations

import uuid

from app.domain.initiatives.models import Initiative, ResidentNetwork
from tests.factories import World


async def initiative(
    world: World,
    buurt: int,
    *,
    title: str = "Financieel café",
    themes: tuple[str, ...] = ("debts",),
    status: str = "running",
) -> uuid.UUID:
    """An initiative of a network of its own in ``world.buurten[buurt]``."""
    async with world.app.state.db.transaction() as session:
        network = ResidentNetwork(
            municipality_id=world.municipality.id, name=f"Netwerk {uuid.uuid4().hex[:8]}"
        )
        session.add(network)
        await session.flush()
        made = Initiative(
            network_id=network.id,
            buurt_id=world.buurten[buurt].id,
            title=title,
            summary=f"{title} in de buurt.",
            themes=list(themes),
            status=status,
            initiator_name="Bewoner",
        )
        session.add(made)
        await session.flush()
        return made.id
