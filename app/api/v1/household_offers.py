"""``GET /api/v1/households/{household_id}/offers``: what is there for this household, from the sociale
kaart and the resident initiatives of its buurt (``app.domain.readmodel.household_offers``: one
statement checks access, writes the access-log row and builds the page)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from app.api.auth import CaseReader
from app.api.deps import UoW
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES
from app.domain.readmodel.household_offers import Key, household_offers, key_of
from app.domain.readmodel.household_offers_schemas import OfferRead
from app.web.cursors import PageRequest
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

OffersPage = Annotated[PageRequest[Key], keyset("household_offers", int, int, str, uuid.UUID)]


@router.get(
    "/households/{household_id:uuid}/offers",
    response_model=Page[OfferRead],
    summary="What is there for this household: services and initiatives in its buurt",
    description="Active services of the sociale kaart serving the household's buurt and running resident "
    "initiatives of the buurt that carry one of its themes or the life domain of one of its open goals; "
    "nearest first (offered in the buurt, for the buurt, its wijk, the whole municipality), then the most "
    "matches, then the name. A read of the household's file: it shows its themes and open goals.",
)
async def offers_for_household(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID, page: OffersPage
) -> Page[OfferRead]:
    offers = await household_offers(uow, principal, household_id, limit=page.fetch, after=page.after)
    return Page.cut(page, offers, key_of)
