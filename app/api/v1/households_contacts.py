"""Contact moments: ``/api/v1/households/{household_id}/contacts`` — one quick POST, and the list."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.api.deps import Requires, Session
from app.api.idempotency import Idempotent
from app.api.pagination import CursorParam, Limit, Page
from app.api.problems import PROBLEM_RESPONSES, problem_responses
from app.api.v1.households_access import CaseRoute, cursor_secret, decode_time_cursor, encode_time_cursor
from app.domain.households import contacts
from app.domain.households.schemas import ContactCreate, ContactRead
from app.security.scopes import Scope

router = APIRouter(tags=["households"], responses=PROBLEM_RESPONSES, route_class=CaseRoute)

BASE = "/households/{household_id}/contacts"


@router.get(BASE, response_model=Page[ContactRead], summary="List contact moments, most recent first")
async def list_contacts(
    request: Request,
    session: Session,
    principal: Requires(Scope.cases_read),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[ContactRead]:
    secret = cursor_secret(request)
    items = await contacts.list_contacts(
        session, principal, household_id, limit=limit + 1, after=decode_time_cursor(cursor, secret)
    )
    last = items[limit - 1] if len(items) > limit else None
    return Page(
        items=items[:limit],
        next_cursor=encode_time_cursor(last.occurred_at, last.id, secret) if last else None,
    )


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    response_model=ContactRead,
    responses=problem_responses(409),
    summary="Record a contact moment (Idempotency-Key honoured)",
    description="Kind (home_visit, phone, office, online), when, minutes and a short note (<= 2000).",
)
async def create_contact(
    response: Response,
    session: Session,
    principal: Requires(Scope.cases_write),  # type: ignore[valid-type]
    household_id: uuid.UUID,
    body: ContactCreate,
    _: Idempotent,
) -> ContactRead:
    contact = await contacts.create_contact(session, principal, household_id, body)
    response.headers["Location"] = f"/api/v1/households/{household_id}/contacts/{contact.id}"
    return contact
