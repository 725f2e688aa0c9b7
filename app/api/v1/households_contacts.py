"""Contact moments: ``/api/v1/households/{household_id}/contacts`` — one quick POST, and the list."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status

from app.api.auth import CaseReader, CaseWriter
from app.api.deps import UoW
from app.api.idempotency import Idempotent, IdempotentRoute
from app.api.pagination import Page, keyset
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.domain.households import contacts
from app.domain.households.schemas import ContactCreate, ContactRead
from app.web.cursors import PageRequest

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=IdempotentRoute)

BASE = "/households/{household_id:uuid}/contacts"
ContactPage = Annotated[PageRequest[tuple[datetime, uuid.UUID]], keyset("contacts", datetime, uuid.UUID)]


@router.get(BASE, response_model=Page[ContactRead], summary="List contact moments, most recent first")
async def list_contacts(
    uow: UoW, principal: CaseReader, household_id: uuid.UUID, page: ContactPage
) -> Page[ContactRead]:
    items = await contacts.list_contacts(uow, principal, household_id, limit=page.fetch, after=page.after)
    return Page.cut(page, items, lambda c: (c.occurred_at, c.id))


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    response_model=ContactRead,
    responses=problem_responses(409),
    summary="Record a contact moment (Idempotency-Key honoured)",
    description="Kind (home_visit, phone, office, online), when, minutes and a short note (<= 2000).",
)
async def create_contact(
    uow: UoW, principal: CaseWriter, household_id: uuid.UUID, body: ContactCreate, _: Idempotent
) -> Response:
    contact = await contacts.create_contact(uow, principal, household_id, body)
    # The answer as bytes, serialised once by the model it already is (FastAPI would validate the
    # returned model against ``response_model`` again and serialise it the same way; a test compares).
    response = Response(contact.model_dump_json(), status.HTTP_201_CREATED, media_type="application/json")
    response.headers["Location"] = f"/api/v1/households/{household_id}/contacts/{contact.id}"
    return response
