"""The demo sociale kaart: the partners and the municipality's own welfare organisation with the
services a generalist in Waddenmeer would look for, at places in the buurten, with opening hours,
serving a buurt, a wijk or the whole municipality; one internal entry; a few not verified for over a
year (on the administrator's stale worklist). Made through the directory's services as the
administrator, so the demo obeys the API's rules. Running resident initiatives appear beside them as
community offers without being copied.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.demo import DemoContext, demo_loader
from app.domain.directory import repository as repo
from app.domain.directory import service
from app.domain.directory.models import DirectoryService
from app.domain.directory.schemas import LocationCreate, OrganizationCreate, ScheduleIn, ServiceCreate
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from app.security.scopes import ROLE_SCOPES, Role

WELFARE = "Welzijn Waddenmeer (demo)"
ORGANIZATIONS: dict[str, tuple[str, str | None, str]] = {
    # key: (name, partner key of app.demo.organisation, description)
    "debt_help": ("Schuldhulp Waddenmeer (demo)", "debt_help", "Gemeentelijke schuldhulpverlening."),
    "housing": ("Woonstichting Nijlân (demo)", "housing", "Woningcorporatie in Huizum en Nijlân."),
    "welfare": (WELFARE, None, "Welzijnswerk: ontmoeting, vrijwilligers, mantelzorg en jongerenwerk."),
}
LOCATIONS: dict[str, tuple[str, str, str, str]] = {
    # key: (organisation, name, street, buurt)
    "stadskantoor": ("debt_help", "Stadskantoor", "Zuidvliet 2", "BU99990101"),
    "buurthuis_nijlan": ("welfare", "Buurthuis Nijlân", "Valeriusplein 9", "BU99990201"),
    "wijkcentrum_poort": ("welfare", "Wijkcentrum De Poort", "Poortstraat 12", "BU99990103"),
    "huurderskantoor": ("housing", "Huurderskantoor Huizum", "Huizumerlaan 40", "BU99990202"),
}
WORKDAYS = (1, 2, 3, 4, 5)


def _hours(
    days: tuple[int, ...], opens: int, closes: int, location: uuid.UUID | None = None
) -> list[ScheduleIn]:
    return [
        ScheduleIn(weekday=d, opens_at=f"{opens:02d}:00", closes_at=f"{closes:02d}:00", location_id=location)
        for d in days
    ]


def _services(loc: dict[str, uuid.UUID]) -> list[tuple[str, dict[str, Any], int | None]]:
    """(organisation, fields, months since last verified; None: never)."""
    return [
        ("debt_help", {
            "name": "Schuldhulpverlening",
            "description": "Hulp bij schulden: overzicht van uw schulden, een betalingsregeling of een "
            "schuldregeling. Ook bij betalingsachterstanden van huur of energie.",
            "eligibility_description": "Inwoners van Waddenmeer van 18 jaar en ouder.",
            "application_process": "Bel, mail of loop binnen op het spreekuur.",
            "fees_description": "Gratis.", "free_of_charge": True, "minimum_age": 18,
            "themes": ["debts", "poverty", "work_income"], "life_domains": ["finances"],
            "languages": ["nl", "en"], "phone": "+31 58 123 4500", "email": "schuldhulp@waddenmeer.example",
            "locations": [loc["stadskantoor"]], "areas": ["GM9999"],
            "schedules": _hours(WORKDAYS, 9, 17),
        }, 2),
        ("welfare", {
            "name": "Financieel spreekuur",
            "description": "Vrijwilligers helpen met post, formulieren, toeslagen en een huishoudboekje.",
            "application_process": "Zonder afspraak binnenlopen.", "free_of_charge": True,
            "themes": ["debts", "poverty"], "life_domains": ["finances", "daily_living_skills"],
            "languages": ["nl", "ar", "tr"], "locations": [loc["buurthuis_nijlan"]], "areas": ["WK999902"],
            "schedules": _hours((2, 4), 13, 16),
        }, 5),
        ("welfare", {
            "name": "Maatjesproject",
            "description": "Een vrijwilliger die wekelijks langskomt voor een praatje, een wandeling of "
            "samen boodschappen doen. Tegen eenzaamheid.",
            "eligibility_description": "Voor wie weinig mensen om zich heen heeft.", "free_of_charge": True,
            "themes": ["loneliness", "meeting", "elderly"], "life_domains": ["social_network"],
            "areas": ["GM9999"], "email": "maatjes@welzijn.example",
        }, 3),
        ("welfare", {
            "name": "Taalcafé",
            "description": "Nederlands oefenen in een ontspannen sfeer, met koffie.",
            "free_of_charge": True, "themes": ["language", "meeting"],
            "life_domains": ["community_participation"], "languages": ["nl"],
            "locations": [loc["wijkcentrum_poort"]], "areas": ["BU99990103", "BU99990102"],
            "schedules": _hours((3,), 10, 12),
        }, 1),
        ("welfare", {
            "name": "Jongerenwerk",
            "description": "Jongerenwerkers in de wijk: een plek om te chillen, hulp bij school, werk en "
            "thuis.", "minimum_age": 12, "maximum_age": 23, "free_of_charge": True,
            "themes": ["youth", "safety"], "life_domains": ["daytime_activity", "social_network"],
            "locations": [loc["wijkcentrum_poort"]], "areas": ["WK999901"],
            "schedules": _hours((1, 3, 5), 15, 21),
        }, 14),
        ("welfare", {
            "name": "Mantelzorgsteunpunt",
            "description": "Advies, respijtzorg en lotgenotencontact voor mantelzorgers.",
            "free_of_charge": True, "themes": ["informal_care"], "life_domains": ["social_network"],
            "areas": ["GM9999"], "phone": "+31 58 123 4600",
        }, None),
        ("housing", {
            "name": "Woonconsulent",
            "description": "Bij huurachterstand, overlast of een woning die niet meer past: de "
            "woonconsulent zoekt samen met u naar een oplossing.",
            "eligibility_description": "Huurders van Woonstichting Nijlân.", "free_of_charge": True,
            "themes": ["housing", "debts"], "life_domains": ["housing", "finances"],
            "locations": [loc["huurderskantoor"]], "areas": ["WK999902"],
            "schedules": _hours((1, 2, 4), 9, 12),
        }, 6),
        ("welfare", {
            "name": "Ouderenadviseur",
            "description": "Advies over wonen, zorg, geld en welzijn voor 65-plussers, ook aan huis.",
            "minimum_age": 65, "free_of_charge": True, "themes": ["elderly", "health"],
            "life_domains": ["physical_health", "daily_living_skills"], "areas": ["GM9999"],
        }, 16),
        ("welfare", {
            "name": "Noodopvang via het wijkteam",
            "description": "Tijdelijke opvang bij acute dakloosheid.", "public": False,
            "internal_notes": "Alleen aanvragen via de teamleider; max. 2 weken; bel eerst de coördinator.",
            "themes": ["housing"], "life_domains": ["housing"], "areas": ["GM9999"],
        }, 4),
    ]  # fmt: skip


@demo_loader(order=65)
async def directory(uow: UnitOfWork, ctx: DemoContext) -> None:
    if ctx.municipality_id is None:
        return
    if await repo.organization_by_name(uow.session, ctx.municipality_id, WELFARE):
        return  # loaded before
    admin = Principal(
        subject="demo-data",
        role=Role.admin,
        scopes=frozenset(str(s) for s in ROLE_SCOPES[Role.admin]),
        client_id="demo-data",
    )
    orgs: dict[str, uuid.UUID] = {}
    for key, (name, partner, description) in ORGANIZATIONS.items():
        data = OrganizationCreate(
            municipality="GM9999",
            name=name,
            description=description,
            partner_organisation_id=ctx.partners.get(partner) if partner else None,
        )
        orgs[key] = (await service.create_organization(uow, admin, data)).id
    loc: dict[str, uuid.UUID] = {}
    for key, (org, name, street, buurt) in LOCATIONS.items():
        place = LocationCreate(
            organization_id=orgs[org],
            name=name,
            address_1=street,
            postal_code="8900 AB",
            city="Waddenmeer",
            neighbourhood=buurt,
        )
        loc[key] = (await service.create_location(uow, admin, place)).id
    today = date.today()
    for org, fields, months in _services(loc):
        created = await service.create_service(
            uow, admin, ServiceCreate(organization_id=orgs[org], **fields), service.Calendar()
        )
        if months is not None:  # verified that long ago (a demo history, written directly)
            await uow.session.execute(
                sa.update(DirectoryService)
                .where(col(DirectoryService.id) == created.id)
                .values(assured_date=today - timedelta(days=30 * months), assurer_name="Kaartbeheer (demo)")
            )
