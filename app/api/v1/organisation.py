"""Organisation set-up for administrators (scope ``admin`` only; no case data is reachable here).

Municipality, wijken and buurten (CBS codes), teams and the buurten they cover, workers, partner
organisations, OAuth clients and the people who sign in. Lists are cursor-paginated in a stable order.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request

from app.api.auth import Admin
from app.api.deps import Session
from app.api.pagination import CursorParam, Limit, Page, request_cursors
from app.api.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem
from app.domain.identity import accounts
from app.domain.identity.schemas import (
    ClientCreate,
    ClientCredentials,
    ClientJwks,
    ClientRead,
    ClientUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.domain.organisation import service
from app.domain.organisation.models import AreaLevel
from app.domain.organisation.schemas import (
    AreaCreate,
    AreaRead,
    AreaUpdate,
    MunicipalityCreate,
    MunicipalityRead,
    MunicipalityUpdate,
    PartnerCreate,
    PartnerRead,
    PartnerUpdate,
    TeamBuurtAdd,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    WorkerCreate,
    WorkerRead,
    WorkerUpdate,
)
from app.security.scopes import Role
from app.web.cursors import cursor_invalid

router = APIRouter(tags=["organisation"], responses=PROBLEM_RESPONSES)

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "A rule of the current state"}
}


def _after(request: Request, kind: str, cursor: str | None) -> list[Any] | None:
    """The sort key a cursor carries (TRANSITIONAL: until these lists take ``keyset``)."""
    parts = request_cursors(request).decode_parts(kind, cursor)
    if parts is not None and len(parts) != 2:
        raise cursor_invalid()
    return parts


def _page(request: Request, kind: str, items: list[Any], key: list[str] | None) -> dict[str, Any]:
    cursor = request_cursors(request).encode(kind, key) if key else None
    return {"items": items, "next_cursor": cursor}


def _credentials(client: Any, secret: str | None) -> ClientCredentials:
    return ClientCredentials.model_validate(client).model_copy(update={"client_secret": secret})


# -- municipality ----------------------------------------------------------------------------------


@router.get("/municipalities", response_model=Page[MunicipalityRead], summary="List municipalities")
async def list_municipalities(
    request: Request,
    session: Session,
    principal: Admin,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Any:
    rows, key = await service.list_municipalities(session, _after(request, "gm", cursor), limit)
    return _page(request, "gm", rows, key)


@router.post(
    "/municipalities",
    status_code=201,
    response_model=MunicipalityRead,
    responses=CONFLICT,
    summary="Add a municipality",
)
async def create_municipality(body: MunicipalityCreate, session: Session, principal: Admin) -> Any:
    return await service.create_municipality(session, body)


@router.get(
    "/municipalities/{municipality_id}", response_model=MunicipalityRead, summary="Read a municipality"
)
async def get_municipality(municipality_id: uuid.UUID, session: Session, principal: Admin) -> Any:
    return await service.get_municipality(session, municipality_id)


@router.patch(
    "/municipalities/{municipality_id}", response_model=MunicipalityRead, summary="Rename a municipality"
)
async def update_municipality(
    municipality_id: uuid.UUID,
    body: MunicipalityUpdate,
    session: Session,
    principal: Admin,
) -> Any:
    return await service.update_municipality(session, municipality_id, body)


# -- areas -----------------------------------------------------------------------------------------


@router.get("/areas", response_model=Page[AreaRead], summary="List wijken and buurten (by code)")
async def list_areas(
    request: Request,
    session: Session,
    principal: Admin,
    limit: Limit = 50,
    cursor: CursorParam = None,
    municipality_id: uuid.UUID | None = Query(default=None, description="Only this municipality's areas."),
    level: AreaLevel | None = Query(default=None, description="Only wijken or only buurten."),
    parent_id: uuid.UUID | None = Query(default=None, description="Only the buurten of this wijk."),
) -> Any:
    rows, key = await service.list_areas(
        session,
        _after(request, "area", cursor),
        limit,
        municipality_id=municipality_id,
        level=level,
        parent_id=parent_id,
    )
    return _page(request, "area", rows, key)


@router.post(
    "/areas", status_code=201, response_model=AreaRead, responses=CONFLICT, summary="Add a wijk or a buurt"
)
async def create_area(body: AreaCreate, session: Session, principal: Admin) -> Any:
    return await service.create_area(session, body)


@router.get("/areas/{area_id}", response_model=AreaRead, summary="Read a wijk or buurt")
async def get_area(area_id: uuid.UUID, session: Session, principal: Admin) -> Any:
    return await service.get_area(session, area_id)


@router.patch("/areas/{area_id}", response_model=AreaRead, summary="Rename a wijk or buurt (codes are fixed)")
async def update_area(area_id: uuid.UUID, body: AreaUpdate, session: Session, principal: Admin) -> Any:
    return await service.update_area(session, area_id, body)


# -- teams -----------------------------------------------------------------------------------------


@router.get("/teams", response_model=Page[TeamRead], summary="List teams with the buurten they cover")
async def list_teams(
    request: Request,
    session: Session,
    principal: Admin,
    limit: Limit = 50,
    cursor: CursorParam = None,
    municipality_id: uuid.UUID | None = Query(default=None, description="Only this municipality's teams."),
) -> Any:
    rows, key = await service.list_teams(
        session, _after(request, "team", cursor), limit, municipality_id=municipality_id
    )
    return _page(request, "team", rows, key)


@router.post("/teams", status_code=201, response_model=TeamRead, responses=CONFLICT, summary="Add a team")
async def create_team(body: TeamCreate, session: Session, principal: Admin) -> Any:
    return await service.create_team(session, body)


@router.get("/teams/{team_id}", response_model=TeamRead, summary="Read a team")
async def get_team(team_id: uuid.UUID, session: Session, principal: Admin) -> Any:
    return await service.get_team(session, team_id)


@router.patch("/teams/{team_id}", response_model=TeamRead, responses=CONFLICT, summary="Rename a team")
async def update_team(team_id: uuid.UUID, body: TeamUpdate, session: Session, principal: Admin) -> Any:
    return await service.update_team(session, team_id, body)


@router.post(
    "/teams/{team_id}/buurten",
    response_model=TeamRead,
    responses=CONFLICT,
    summary="Let the team cover a buurt (a buurt belongs to at most one team)",
)
async def add_team_buurt(team_id: uuid.UUID, body: TeamBuurtAdd, session: Session, principal: Admin) -> Any:
    return await service.add_buurt(session, team_id, body.buurt_id)


@router.delete(
    "/teams/{team_id}/buurten/{buurt_id}", response_model=TeamRead, summary="Stop covering a buurt"
)
async def remove_team_buurt(
    team_id: uuid.UUID, buurt_id: uuid.UUID, session: Session, principal: Admin
) -> Any:
    return await service.remove_buurt(session, team_id, buurt_id)


# -- workers ---------------------------------------------------------------------------------------


@router.get("/workers", response_model=Page[WorkerRead], summary="List workers")
async def list_workers(
    request: Request,
    session: Session,
    principal: Admin,
    limit: Limit = 50,
    cursor: CursorParam = None,
    team_id: uuid.UUID | None = Query(default=None, description="Only members of this team."),
    active: bool | None = Query(default=None, description="Only active or only inactive workers."),
) -> Any:
    rows, key = await service.list_workers(
        session, _after(request, "worker", cursor), limit, team_id=team_id, active=active
    )
    return _page(request, "worker", rows, key)


@router.post("/workers", status_code=201, response_model=WorkerRead, summary="Add a worker")
async def create_worker(body: WorkerCreate, session: Session, principal: Admin) -> Any:
    return await service.create_worker(session, body)


@router.get("/workers/{worker_id}", response_model=WorkerRead, summary="Read a worker")
async def get_worker(worker_id: uuid.UUID, session: Session, principal: Admin) -> Any:
    return await service.get_worker(session, worker_id)


@router.patch("/workers/{worker_id}", response_model=WorkerRead, summary="Update a worker and their teams")
async def update_worker(worker_id: uuid.UUID, body: WorkerUpdate, session: Session, principal: Admin) -> Any:
    return await service.update_worker(session, worker_id, body)


# -- partner organisations -------------------------------------------------------------------------


@router.get("/partner-organisations", response_model=Page[PartnerRead], summary="List partner organisations")
async def list_partners(
    request: Request,
    session: Session,
    principal: Admin,
    limit: Limit = 50,
    cursor: CursorParam = None,
    active: bool | None = Query(default=None, description="Only active or only inactive organisations."),
) -> Any:
    rows, key = await service.list_partners(session, _after(request, "partner", cursor), limit, active=active)
    return _page(request, "partner", rows, key)


@router.post("/partner-organisations", status_code=201, response_model=PartnerRead, summary="Add a partner")
async def create_partner(body: PartnerCreate, session: Session, principal: Admin) -> Any:
    return await service.create_partner(session, body)


@router.get("/partner-organisations/{partner_id}", response_model=PartnerRead, summary="Read a partner")
async def get_partner(partner_id: uuid.UUID, session: Session, principal: Admin) -> Any:
    return await service.get_partner(session, partner_id)


@router.patch("/partner-organisations/{partner_id}", response_model=PartnerRead, summary="Update a partner")
async def update_partner(
    partner_id: uuid.UUID, body: PartnerUpdate, session: Session, principal: Admin
) -> Any:
    return await service.update_partner(session, partner_id, body)


# -- OAuth clients ---------------------------------------------------------------------------------


@router.get("/oauth-clients", response_model=Page[ClientRead], summary="List OAuth clients (never secrets)")
async def list_clients(
    request: Request,
    session: Session,
    principal: Admin,
    limit: Limit = 50,
    cursor: CursorParam = None,
    role: Role | None = Query(default=None, description="Only clients acting as this role."),
    organisation_id: uuid.UUID | None = Query(default=None, description="Only this partner's clients."),
) -> Any:
    rows, key = await accounts.list_clients(
        session, _after(request, "client", cursor), limit, role=role, organisation_id=organisation_id
    )
    return _page(request, "client", rows, key)


@router.post(
    "/oauth-clients",
    status_code=201,
    response_model=ClientCredentials,
    responses=CONFLICT,
    summary="Register a client; a client_secret_basic secret is returned this once",
)
async def create_client(body: ClientCreate, session: Session, principal: Admin) -> Any:
    client, secret = await accounts.create_client(session, body)
    return _credentials(client, secret)


@router.get("/oauth-clients/{client_pk}", response_model=ClientRead, summary="Read a client")
async def get_client(client_pk: uuid.UUID, session: Session, principal: Admin) -> Any:
    return await accounts.get_client(session, client_pk)


@router.patch(
    "/oauth-clients/{client_pk}", response_model=ClientRead, summary="Update scopes, redirects, state"
)
async def update_client(client_pk: uuid.UUID, body: ClientUpdate, session: Session, principal: Admin) -> Any:
    return await accounts.update_client(session, client_pk, body)


@router.post(
    "/oauth-clients/{client_pk}/secret",
    response_model=ClientCredentials,
    responses=CONFLICT,
    summary="Rotate the secret (the old one stops working); the new one is returned this once",
)
async def rotate_client_secret(client_pk: uuid.UUID, session: Session, principal: Admin) -> Any:
    client, secret = await accounts.rotate_client_secret(session, client_pk)
    return _credentials(client, secret)


@router.put(
    "/oauth-clients/{client_pk}/jwks",
    response_model=ClientRead,
    responses=CONFLICT,
    summary="Register public keys: the client authenticates with private_key_jwt from now on",
)
async def set_client_jwks(client_pk: uuid.UUID, body: ClientJwks, session: Session, principal: Admin) -> Any:
    return await accounts.set_client_jwks(session, client_pk, body.jwks)


# -- users -----------------------------------------------------------------------------------------


@router.get("/users", response_model=Page[UserRead], summary="List people who sign in (no password hashes)")
async def list_users(
    request: Request,
    session: Session,
    principal: Admin,
    limit: Limit = 50,
    cursor: CursorParam = None,
    role: Role | None = Query(default=None, description="Only people with this role."),
) -> Any:
    rows, key = await accounts.list_users(session, _after(request, "user", cursor), limit, role=role)
    return _page(request, "user", [accounts.user_read(u) for u in rows], key)


@router.post("/users", status_code=201, response_model=UserRead, responses=CONFLICT, summary="Add a person")
async def create_user(body: UserCreate, session: Session, principal: Admin) -> Any:
    return accounts.user_read(await accounts.create_user(session, body))


@router.get("/users/{user_id}", response_model=UserRead, summary="Read a person")
async def get_user(user_id: uuid.UUID, session: Session, principal: Admin) -> Any:
    return accounts.user_read(await accounts.get_user(session, user_id))


@router.patch(
    "/users/{user_id}", response_model=UserRead, responses=CONFLICT, summary="Update role, links or password"
)
async def update_user(user_id: uuid.UUID, body: UserUpdate, session: Session, principal: Admin) -> Any:
    return accounts.user_read(await accounts.update_user(session, user_id, body))
