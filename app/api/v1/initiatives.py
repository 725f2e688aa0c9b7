"""Public listing of resident initiatives for the municipality's website (read-only, no token needed).

Anonymous callers see public fields of initiatives past the idea stage. A bearer token is optional:
when sent it is verified like everywhere else, and members of a network also find their network's
ideas in the list. The body is always the public shape; private fields are for GraphQL members only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.auth import MaybeCaller
from app.api.deps import UoW
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES
from app.domain.initiatives import service
from app.domain.initiatives.models import InitiativeStatus
from app.domain.initiatives.schemas import InitiativeFilter, InitiativePublic
from app.domain.text import SingleLine
from app.web.cursors import PageRequest
from app.web.unit_of_work import WorkRoute

router = APIRouter(
    prefix="/initiatives", tags=["initiatives"], responses=PROBLEM_RESPONSES, route_class=WorkRoute
)

InitiativePage = Annotated[
    PageRequest[tuple[datetime, uuid.UUID]], keyset("initiatives", datetime, uuid.UUID)
]


@router.get(
    "",
    response_model=Page[InitiativePublic],
    summary="List resident initiatives (public)",
    description="Newest first. Filters combine with AND. Anonymous callers see initiatives past the "
    "idea stage; members of a network also see their network's ideas.",
)
async def list_initiatives(
    uow: UoW,
    principal: MaybeCaller,
    page: InitiativePage,
    neighbourhood: Annotated[
        str | None, Query(pattern=r"^BU\d{8}$", description="Buurt code, e.g. BU03630001.")
    ] = None,
    network_id: Annotated[uuid.UUID | None, Query(description="Only this resident network.")] = None,
    status: Annotated[list[InitiativeStatus] | None, Query(description="One or more statuses.")] = None,
    theme: Annotated[SingleLine | None, Query(max_length=40, description="Theme code, e.g. debts.")] = None,
    municipality: Annotated[
        str | None, Query(pattern=r"^GM\d{4}$", description="Municipality code, e.g. GM0363.")
    ] = None,
) -> Page[InitiativePublic]:
    flt = InitiativeFilter(
        neighbourhood=neighbourhood,
        network_id=network_id,
        statuses=tuple(status or ()),
        theme=theme,
        municipality=municipality,
    )
    views = await service.public_initiatives(uow, principal, flt, limit=page.fetch, after=page.after)
    # Cut on the views: the public shape has no created_at, the key of this list.
    items, following = page.cut(views, lambda v: (v.created_at, v.id))
    return Page(items=[InitiativePublic.of(v) for v in items], next_cursor=following)


@router.get(
    "/{initiative_id:uuid}",
    response_model=InitiativePublic,
    summary="One resident initiative (public)",
    description="404 for an unknown id and for an idea of a network you are not a member of.",
)
async def get_initiative(uow: UoW, principal: MaybeCaller, initiative_id: uuid.UUID) -> InitiativePublic:
    return InitiativePublic.of(await service.public_initiative(uow, principal, initiative_id))
