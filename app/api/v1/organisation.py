"""Organisation set-up for administrators (scope ``admin`` only; no case data is reachable here).

Municipality, wijken and buurten (CBS codes), teams and the buurten they cover, workers, partner
organisations, OAuth clients and the people who sign in. Lists are cursor-paginated in a stable order:
municipalities and areas by code, teams, workers and partners by name, clients by client_id, people
by username, each with the id as tie-breaker.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.auth import Admin
from app.api.deps import Hasher, UoW
from app.api.pagination import Page, keyset
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
from app.web.cursors import PageRequest
from app.web.unit_of_work import WorkRoute

router = APIRouter(tags=["organisation"], responses=PROBLEM_RESPONSES, route_class=WorkRoute)

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "A rule of the current state"}
}

# One page dependency per list, keyed by (sort value, id).
ByName = PageRequest[tuple[str, uuid.UUID]]
MunicipalityPage = Annotated[ByName, keyset("municipalities", str, uuid.UUID)]
AreaPage = Annotated[ByName, keyset("areas", str, uuid.UUID)]
TeamPage = Annotated[ByName, keyset("teams", str, uuid.UUID)]
WorkerPage = Annotated[ByName, keyset("workers", str, uuid.UUID)]
PartnerPage = Annotated[ByName, keyset("partner_organisations", str, uuid.UUID)]
ClientPage = Annotated[ByName, keyset("oauth_clients", str, uuid.UUID)]
UserPage = Annotated[ByName, keyset("users", str, uuid.UUID)]


def _credentials(client: Any, secret: str | None) -> ClientCredentials:
    return ClientCredentials.model_validate(client).model_copy(update={"client_secret": secret})


# -- municipality ----------------------------------------------------------------------------------


@router.get("/municipalities", response_model=Page[MunicipalityRead], summary="List municipalities")
async def list_municipalities(uow: UoW, principal: Admin, page: MunicipalityPage) -> Page[MunicipalityRead]:
    rows = await service.list_municipalities(uow, limit=page.fetch, after=page.after)
    return Page.cut(page, [MunicipalityRead.model_validate(m) for m in rows], lambda m: (m.code, m.id))


@router.post(
    "/municipalities",
    status_code=201,
    response_model=MunicipalityRead,
    responses=CONFLICT,
    summary="Add a municipality",
)
async def create_municipality(body: MunicipalityCreate, uow: UoW, principal: Admin) -> Any:
    return await service.create_municipality(uow, body)


@router.get(
    "/municipalities/{municipality_id:uuid}", response_model=MunicipalityRead, summary="Read a municipality"
)
async def get_municipality(municipality_id: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return await service.get_municipality(uow, municipality_id)


@router.patch(
    "/municipalities/{municipality_id:uuid}", response_model=MunicipalityRead, summary="Rename a municipality"
)
async def update_municipality(
    municipality_id: uuid.UUID,
    body: MunicipalityUpdate,
    uow: UoW,
    principal: Admin,
) -> Any:
    return await service.update_municipality(uow, municipality_id, body)


# -- areas -----------------------------------------------------------------------------------------


@router.get("/areas", response_model=Page[AreaRead], summary="List wijken and buurten (by code)")
async def list_areas(
    uow: UoW,
    principal: Admin,
    page: AreaPage,
    municipality_id: uuid.UUID | None = Query(default=None, description="Only this municipality's areas."),
    level: AreaLevel | None = Query(default=None, description="Only wijken or only buurten."),
    parent_id: uuid.UUID | None = Query(default=None, description="Only the buurten of this wijk."),
) -> Page[AreaRead]:
    rows = await service.list_areas(
        uow,
        limit=page.fetch,
        after=page.after,
        municipality_id=municipality_id,
        level=level,
        parent_id=parent_id,
    )
    return Page.cut(page, rows, lambda a: (a.code, a.id))


@router.post(
    "/areas", status_code=201, response_model=AreaRead, responses=CONFLICT, summary="Add a wijk or a buurt"
)
async def create_area(body: AreaCreate, uow: UoW, principal: Admin) -> Any:
    return await service.create_area(uow, body)


@router.get("/areas/{area_id:uuid}", response_model=AreaRead, summary="Read a wijk or buurt")
async def get_area(area_id: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return await service.get_area(uow, area_id)


@router.patch(
    "/areas/{area_id:uuid}", response_model=AreaRead, summary="Rename a wijk or buurt (codes are fixed)"
)
async def update_area(area_id: uuid.UUID, body: AreaUpdate, uow: UoW, principal: Admin) -> Any:
    return await service.update_area(uow, area_id, body)


# -- teams -----------------------------------------------------------------------------------------


@router.get("/teams", response_model=Page[TeamRead], summary="List teams with the buurten they cover")
async def list_teams(
    uow: UoW,
    principal: Admin,
    page: TeamPage,
    municipality_id: uuid.UUID | None = Query(default=None, description="Only this municipality's teams."),
) -> Page[TeamRead]:
    rows = await service.list_teams(uow, limit=page.fetch, after=page.after, municipality_id=municipality_id)
    return Page.cut(page, rows, lambda t: (t.name, t.id))


@router.post("/teams", status_code=201, response_model=TeamRead, responses=CONFLICT, summary="Add a team")
async def create_team(body: TeamCreate, uow: UoW, principal: Admin) -> Any:
    return await service.create_team(uow, body)


@router.get("/teams/{team_id:uuid}", response_model=TeamRead, summary="Read a team")
async def get_team(team_id: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return await service.get_team(uow, team_id)


@router.patch("/teams/{team_id:uuid}", response_model=TeamRead, responses=CONFLICT, summary="Rename a team")
async def update_team(team_id: uuid.UUID, body: TeamUpdate, uow: UoW, principal: Admin) -> Any:
    return await service.update_team(uow, team_id, body)


@router.post(
    "/teams/{team_id:uuid}/buurten",
    response_model=TeamRead,
    responses=CONFLICT,
    summary="Let the team cover a buurt (a buurt belongs to at most one team)",
)
async def add_team_buurt(team_id: uuid.UUID, body: TeamBuurtAdd, uow: UoW, principal: Admin) -> Any:
    return await service.add_buurt(uow, team_id, body.buurt_id)


@router.delete(
    "/teams/{team_id:uuid}/buurten/{buurt_id:uuid}", response_model=TeamRead, summary="Stop covering a buurt"
)
async def remove_team_buurt(team_id: uuid.UUID, buurt_id: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return await service.remove_buurt(uow, team_id, buurt_id)


# -- workers ---------------------------------------------------------------------------------------


@router.get("/workers", response_model=Page[WorkerRead], summary="List workers")
async def list_workers(
    uow: UoW,
    principal: Admin,
    page: WorkerPage,
    team_id: uuid.UUID | None = Query(default=None, description="Only members of this team."),
    active: bool | None = Query(default=None, description="Only active or only inactive workers."),
) -> Page[WorkerRead]:
    rows = await service.list_workers(uow, limit=page.fetch, after=page.after, team_id=team_id, active=active)
    return Page.cut(page, rows, lambda w: (w.name, w.id))


@router.post("/workers", status_code=201, response_model=WorkerRead, summary="Add a worker")
async def create_worker(body: WorkerCreate, uow: UoW, principal: Admin) -> Any:
    return await service.create_worker(uow, body)


@router.get("/workers/{worker_id:uuid}", response_model=WorkerRead, summary="Read a worker")
async def get_worker(worker_id: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return await service.get_worker(uow, worker_id)


@router.patch(
    "/workers/{worker_id:uuid}", response_model=WorkerRead, summary="Update a worker and their teams"
)
async def update_worker(worker_id: uuid.UUID, body: WorkerUpdate, uow: UoW, principal: Admin) -> Any:
    return await service.update_worker(uow, worker_id, body)


# -- partner organisations -------------------------------------------------------------------------


@router.get("/partner-organisations", response_model=Page[PartnerRead], summary="List partner organisations")
async def list_partners(
    uow: UoW,
    principal: Admin,
    page: PartnerPage,
    active: bool | None = Query(default=None, description="Only active or only inactive organisations."),
) -> Page[PartnerRead]:
    rows = await service.list_partners(uow, limit=page.fetch, after=page.after, active=active)
    return Page.cut(page, [PartnerRead.model_validate(p) for p in rows], lambda p: (p.name, p.id))


@router.post("/partner-organisations", status_code=201, response_model=PartnerRead, summary="Add a partner")
async def create_partner(body: PartnerCreate, uow: UoW, principal: Admin) -> Any:
    return await service.create_partner(uow, body)


@router.get("/partner-organisations/{partner_id:uuid}", response_model=PartnerRead, summary="Read a partner")
async def get_partner(partner_id: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return await service.get_partner(uow, partner_id)


@router.patch(
    "/partner-organisations/{partner_id:uuid}", response_model=PartnerRead, summary="Update a partner"
)
async def update_partner(partner_id: uuid.UUID, body: PartnerUpdate, uow: UoW, principal: Admin) -> Any:
    return await service.update_partner(uow, partner_id, body)


# -- OAuth clients ---------------------------------------------------------------------------------


@router.get("/oauth-clients", response_model=Page[ClientRead], summary="List OAuth clients (never secrets)")
async def list_clients(
    uow: UoW,
    principal: Admin,
    page: ClientPage,
    role: Role | None = Query(default=None, description="Only clients acting as this role."),
    organisation_id: uuid.UUID | None = Query(default=None, description="Only this partner's clients."),
) -> Page[ClientRead]:
    rows = await accounts.list_clients(
        uow, limit=page.fetch, after=page.after, role=role, organisation_id=organisation_id
    )
    return Page.cut(page, [ClientRead.model_validate(c) for c in rows], lambda c: (c.client_id, c.id))


@router.post(
    "/oauth-clients",
    status_code=201,
    response_model=ClientCredentials,
    responses=CONFLICT,
    summary="Register a client; a client_secret_basic secret is returned this once",
)
async def create_client(body: ClientCreate, uow: UoW, principal: Admin, hasher: Hasher) -> Any:
    client, secret = await accounts.create_client(uow, body, hasher)
    return _credentials(client, secret)


@router.get("/oauth-clients/{client_pk:uuid}", response_model=ClientRead, summary="Read a client")
async def get_client(client_pk: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return await accounts.get_client(uow, client_pk)


@router.patch(
    "/oauth-clients/{client_pk:uuid}", response_model=ClientRead, summary="Update scopes, redirects, state"
)
async def update_client(client_pk: uuid.UUID, body: ClientUpdate, uow: UoW, principal: Admin) -> Any:
    return await accounts.update_client(uow, client_pk, body)


@router.post(
    "/oauth-clients/{client_pk:uuid}/secret",
    response_model=ClientCredentials,
    responses=CONFLICT,
    summary="Rotate the secret (the old one stops working); the new one is returned this once",
)
async def rotate_client_secret(client_pk: uuid.UUID, uow: UoW, principal: Admin, hasher: Hasher) -> Any:
    client, secret = await accounts.rotate_client_secret(uow, client_pk, hasher)
    return _credentials(client, secret)


@router.put(
    "/oauth-clients/{client_pk:uuid}/jwks",
    response_model=ClientRead,
    responses=CONFLICT,
    summary="Register public keys: the client authenticates with private_key_jwt from now on",
)
async def set_client_jwks(client_pk: uuid.UUID, body: ClientJwks, uow: UoW, principal: Admin) -> Any:
    return await accounts.set_client_jwks(uow, client_pk, body.jwks)


# -- users -----------------------------------------------------------------------------------------


@router.get("/users", response_model=Page[UserRead], summary="List people who sign in (no password hashes)")
async def list_users(
    uow: UoW,
    principal: Admin,
    page: UserPage,
    role: Role | None = Query(default=None, description="Only people with this role."),
) -> Page[UserRead]:
    rows = await accounts.list_users(uow, limit=page.fetch, after=page.after, role=role)
    return Page.cut(page, [accounts.user_read(u) for u in rows], lambda u: (u.username, u.id))


@router.post("/users", status_code=201, response_model=UserRead, responses=CONFLICT, summary="Add a person")
async def create_user(body: UserCreate, uow: UoW, principal: Admin, hasher: Hasher) -> Any:
    return accounts.user_read(await accounts.create_user(uow, body, hasher))


@router.get("/users/{user_id:uuid}", response_model=UserRead, summary="Read a person")
async def get_user(user_id: uuid.UUID, uow: UoW, principal: Admin) -> Any:
    return accounts.user_read(await accounts.get_user(uow, user_id))


@router.patch(
    "/users/{user_id:uuid}",
    response_model=UserRead,
    responses=CONFLICT,
    summary="Update role, links or password",
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, uow: UoW, principal: Admin, hasher: Hasher
) -> Any:
    return accounts.user_read(await accounts.update_user(uow, user_id, body, hasher))
