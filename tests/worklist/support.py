"""A team at work through the real API: the intake path, the worklist as the app reads it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from app.bootstrap import wiring
from app.domain.areas.service import import_postcodes
from app.domain.assessments.rules import local_today
from app.domain.base import CLOCK, utcnow
from app.domain.readmodel.worklist_schemas import TeamCaseload, WorklistPage
from app.domain.unit_of_work.work import unit_of_work
from tests.areas.support import cbs_file, not_held, postcode_of
from tests.factories import World


@contextmanager
def days_later(days: int) -> Iterator[None]:
    """The domain's clock moved ``days`` ahead for the block (worklists, services and their checks)."""
    with CLOCK.moved(timedelta(days=days)):
        yield


def now_iso() -> str:
    return utcnow().isoformat()


@dataclass
class Team:
    """A world with a postcode table, driven through the API as the team app drives it."""

    world: World
    client: httpx.AsyncClient
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: int = 0  # requests that wrote something, counted by ``send``

    @classmethod
    async def start(cls, world: World, client: httpx.AsyncClient, tmp_path: Path) -> Team:
        path = cbs_file(world, tmp_path / "postcodes.csv", other=await not_held(world))
        async with unit_of_work(world.app.state.db, wiring()) as uow:
            await import_postcodes(uow, path.read_text().splitlines(keepends=True))
        return cls(world, client)

    def address(self, number: int = 12) -> dict[str, Any]:
        return {"postcode": postcode_of(self.world, "AA"), "house_number": number}

    async def headers(self, actor: str) -> dict[str, str]:
        if actor not in self.tokens:
            self.tokens[actor] = await self.world.headers(actor)
        return self.tokens[actor]

    async def send(
        self, method: str, path: str, actor: str = "generalist_a", **kwargs: Any
    ) -> httpx.Response:
        headers = {**await self.headers(actor), **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        if method != "GET":
            self.requests += 1
        return response

    async def ok(self, method: str, path: str, actor: str = "generalist_a", **kwargs: Any) -> dict[str, Any]:
        response = await self.send(method, path, actor, **kwargs)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    async def worklist(self, actor: str = "generalist_a", **params: Any) -> WorklistPage:
        response = await self.send("GET", "/api/v1/worklist", actor, params=params)
        assert response.status_code == 200, response.text
        return WorklistPage.model_validate_json(response.content)

    async def team_worklist(self, actor: str = "team_lead_a", **params: Any) -> WorklistPage:
        response = await self.send("GET", "/api/v1/worklist/team", actor, params=params)
        assert response.status_code == 200, response.text
        return WorklistPage.model_validate_json(response.content)

    async def caseload(self, actor: str = "team_lead_a", **params: Any) -> TeamCaseload:
        response = await self.send("GET", "/api/v1/worklist/team/caseload", actor, params=params)
        assert response.status_code == 200, response.text
        return TeamCaseload.model_validate_json(response.content)

    def worker(self, name: str) -> uuid.UUID:
        worker = self.world.people[name].worker
        assert worker is not None
        return worker.id


def kinds(page: WorklistPage, household_id: str | uuid.UUID | None = None) -> list[tuple[str, bool]]:
    """(kind, overdue) of the items (of one household), in the order listed."""
    return [
        (str(i.kind), i.overdue)
        for i in page.items
        if household_id is None or str(i.household_id) == str(household_id)
    ]


async def worklist_items(client: httpx.AsyncClient, world: World, actor: str) -> list[dict[str, Any]]:
    """Every item of ``actor``'s "what needs me" today (all pages), as the route sent them."""
    headers = await world.headers(actor)
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = await client.get("/api/v1/worklist", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        params["cursor"] = page["next_cursor"]


def listed_on(document: dict[str, Any], day: date) -> list[dict[str, Any]]:
    """The items a phone lists on ``day`` from a household's synced worklist, judged as the route
    judges them (``HouseholdWorklist``)."""
    return [
        {**item, "overdue": item["due_on"] < day.isoformat()}
        for item in document["items"]
        if item["show_from"] <= day.isoformat()
        and (item["listed_until"] is None or day.isoformat() <= item["listed_until"])
    ]


def today(offset: int = 0) -> date:
    """The local date by the domain's clock (moved or not), ``offset`` days on."""
    return local_today(utcnow()) + timedelta(days=offset)
