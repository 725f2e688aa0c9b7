"""Demo organisation: Gemeente Waddenmeer (fictional; place names borrowed), its teams and people.

Everything goes through the organisation services, so demo data obeys the same rules as the API.
No real person names: workers and users are named after their role.
"""

from __future__ import annotations

import secrets

from app.demo import DemoContext, demo_loader
from app.domain.identity import accounts
from app.domain.identity import repository as identity_repo
from app.domain.identity.models import OAuthClient, User
from app.domain.identity.schemas import ClientCreate, UserCreate
from app.domain.organisation import repository as repo
from app.domain.organisation import service
from app.domain.organisation.models import PartnerKind, WorkerRole
from app.domain.organisation.schemas import (
    AreaCreate,
    MunicipalityCreate,
    PartnerCreate,
    TeamCreate,
    WorkerCreate,
)
from app.domain.unit_of_work.work import UnitOfWork
from app.security.scopes import Role

MUNICIPALITY = ("GM9999", "Gemeente Waddenmeer (demo)")
WIJKEN = {"WK999901": "Stedenwijk", "WK999902": "Huizum"}
BUURTEN = {
    "BU99990101": "Stedenwijk-Noord",
    "BU99990102": "Stedenwijk-Zuid",
    "BU99990103": "Poort",
    "BU99990201": "Nijlân",
    "BU99990202": "Huizum-Oost",
    "BU99990203": "Huizum-West",
}
TEAMS = {"a": "Wijkteam Stedenwijk", "b": "Wijkteam Huizum"}  # team a: wijk 01, team b: wijk 02
WORKERS: dict[str, tuple[str, WorkerRole, list[str], str]] = {
    "generalist_a": ("Generalist A (demo)", WorkerRole.generalist, ["debts", "housing"], "a"),
    "generalist_a2": ("Generalist A2 (demo)", WorkerRole.generalist, ["youth", "parenting"], "a"),
    "team_lead_a": ("Team lead A (demo)", WorkerRole.team_lead, [], "a"),
    "generalist_b": ("Generalist B (demo)", WorkerRole.generalist, ["mental health", "addiction"], "b"),
    "team_lead_b": ("Team lead B (demo)", WorkerRole.team_lead, [], "b"),
}
# The two partners with demo clients, then one organisation of every other kind: the referral
# history (``referral_history``) comes from and goes to all of them, as the statistics show it.
PARTNERS = {
    "debt_help": ("Schuldhulp Waddenmeer (demo)", PartnerKind.debt_help),
    "housing": ("Woonstichting Nijlân (demo)", PartnerKind.housing),
    "gp": ("Huisartsenpraktijk Stedenwijk (demo)", PartnerKind.gp),
    "school": ("Basisschool De Wadden (demo)", PartnerKind.school),
    "youth_care": ("Jeugdzorg Waddenmeer (demo)", PartnerKind.youth_care),
    "mental_health": ("GGZ Waddenmeer (demo)", PartnerKind.mental_health),
    "welfare": ("Welzijn Waddenmeer (demo)", PartnerKind.welfare),
    "police": ("Wijkagent Waddenmeer (demo)", PartnerKind.police),
    "other": ("Buurtsportcoach Waddenmeer (demo)", PartnerKind.other),
}
# key -> (role, worker key, bsn_read)
USERS: dict[str, tuple[Role, str | None, bool]] = {
    "generalist_a": (Role.generalist, "generalist_a", True),
    "generalist_b": (Role.generalist, "generalist_b", False),
    "team_lead_a": (Role.team_lead, "team_lead_a", False),
    "resident": (Role.resident, None, False),
    "network_coordinator": (Role.network_coordinator, None, False),
    "privacy_officer": (Role.privacy_officer, None, False),
    "admin": (Role.admin, None, False),
    "policy_officer": (Role.policy_officer, None, False),
}
MOBILE_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@demo_loader(order=10)
async def organisation(uow: UnitOfWork, ctx: DemoContext) -> None:
    await _municipality_and_areas(uow, ctx)
    await _teams_and_workers(uow, ctx)
    await _partners(uow, ctx)
    await _clients(uow, ctx)
    await _users(uow, ctx)


async def _municipality_and_areas(uow: UnitOfWork, ctx: DemoContext) -> None:
    code, name = MUNICIPALITY
    municipality = await repo.municipality_by_code(uow.session, code)
    if municipality is None:
        municipality = await service.create_municipality(uow, MunicipalityCreate(code=code, name=name))
        ctx.fresh = True
    ctx.municipality_id = municipality.id
    for target, areas in ((ctx.wijken, WIJKEN), (ctx.buurten, BUURTEN)):
        for area_code, area_name in areas.items():
            area = await repo.area_by_code(uow.session, area_code)
            if area is None:
                created = await service.create_area(
                    uow, AreaCreate(municipality_id=municipality.id, code=area_code, name=area_name)
                )
                target[area_code] = created.id
            else:
                target[area_code] = area.id


async def _teams_and_workers(uow: UnitOfWork, ctx: DemoContext) -> None:
    assert ctx.municipality_id is not None
    for key, name in TEAMS.items():
        team = await repo.team_by_name(uow.session, ctx.municipality_id, name)
        if team is None:
            wijk = "WK999901" if key == "a" else "WK999902"
            buurten = [ctx.buurten[code] for code in BUURTEN if code.startswith("BU" + wijk[2:])]
            created = await service.create_team(
                uow, TeamCreate(municipality_id=ctx.municipality_id, name=name, buurt_ids=buurten)
            )
            ctx.teams[key] = created.id
        else:
            ctx.teams[key] = team.id
    for key, (name, role, specialisms, team_key) in WORKERS.items():
        worker = await repo.worker_by_name(uow.session, name)
        if worker is None:
            data = WorkerCreate(name=name, role=role, specialisms=specialisms, team_ids=[ctx.teams[team_key]])
            ctx.workers[key] = (await service.create_worker(uow, data)).id
        else:
            ctx.workers[key] = worker.id


async def _partners(uow: UnitOfWork, ctx: DemoContext) -> None:
    for key, (name, kind) in PARTNERS.items():
        found = await repo.partners_by_name(uow.session, name)
        partner = (
            found[0] if found else await service.create_partner(uow, PartnerCreate(name=name, kind=kind))
        )
        ctx.partners[key] = partner.id


def _previous(ctx: DemoContext, kind: str, key: str, field: str) -> str | None:
    value = ctx.previous.get(kind, {}).get(key, {}).get(field)
    return value if isinstance(value, str) else None


async def _clients(uow: UnitOfWork, ctx: DemoContext) -> None:
    machine = {
        "partner_a": ClientCreate(
            name="Partner A (debt help, demo)",
            client_id="partner_a",
            role=Role.partner,
            organisation_id=ctx.partners["debt_help"],
        ),
        "partner_b": ClientCreate(
            name="Partner B (housing, demo)",
            client_id="partner_b",
            role=Role.partner,
            organisation_id=ctx.partners["housing"],
        ),
        "analyst": ClientCreate(name="Municipality BI (demo)", client_id="analyst", role=Role.analyst),
    }
    for key, data in machine.items():
        client = await identity_repo.client_by_client_id(uow.session, str(data.client_id))
        secret = _previous(ctx, "clients", key, "client_secret")
        if client is None:
            client, secret = await accounts.create_client(uow, data, ctx.hasher)
        elif not await still_valid(ctx, client.secret_hash, secret):
            client, secret = await accounts.rotate_client_secret(uow, client.id, ctx.hasher)
        ctx.clients[key] = client.client_id
        ctx.credentials["clients"][key] = {"client_id": client.client_id, "client_secret": secret}
    app_client: OAuthClient | None = await identity_repo.client_by_client_id(uow.session, "mobile_app")
    if app_client is None:
        data = ClientCreate(
            name="Wijkwerk app (demo)", client_id="mobile_app", redirect_uris=[MOBILE_REDIRECT_URI]
        )
        app_client, _ = await accounts.create_client(uow, data, ctx.hasher)
    ctx.clients["mobile_app"] = app_client.client_id
    redirect = app_client.redirect_uris[0] if app_client.redirect_uris else MOBILE_REDIRECT_URI
    ctx.credentials["clients"]["mobile_app"] = {"client_id": app_client.client_id, "redirect_uri": redirect}


async def _users(uow: UnitOfWork, ctx: DemoContext) -> None:
    for key, (role, worker_key, bsn_read) in USERS.items():
        user: User | None = await identity_repo.user_by(uow.session, User.username, key)
        password = _previous(ctx, "users", key, "password")
        if user is None:
            password = password or new_password()
            data = UserCreate(
                username=key,
                display_name=key.replace("_", " ").capitalize() + " (demo)",
                role=role,
                worker_id=ctx.workers[worker_key] if worker_key else None,
                bsn_read=bsn_read,
                password=password,
            )
            user = await accounts.create_user(uow, data, ctx.hasher)
        elif password is None or not await still_valid(ctx, user.password_hash, password):
            password = new_password()
            await accounts.set_password(uow, user, password, ctx.hasher)
        ctx.users[key] = user.id
        ctx.credentials["users"][key] = {"username": user.username, "password": password}


async def still_valid(ctx: DemoContext, stored_hash: str | None, secret: str | None) -> bool:
    if stored_hash is None or secret is None:
        return False
    return await ctx.hasher.verify_in_thread(stored_hash, secret)


def new_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters
