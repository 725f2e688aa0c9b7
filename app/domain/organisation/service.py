"""Use cases of the organisation context: what an administrator sets up (no case data here).

One deployment serves one municipality; the tables allow several (the tests make one per test), and an
administrator manages all of them. Services raise domain errors, never commit, and never import HTTP.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.auth.passwords import hash_secret
from app.auth.scopes import Role, allowed_scopes
from app.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.domain.organisation import repository as repo
from app.domain.organisation import rules
from app.domain.organisation.models import (
    Area,
    AreaLevel,
    ClientAuthMethod,
    Municipality,
    OAuthClient,
    PartnerOrganisation,
    Team,
    User,
    Worker,
)
from app.domain.organisation.schemas import (
    AreaCreate,
    AreaRead,
    AreaUpdate,
    ClientCreate,
    ClientUpdate,
    MunicipalityCreate,
    MunicipalityUpdate,
    PartnerCreate,
    PartnerUpdate,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
    WorkerCreate,
    WorkerRead,
    WorkerUpdate,
)

M = TypeVar("M", bound=SQLModel)
PageKey = list[str] | None

# What each list is ordered by (with the id as tie-breaker): stable, and indexed or small.
SORT_KEYS: dict[type[SQLModel], str] = {
    Municipality: "code",
    Area: "code",
    Team: "name",
    Worker: "name",
    PartnerOrganisation: "name",
    OAuthClient: "client_id",
    User: "username",
}


# -- shared helpers --------------------------------------------------------------------------------


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def _changes(data: BaseModel, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH sets; ``null`` only where the field may be empty."""
    changes = data.model_dump(exclude_unset=True)
    _raise_if(
        [
            FieldError(("body", name), "This field cannot be null.", "not_nullable")
            for name, value in changes.items()
            if value is None and name not in nullable
        ]
    )
    return changes


async def _flush(session: AsyncSession, rule: str, detail: str) -> None:
    """Flush, turning a unique-constraint race into the same 409 the pre-check gives."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(detail, rule=rule) from error


async def _require(session: AsyncSession, model: type[M], object_id: uuid.UUID, what: str) -> M:
    found = await repo.get(session, model, object_id)
    if found is None:
        raise NotFound(what)
    return found


async def _page(
    session: AsyncSession, model: type[M], after: list[Any] | None, limit: int, where: Sequence[Any] = ()
) -> tuple[list[M], PageKey]:
    sort = SORT_KEYS[model]
    rows, more = await repo.page(session, model, getattr(model, sort), after, limit, where)
    key = [str(getattr(rows[-1], sort)), str(rows[-1].id)] if more and rows else None  # type: ignore[attr-defined]
    return rows, key


async def _hash(secret: str) -> str:
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(hash_secret, secret)


# -- municipalities --------------------------------------------------------------------------------


async def create_municipality(session: AsyncSession, data: MunicipalityCreate) -> Municipality:
    _raise_if(rules.check_municipality_code(data.code))
    if await repo.municipality_by_code(session, data.code):
        raise Conflict("A municipality with this code exists.", rule="municipality_code_taken")
    municipality = Municipality(code=data.code, name=data.name)
    session.add(municipality)
    await _flush(session, "municipality_code_taken", "A municipality with this code exists.")
    return municipality


async def get_municipality(session: AsyncSession, municipality_id: uuid.UUID) -> Municipality:
    return await _require(session, Municipality, municipality_id, "municipality")


async def update_municipality(
    session: AsyncSession, municipality_id: uuid.UUID, data: MunicipalityUpdate
) -> Municipality:
    municipality = await get_municipality(session, municipality_id)
    for name, value in _changes(data).items():
        setattr(municipality, name, value)
    await session.flush()
    return municipality


async def list_municipalities(
    session: AsyncSession, after: list[Any] | None, limit: int
) -> tuple[list[Municipality], PageKey]:
    return await _page(session, Municipality, after, limit)


# -- areas -----------------------------------------------------------------------------------------


async def _area_reads(session: AsyncSession, areas: list[Area]) -> list[AreaRead]:
    teams = await repo.teams_of_buurten(session, [a.id for a in areas if a.level == AreaLevel.buurt])
    return [AreaRead.model_validate(a).model_copy(update={"team_id": teams.get(a.id)}) for a in areas]


async def _parent_for(session: AsyncSession, data: AreaCreate) -> Area | None:
    if data.parent_id is not None:
        parent = await repo.get(session, Area, data.parent_id)
        if parent is None or parent.municipality_id != data.municipality_id:
            message = "No such wijk in this municipality."
            raise ValidationFailed([FieldError(("body", "parent_id"), message, "unknown_area")])
        return parent
    if rules.area_level(data.code) is AreaLevel.buurt:
        parent = await repo.area_by_code(session, rules.parent_wijk_code(data.code))
        if parent is not None and parent.municipality_id == data.municipality_id:
            return parent
    return None


async def create_area(session: AsyncSession, data: AreaCreate) -> AreaRead:
    municipality = await repo.get(session, Municipality, data.municipality_id)
    if municipality is None:
        message = "No such municipality."
        raise ValidationFailed([FieldError(("body", "municipality_id"), message, "unknown_municipality")])
    parent = await _parent_for(session, data)
    _raise_if(rules.check_area_code(data.code, municipality.code, parent.code if parent else None))
    if await repo.area_by_code(session, data.code):
        raise Conflict("An area with this code exists.", rule="area_code_taken")
    level = rules.area_level(data.code)
    area = Area(
        municipality_id=municipality.id,
        parent_id=parent.id if parent else None,
        code=data.code,
        name=data.name,
        level=str(level),
    )
    session.add(area)
    await _flush(session, "area_code_taken", "An area with this code exists.")
    return (await _area_reads(session, [area]))[0]


async def get_area(session: AsyncSession, area_id: uuid.UUID) -> AreaRead:
    return (await _area_reads(session, [await _require(session, Area, area_id, "area")]))[0]


async def update_area(session: AsyncSession, area_id: uuid.UUID, data: AreaUpdate) -> AreaRead:
    area = await _require(session, Area, area_id, "area")
    for name, value in _changes(data).items():
        setattr(area, name, value)
    await session.flush()
    return (await _area_reads(session, [area]))[0]


async def list_areas(
    session: AsyncSession,
    after: list[Any] | None,
    limit: int,
    *,
    municipality_id: uuid.UUID | None = None,
    level: AreaLevel | None = None,
    parent_id: uuid.UUID | None = None,
) -> tuple[list[AreaRead], PageKey]:
    where = []
    if municipality_id is not None:
        where.append(col(Area.municipality_id) == municipality_id)
    if level is not None:
        where.append(col(Area.level) == str(level))
    if parent_id is not None:
        where.append(col(Area.parent_id) == parent_id)
    rows, key = await _page(session, Area, after, limit, where)
    return await _area_reads(session, rows), key


# -- teams and the buurten they cover ----------------------------------------------------------------


async def _team_reads(session: AsyncSession, teams: list[Team]) -> list[TeamRead]:
    coverage = await repo.buurten_of_teams(session, [t.id for t in teams])
    return [
        TeamRead.model_validate(t).model_copy(update={"buurt_ids": coverage.get(t.id, [])}) for t in teams
    ]


async def _cover(session: AsyncSession, team: Team, buurt_id: uuid.UUID, loc: tuple[str | int, ...]) -> None:
    """Rule: a team covers buurten of its own municipality, and a buurt belongs to at most one team."""
    area = await repo.get(session, Area, buurt_id)
    if area is None or area.municipality_id != team.municipality_id:
        raise ValidationFailed(
            [FieldError(loc, "No such buurt in the team's municipality.", "unknown_buurt")]
        )
    if area.level != AreaLevel.buurt:
        raise ValidationFailed([FieldError(loc, "Teams cover buurten, not wijken.", "not_a_buurt")])
    covering = (await repo.teams_of_buurten(session, [area.id])).get(area.id)
    if covering == team.id:
        return
    detail = "This buurt is already covered by another team; a buurt belongs to at most one team."
    if covering is not None:
        raise Conflict(detail, rule="buurt_covered_by_one_team")
    try:
        await repo.add_coverage(session, team.id, area.id)
    except IntegrityError as error:  # another request covered it at the same moment
        raise Conflict(detail, rule="buurt_covered_by_one_team") from error


async def create_team(session: AsyncSession, data: TeamCreate) -> TeamRead:
    if await repo.get(session, Municipality, data.municipality_id) is None:
        message = "No such municipality."
        raise ValidationFailed([FieldError(("body", "municipality_id"), message, "unknown_municipality")])
    if await repo.team_by_name(session, data.municipality_id, data.name):
        raise Conflict("A team with this name exists in this municipality.", rule="team_name_taken")
    team = Team(municipality_id=data.municipality_id, name=data.name)
    session.add(team)
    await session.flush()
    for index, buurt_id in enumerate(dict.fromkeys(data.buurt_ids)):
        await _cover(session, team, buurt_id, ("body", "buurt_ids", index))
    return (await _team_reads(session, [team]))[0]


async def get_team(session: AsyncSession, team_id: uuid.UUID) -> TeamRead:
    return (await _team_reads(session, [await _require(session, Team, team_id, "team")]))[0]


async def update_team(session: AsyncSession, team_id: uuid.UUID, data: TeamUpdate) -> TeamRead:
    team = await _require(session, Team, team_id, "team")
    changes = _changes(data)
    if "name" in changes and changes["name"] != team.name:
        if await repo.team_by_name(session, team.municipality_id, changes["name"]):
            raise Conflict("A team with this name exists in this municipality.", rule="team_name_taken")
        team.name = changes["name"]
    await session.flush()
    return (await _team_reads(session, [team]))[0]


async def add_buurt(session: AsyncSession, team_id: uuid.UUID, buurt_id: uuid.UUID) -> TeamRead:
    team = await _require(session, Team, team_id, "team")
    await _cover(session, team, buurt_id, ("body", "buurt_id"))
    return (await _team_reads(session, [team]))[0]


async def remove_buurt(session: AsyncSession, team_id: uuid.UUID, buurt_id: uuid.UUID) -> TeamRead:
    team = await _require(session, Team, team_id, "team")
    if not await repo.remove_coverage(session, team.id, buurt_id):
        raise NotFound("buurt of this team")
    return (await _team_reads(session, [team]))[0]


async def list_teams(
    session: AsyncSession, after: list[Any] | None, limit: int, *, municipality_id: uuid.UUID | None = None
) -> tuple[list[TeamRead], PageKey]:
    where = [col(Team.municipality_id) == municipality_id] if municipality_id else []
    rows, key = await _page(session, Team, after, limit, where)
    return await _team_reads(session, rows), key


# -- workers ---------------------------------------------------------------------------------------


async def _worker_reads(session: AsyncSession, workers: list[Worker]) -> list[WorkerRead]:
    teams = await repo.teams_of_workers(session, [w.id for w in workers])
    return [
        WorkerRead.model_validate(w).model_copy(update={"team_ids": teams.get(w.id, [])}) for w in workers
    ]


async def _check_teams(session: AsyncSession, team_ids: list[uuid.UUID]) -> None:
    existing = await repo.count_existing(session, Team, team_ids)
    _raise_if(
        [
            FieldError(("body", "team_ids", i), "No such team.", "unknown_team")
            for i, team_id in enumerate(team_ids)
            if team_id not in existing
        ]
    )


async def create_worker(session: AsyncSession, data: WorkerCreate) -> WorkerRead:
    await _check_teams(session, data.team_ids)
    worker = Worker(
        name=data.name,
        email=data.email,
        role=str(data.role),
        specialisms=rules.normalise_specialisms(data.specialisms),
        active=data.active,
    )
    session.add(worker)
    await session.flush()
    await repo.set_memberships(session, worker.id, data.team_ids)
    return (await _worker_reads(session, [worker]))[0]


async def get_worker(session: AsyncSession, worker_id: uuid.UUID) -> WorkerRead:
    return (await _worker_reads(session, [await _require(session, Worker, worker_id, "worker")]))[0]


async def update_worker(session: AsyncSession, worker_id: uuid.UUID, data: WorkerUpdate) -> WorkerRead:
    worker = await _require(session, Worker, worker_id, "worker")
    changes = _changes(data, nullable=frozenset({"email"}))
    team_ids = changes.pop("team_ids", None)
    if "specialisms" in changes:
        changes["specialisms"] = rules.normalise_specialisms(changes["specialisms"])
    if "role" in changes:
        changes["role"] = str(changes["role"])
    for name, value in changes.items():
        setattr(worker, name, value)
    await session.flush()
    if team_ids is not None:
        await _check_teams(session, team_ids)
        await repo.set_memberships(session, worker.id, team_ids)
    return (await _worker_reads(session, [worker]))[0]


async def list_workers(
    session: AsyncSession,
    after: list[Any] | None,
    limit: int,
    *,
    team_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> tuple[list[WorkerRead], PageKey]:
    where: list[Any] = []
    if team_id is not None:
        where.append(col(Worker.id).in_(repo.member_ids(team_id)))
    if active is not None:
        where.append(col(Worker.active) == active)
    rows, key = await _page(session, Worker, after, limit, where)
    return await _worker_reads(session, rows), key


# -- partner organisations -------------------------------------------------------------------------


async def create_partner(session: AsyncSession, data: PartnerCreate) -> PartnerOrganisation:
    partner = PartnerOrganisation(name=data.name, kind=str(data.kind), active=data.active)
    session.add(partner)
    await session.flush()
    return partner


async def get_partner(session: AsyncSession, partner_id: uuid.UUID) -> PartnerOrganisation:
    return await _require(session, PartnerOrganisation, partner_id, "partner organisation")


async def update_partner(
    session: AsyncSession, partner_id: uuid.UUID, data: PartnerUpdate
) -> PartnerOrganisation:
    partner = await get_partner(session, partner_id)
    for name, value in _changes(data).items():
        setattr(partner, name, str(value) if name == "kind" else value)
    await session.flush()
    return partner


async def find_partner(session: AsyncSession, reference: str) -> PartnerOrganisation:
    """A partner organisation by id or by (case-insensitive) name, for the command line."""
    try:
        return await get_partner(session, uuid.UUID(reference))
    except ValueError:
        pass
    matches = await repo.partners_by_name(session, reference)
    if len(matches) > 1:
        raise Conflict("Several partner organisations have this name; use the id.", rule="ambiguous_name")
    if not matches:
        raise NotFound("partner organisation")
    return matches[0]


async def list_partners(
    session: AsyncSession, after: list[Any] | None, limit: int, *, active: bool | None = None
) -> tuple[list[PartnerOrganisation], PageKey]:
    where = [col(PartnerOrganisation.active) == active] if active is not None else []
    return await _page(session, PartnerOrganisation, after, limit, where)


# -- users (people who sign in) --------------------------------------------------------------------


def user_read(user: User) -> UserRead:
    return UserRead.model_validate(user).model_copy(update={"has_password": user.password_hash is not None})


async def _check_user_links(session: AsyncSession, user: User, changed: set[str]) -> None:
    """Role rules, and the unique links (username, worker, IdP subject) with a 409 naming each."""
    _raise_if(
        rules.check_user_role(Role(user.role), bsn_read=user.bsn_read, has_worker=user.worker_id is not None)
    )
    if "worker_id" in changed and user.worker_id is not None:
        if await repo.get(session, Worker, user.worker_id) is None:
            raise ValidationFailed([FieldError(("body", "worker_id"), "No such worker.", "unknown_worker")])
        other = await repo.user_by(session, User.worker_id, user.worker_id)
        if other is not None and other.id != user.id:
            raise Conflict("This worker already has a user account.", rule="worker_has_user")
    if "external_subject" in changed and user.external_subject is not None:
        other = await repo.user_by(session, User.external_subject, user.external_subject)
        if other is not None and other.id != user.id:
            raise Conflict("Another user has this external subject.", rule="external_subject_taken")


async def create_user(session: AsyncSession, data: UserCreate) -> User:
    if data.password is not None:
        _raise_if(rules.check_password(data.password))
    if await repo.user_by(session, User.username, data.username):
        raise Conflict("This username is taken.", rule="username_taken")
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=str(data.role),
        worker_id=data.worker_id,
        bsn_read=data.bsn_read,
        external_subject=data.external_subject,
        active=data.active,
    )
    await _check_user_links(session, user, {"worker_id", "external_subject"})
    if data.password is not None:
        user.password_hash = await _hash(data.password)
    session.add(user)
    await _flush(session, "username_taken", "This username, worker or external subject is taken.")
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    return await _require(session, User, user_id, "user")


async def update_user(session: AsyncSession, user_id: uuid.UUID, data: UserUpdate) -> User:
    user = await get_user(session, user_id)
    changes = _changes(data, nullable=frozenset({"worker_id", "external_subject", "password"}))
    password = changes.pop("password", None)
    if password is not None:
        _raise_if(rules.check_password(password))
    for name, value in changes.items():
        setattr(user, name, str(value) if name == "role" else value)
    await _check_user_links(session, user, set(changes))
    if "password" in data.model_fields_set:
        user.password_hash = await _hash(password) if password is not None else None
    await _flush(session, "user_link_taken", "This worker or external subject is linked to another user.")
    return user


async def set_password(session: AsyncSession, user: User, password: str) -> None:
    _raise_if(rules.check_password(password))
    user.password_hash = await _hash(password)
    await session.flush()


async def list_users(
    session: AsyncSession, after: list[Any] | None, limit: int, *, role: Role | None = None
) -> tuple[list[User], PageKey]:
    where = [col(User.role) == str(role)] if role is not None else []
    return await _page(session, User, after, limit, where)


# -- OAuth clients ---------------------------------------------------------------------------------


def _client_scope_errors(role: Role | None, scopes: list[str], redirect_uris: list[str]) -> list[FieldError]:
    errors = rules.check_client_scopes(role, scopes, ("body", "allowed_scopes"))
    for index, uri in enumerate(redirect_uris):
        errors += rules.check_redirect_uri(uri, ("body", "redirect_uris", index))
    return errors


async def _new_secret(client: OAuthClient) -> str:
    secret = secrets.token_urlsafe(32)
    client.secret_hash = await _hash(secret)
    return secret


async def create_client(session: AsyncSession, data: ClientCreate) -> tuple[OAuthClient, str | None]:
    """Register a client. Returns it and, for client_secret_basic, the secret (shown once)."""
    role = data.role
    method = data.auth_method or rules.default_auth_method(role, data.jwks is not None)
    if data.allowed_scopes is not None:
        scopes = list(dict.fromkeys(data.allowed_scopes))
    else:  # a machine client gets its role's scopes; a public client narrows nothing by default
        scopes = sorted(str(s) for s in allowed_scopes(role)) if role else []
    errors = rules.check_client_setup(
        role,
        method,
        has_jwks=data.jwks is not None,
        redirect_uris=data.redirect_uris,
        has_organisation=data.organisation_id is not None,
    )
    errors += _client_scope_errors(role, scopes, data.redirect_uris)
    if data.jwks is not None:
        errors += rules.check_jwks(data.jwks)
    _raise_if(errors)
    if data.organisation_id and await repo.get(session, PartnerOrganisation, data.organisation_id) is None:
        message = "No such partner organisation."
        raise ValidationFailed([FieldError(("body", "organisation_id"), message, "unknown_organisation")])
    client_id = data.client_id or f"{role or 'app'}-{secrets.token_hex(8)}"
    if await repo.client_by_client_id(session, client_id):
        raise Conflict("A client with this client_id exists.", rule="client_id_taken")
    client = OAuthClient(
        client_id=client_id,
        name=data.name,
        role=str(role) if role else None,
        organisation_id=data.organisation_id,
        auth_method=str(method),
        jwks=rules.normalised_jwks(data.jwks) if data.jwks is not None else None,
        redirect_uris=list(data.redirect_uris),
        allowed_scopes=scopes,
        rate_limit_per_minute=data.rate_limit_per_minute,
    )
    secret = await _new_secret(client) if method is ClientAuthMethod.client_secret_basic else None
    session.add(client)
    await _flush(session, "client_id_taken", "A client with this client_id exists.")
    return client, secret


async def get_client(session: AsyncSession, client_pk: uuid.UUID) -> OAuthClient:
    return await _require(session, OAuthClient, client_pk, "client")


async def update_client(session: AsyncSession, client_pk: uuid.UUID, data: ClientUpdate) -> OAuthClient:
    client = await get_client(session, client_pk)
    changes = _changes(data, nullable=frozenset({"rate_limit_per_minute"}))
    role = Role(client.role) if client.role else None
    if "allowed_scopes" in changes:
        changes["allowed_scopes"] = list(dict.fromkeys(changes["allowed_scopes"]))
    redirect_uris = changes.get("redirect_uris", client.redirect_uris)
    errors = _client_scope_errors(role, changes.get("allowed_scopes", []), changes.get("redirect_uris", []))
    if role is None and not redirect_uris:
        errors.append(
            FieldError(("body", "redirect_uris"), "A public client needs one.", "redirect_uri_required")
        )
    if role is not None and redirect_uris:
        message = "Machine clients have no redirect URIs."
        errors.append(FieldError(("body", "redirect_uris"), message, "redirect_uri_not_allowed"))
    _raise_if(errors)
    for name, value in changes.items():
        setattr(client, name, value)
    await session.flush()
    return client


async def rotate_client_secret(session: AsyncSession, client_pk: uuid.UUID) -> tuple[OAuthClient, str]:
    """A new secret for a client_secret_basic client; the old one stops working at once."""
    client = await get_client(session, client_pk)
    if client.auth_method != ClientAuthMethod.client_secret_basic:
        raise Conflict("Only client_secret_basic clients have a secret.", rule="client_has_no_secret")
    secret = await _new_secret(client)
    await session.flush()
    return client, secret


async def set_client_jwks(session: AsyncSession, client_pk: uuid.UUID, jwks: dict[str, Any]) -> OAuthClient:
    """Register a machine client's public keys: it authenticates with private_key_jwt from now on."""
    client = await get_client(session, client_pk)
    if client.role is None:
        raise Conflict("A public client does not authenticate with keys.", rule="public_client_auth")
    _raise_if(rules.check_jwks(jwks))
    client.jwks = rules.normalised_jwks(jwks)
    client.auth_method = str(ClientAuthMethod.private_key_jwt)
    client.secret_hash = None  # one credential per client: the secret no longer works
    await session.flush()
    return client


async def list_clients(
    session: AsyncSession,
    after: list[Any] | None,
    limit: int,
    *,
    role: Role | None = None,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[OAuthClient], PageKey]:
    where = []
    if role is not None:
        where.append(col(OAuthClient.role) == str(role))
    if organisation_id is not None:
        where.append(col(OAuthClient.organisation_id) == organisation_id)
    return await _page(session, OAuthClient, after, limit, where)
