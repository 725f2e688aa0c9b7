"""Helpers shared by the organisation use cases (service.py and identity's accounts.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.domain.organisation import repository as repo
from app.domain.organisation.models import Area, Municipality, PartnerOrganisation, Team, Worker

M = TypeVar("M", bound=SQLModel)
Key = tuple[Any, uuid.UUID]

# What each list is ordered by, with the id as tie-breaker: stable, and indexed or small.
ORDER: dict[type[SQLModel], tuple[Any, Any]] = {
    Municipality: (col(Municipality.code), col(Municipality.id)),
    Area: (col(Area.code), col(Area.id)),
    Team: (col(Team.name), col(Team.id)),
    Worker: (col(Worker.name), col(Worker.id)),
    PartnerOrganisation: (col(PartnerOrganisation.name), col(PartnerOrganisation.id)),
}


# -- shared helpers --------------------------------------------------------------------------------


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def changed_fields(data: BaseModel, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH sets; ``null`` only where the field may be empty."""
    changes = data.model_dump(exclude_unset=True)
    raise_if(
        [
            FieldError(("body", name), "This field cannot be null.", "not_nullable")
            for name, value in changes.items()
            if value is None and name not in nullable
        ]
    )
    return changes


async def flush(session: AsyncSession, rule: str, detail: str) -> None:
    """Flush, turning a unique-constraint race into the same 409 the pre-check gives."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(detail, rule=rule) from error


async def require(session: AsyncSession, model: type[M], object_id: uuid.UUID, what: str) -> M:
    found = await repo.get(session, model, object_id)
    if found is None:
        raise NotFound(what)
    return found


async def page(
    session: AsyncSession,
    model: type[M],
    after: Key | None,
    limit: int,
    where: Sequence[Any] = (),
    *,
    order: tuple[Any, Any] | None = None,
) -> list[M]:
    """At most ``limit`` rows of ``model`` in its stable order (``order``, default the model's in
    ``ORDER``), after the key of the previous page."""
    return await repo.page(session, model, order or ORDER[model], after, limit, where)
