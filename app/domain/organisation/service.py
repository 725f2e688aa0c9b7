"""Use cases of the organisation context: what an administrator sets up (no case data here).

One deployment serves one municipality; the tables allow several (the tests make one per test), and an
administrator manages all of them. Services take the request's unit of work and never commit; set-up is
not case data, so they write no access-log entries. They raise domain errors and never import HTTP.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.domain.organisation import repository as repo
from app.domain.organisation import rules
from app.domain.organisation.common import (
    Key,
    changed_fields,
    flush,
    page,
    raise_if,
    require,
)
from app.domain.organisation.models import (
    Area,
    AreaLevel,
    Municipality,
    PartnerOrganisation,
    Team,
    Worker,
)
from app.domain.organisation.schemas import (
    AreaCreate,
    AreaRead,
    AreaUpdate,
    MunicipalityCreate,
    MunicipalityUpdate,
    PartnerCreate,
    PartnerUpdate,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    WorkerCreate,
    WorkerRead,
    WorkerUpdate,
)
from app.domain.unit_of_work.work import UnitOfWork

# -- municipalities --------------------------------------------------------------------------------


async def create_municipality(uow: UnitOfWork, data: MunicipalityCreate) -> Municipality:
    raise_if(rules.check_municipality_code(data.code))
    if await repo.municipality_by_code(uow.session, data.code):
        raise Conflict("A municipality with this code exists.", rule="municipality_code_taken")
    municipality = Municipality(code=data.code, name=data.name)
    uow.session.add(municipality)
    await flush(uow.session, "municipality_code_taken", "A municipality with this code exists.")
    return municipality


async def get_municipality(uow: UnitOfWork, municipality_id: uuid.UUID) -> Municipality:
    return await require(uow.session, Municipality, municipality_id, "municipality")


async def update_municipality(
    uow: UnitOfWork, municipality_id: uuid.UUID, data: MunicipalityUpdate
) -> Municipality:
    municipality = await get_municipality(uow, municipality_id)
    for name, value in changed_fields(data).items():
        setattr(municipality, name, value)
    await uow.session.flush()
    return municipality


async def list_municipalities(uow: UnitOfWork, *, limit: int, after: Key | None = None) -> list[Municipality]:
    """By code (``after``: the (code, id) of the last one seen)."""
    return await page(uow.session, Municipality, after, limit)


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


async def create_area(uow: UnitOfWork, data: AreaCreate) -> AreaRead:
    municipality = await repo.get(uow.session, Municipality, data.municipality_id)
    if municipality is None:
        message = "No such municipality."
        raise ValidationFailed([FieldError(("body", "municipality_id"), message, "unknown_municipality")])
    parent = await _parent_for(uow.session, data)
    raise_if(rules.check_area_code(data.code, municipality.code, parent.code if parent else None))
    if await repo.area_by_code(uow.session, data.code):
        raise Conflict("An area with this code exists.", rule="area_code_taken")
    level = rules.area_level(data.code)
    area = Area(
        municipality_id=municipality.id,
        parent_id=parent.id if parent else None,
        code=data.code,
        name=data.name,
        level=str(level),
    )
    uow.session.add(area)
    await flush(uow.session, "area_code_taken", "An area with this code exists.")
    return (await _area_reads(uow.session, [area]))[0]


async def get_area(uow: UnitOfWork, area_id: uuid.UUID) -> AreaRead:
    return (await _area_reads(uow.session, [await require(uow.session, Area, area_id, "area")]))[0]


async def update_area(uow: UnitOfWork, area_id: uuid.UUID, data: AreaUpdate) -> AreaRead:
    area = await require(uow.session, Area, area_id, "area")
    for name, value in changed_fields(data).items():
        setattr(area, name, value)
    await uow.session.flush()
    return (await _area_reads(uow.session, [area]))[0]


async def list_areas(
    uow: UnitOfWork,
    *,
    limit: int,
    after: Key | None = None,
    municipality_id: uuid.UUID | None = None,
    level: AreaLevel | None = None,
    parent_id: uuid.UUID | None = None,
) -> list[AreaRead]:
    """By code (``after``: the (code, id) of the last one seen)."""
    where = []
    if municipality_id is not None:
        where.append(col(Area.municipality_id) == municipality_id)
    if level is not None:
        where.append(col(Area.level) == str(level))
    if parent_id is not None:
        where.append(col(Area.parent_id) == parent_id)
    return await _area_reads(uow.session, await page(uow.session, Area, after, limit, where))


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


async def create_team(uow: UnitOfWork, data: TeamCreate) -> TeamRead:
    if await repo.get(uow.session, Municipality, data.municipality_id) is None:
        message = "No such municipality."
        raise ValidationFailed([FieldError(("body", "municipality_id"), message, "unknown_municipality")])
    if await repo.team_by_name(uow.session, data.municipality_id, data.name):
        raise Conflict("A team with this name exists in this municipality.", rule="team_name_taken")
    team = Team(municipality_id=data.municipality_id, name=data.name)
    uow.session.add(team)
    await uow.session.flush()
    for index, buurt_id in enumerate(dict.fromkeys(data.buurt_ids)):
        await _cover(uow.session, team, buurt_id, ("body", "buurt_ids", index))
    return (await _team_reads(uow.session, [team]))[0]


async def get_team(uow: UnitOfWork, team_id: uuid.UUID) -> TeamRead:
    return (await _team_reads(uow.session, [await require(uow.session, Team, team_id, "team")]))[0]


async def update_team(uow: UnitOfWork, team_id: uuid.UUID, data: TeamUpdate) -> TeamRead:
    team = await require(uow.session, Team, team_id, "team")
    changes = changed_fields(data)
    if "name" in changes and changes["name"] != team.name:
        if await repo.team_by_name(uow.session, team.municipality_id, changes["name"]):
            raise Conflict("A team with this name exists in this municipality.", rule="team_name_taken")
        team.name = changes["name"]
    await uow.session.flush()
    return (await _team_reads(uow.session, [team]))[0]


async def add_buurt(uow: UnitOfWork, team_id: uuid.UUID, buurt_id: uuid.UUID) -> TeamRead:
    team = await require(uow.session, Team, team_id, "team")
    await _cover(uow.session, team, buurt_id, ("body", "buurt_id"))
    return (await _team_reads(uow.session, [team]))[0]


async def remove_buurt(uow: UnitOfWork, team_id: uuid.UUID, buurt_id: uuid.UUID) -> TeamRead:
    team = await require(uow.session, Team, team_id, "team")
    if not await repo.remove_coverage(uow.session, team.id, buurt_id):
        raise NotFound("buurt of this team")
    return (await _team_reads(uow.session, [team]))[0]


async def list_teams(
    uow: UnitOfWork, *, limit: int, after: Key | None = None, municipality_id: uuid.UUID | None = None
) -> list[TeamRead]:
    """By name (``after``: the (name, id) of the last one seen)."""
    where = [col(Team.municipality_id) == municipality_id] if municipality_id else []
    return await _team_reads(uow.session, await page(uow.session, Team, after, limit, where))


# -- workers ---------------------------------------------------------------------------------------


async def _worker_reads(session: AsyncSession, workers: list[Worker]) -> list[WorkerRead]:
    teams = await repo.teams_of_workers(session, [w.id for w in workers])
    return [
        WorkerRead.model_validate(w).model_copy(update={"team_ids": teams.get(w.id, [])}) for w in workers
    ]


async def _check_teams(session: AsyncSession, team_ids: list[uuid.UUID]) -> None:
    existing = await repo.existing_teams(session, team_ids)
    raise_if(
        [
            FieldError(("body", "team_ids", i), "No such team.", "unknown_team")
            for i, team_id in enumerate(team_ids)
            if team_id not in existing
        ]
    )


async def create_worker(uow: UnitOfWork, data: WorkerCreate) -> WorkerRead:
    await _check_teams(uow.session, data.team_ids)
    worker = Worker(
        name=data.name,
        email=data.email,
        role=str(data.role),
        specialisms=rules.normalise_specialisms(data.specialisms),
        active=data.active,
    )
    uow.session.add(worker)
    await uow.session.flush()
    await repo.set_memberships(uow.session, worker.id, data.team_ids)
    return (await _worker_reads(uow.session, [worker]))[0]


async def get_worker(uow: UnitOfWork, worker_id: uuid.UUID) -> WorkerRead:
    return (await _worker_reads(uow.session, [await require(uow.session, Worker, worker_id, "worker")]))[0]


async def update_worker(uow: UnitOfWork, worker_id: uuid.UUID, data: WorkerUpdate) -> WorkerRead:
    worker = await require(uow.session, Worker, worker_id, "worker")
    changes = changed_fields(data, nullable=frozenset({"email"}))
    team_ids = changes.pop("team_ids", None)
    if "specialisms" in changes:
        changes["specialisms"] = rules.normalise_specialisms(changes["specialisms"])
    if "role" in changes:
        changes["role"] = str(changes["role"])
    for name, value in changes.items():
        setattr(worker, name, value)
    await uow.session.flush()
    if team_ids is not None:
        await _check_teams(uow.session, team_ids)
        await repo.set_memberships(uow.session, worker.id, team_ids)
    return (await _worker_reads(uow.session, [worker]))[0]


async def list_workers(
    uow: UnitOfWork,
    *,
    limit: int,
    after: Key | None = None,
    team_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> list[WorkerRead]:
    """By name (``after``: the (name, id) of the last one seen)."""
    where: list[Any] = []
    if team_id is not None:
        where.append(col(Worker.id).in_(repo.member_ids(team_id)))
    if active is not None:
        where.append(col(Worker.active) == active)
    return await _worker_reads(uow.session, await page(uow.session, Worker, after, limit, where))


# -- partner organisations -------------------------------------------------------------------------


async def create_partner(uow: UnitOfWork, data: PartnerCreate) -> PartnerOrganisation:
    partner = PartnerOrganisation(name=data.name, kind=str(data.kind), active=data.active)
    uow.session.add(partner)
    await uow.session.flush()
    return partner


async def get_partner(uow: UnitOfWork, partner_id: uuid.UUID) -> PartnerOrganisation:
    return await require(uow.session, PartnerOrganisation, partner_id, "partner organisation")


async def update_partner(uow: UnitOfWork, partner_id: uuid.UUID, data: PartnerUpdate) -> PartnerOrganisation:
    partner = await get_partner(uow, partner_id)
    for name, value in changed_fields(data).items():
        setattr(partner, name, str(value) if name == "kind" else value)
    await uow.session.flush()
    return partner


async def find_partner(uow: UnitOfWork, reference: str) -> PartnerOrganisation:
    """A partner organisation by id or by (case-insensitive) name, for the command line."""
    try:
        return await get_partner(uow, uuid.UUID(reference))
    except ValueError:
        pass
    matches = await repo.partners_by_name(uow.session, reference)
    if len(matches) > 1:
        raise Conflict("Several partner organisations have this name; use the id.", rule="ambiguous_name")
    if not matches:
        raise NotFound("partner organisation")
    return matches[0]


async def list_partners(
    uow: UnitOfWork, *, limit: int, after: Key | None = None, active: bool | None = None
) -> list[PartnerOrganisation]:
    """By name (``after``: the (name, id) of the last one seen)."""
    where = [col(PartnerOrganisation.active) == active] if active is not None else []
    return await page(uow.session, PartnerOrganisation, after, limit, where)
