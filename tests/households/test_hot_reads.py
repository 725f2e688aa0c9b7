"""The hot reads (household list and overview in one statement each, JSON made by PostgreSQL) answer
exactly what the general path answers: the same households, order, pages and values (timestamps in
pydantic's format), bytes that match the response model, and one access-log row per request."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlmodel import col

from app.api.pagination import Page
from app.db import RawStatement
from app.domain.households import service
from app.domain.households.schemas import HouseholdRead
from app.domain.organisation.models import WorkerTeam
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal
from tests.factories import World
from tests.households.support import create_household
from tests.support.statements import counting_statements

PAGE = TypeAdapter(Page[HouseholdRead])


async def _principal(world: World, actor: str) -> Principal:
    principal: Principal = await world.app.state.token_verifier.verify(await world.token(actor))
    return principal


async def _general_path(world: World, actor: str, filters: service.HouseholdFilters) -> list[dict[str, Any]]:
    """What ``list_households`` (the session, ORM-select-and-pydantic path) answers, as JSON values."""
    principal = await _principal(world, actor)
    work = UnitOfWork(world.app.state.db, world.app.state.wiring)
    rows = await service.list_households(work, principal, filters, limit=100, after=None)
    await work.commit()
    await work.close()
    return [row.model_dump(mode="json") for row in rows]


async def _pages(client: httpx.AsyncClient, world: World, actor: str, **params: Any) -> list[dict[str, Any]]:
    """Every household through the API, page by page (the bytes checked against the model)."""
    headers = await world.headers(actor)
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/households", params=query, headers=headers)
        assert response.status_code == 200, response.text
        PAGE.validate_json(response.content)  # the pre-serialised bytes match Page[HouseholdRead]
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture(scope="module")
async def varied(shared_world: World, client_for_module: httpx.AsyncClient) -> World:
    """Households of both teams in every shape: themes, additions, closed, confidential, other coordinator."""
    world, client = shared_world, client_for_module
    for i in range(7):
        await create_household(
            client,
            world,
            themes=["debts", "poverty"][: i % 3],
            confidential=i == 3,
            house_number_addition="A" if i % 2 else None,
        )
    closed = await create_household(client, world, actor="generalist_a2")
    url = f"/api/v1/households/{closed['id']}"
    headers = await world.headers("generalist_a2")
    for status in ("intake", "active", "closed"):
        body: dict[str, Any] = {"status": status}
        if status == "closed":
            body["closing_reason"] = "moved"
        current = await client.get(url, headers=headers)
        response = await client.patch(
            url, json=body, headers={**headers, "If-Match": current.headers["ETag"]}
        )
        assert response.status_code == 200, response.text
    for _ in range(3):
        await create_household(client, world, actor="generalist_b", team="b")
    return world


@pytest.fixture(scope="module")
async def client_for_module(app: Any) -> Any:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize("actor", ["generalist_a", "generalist_a2", "team_lead_a", "generalist_b"])
async def test_the_list_answers_what_the_general_path_answers(
    client_for_module: httpx.AsyncClient, varied: World, actor: str
) -> None:
    expected = await _general_path(varied, actor, service.HouseholdFilters())
    assert expected  # every actor sees some of them
    for limit in (2, 50):  # paged with cursors, and in one page
        assert await _pages(client_for_module, varied, actor, limit=limit) == expected


@pytest.mark.parametrize(
    "filters",
    [
        {"status": "closed"},
        {"status": "registered", "theme": "debts"},
        {"confidential": "true"},
        {"confidential": "false", "buurt": "buurt0"},
        {"coordinator": "generalist_a2"},
        {"theme": "poverty"},
    ],
)
async def test_filters_select_what_the_general_path_selects(
    client_for_module: httpx.AsyncClient, varied: World, filters: dict[str, str]
) -> None:
    params = dict(filters)
    if "buurt" in params:
        params["buurt"] = varied.buurten[0].code
    if "coordinator" in params:
        worker = varied.people[params["coordinator"]].worker
        assert worker is not None
        params["coordinator"] = str(worker.id)
    as_filters = service.HouseholdFilters(
        params.get("status"),  # type: ignore[arg-type]
        params.get("buurt"),
        uuid.UUID(params["coordinator"]) if "coordinator" in params else None,
        params.get("theme"),
        {"true": True, "false": False}.get(params.get("confidential", "")),
    )
    expected = await _general_path(varied, "generalist_a", as_filters)
    assert await _pages(client_for_module, varied, "generalist_a", limit=2, **params) == expected


async def test_a_worker_in_two_teams_gets_one_list_newest_first(
    client_for_module: httpx.AsyncClient, varied: World
) -> None:
    """The statement walks each team's households and merges them: the order is still global."""
    extra = WorkerTeam(worker_id=varied.people["team_lead_b"].worker.id, team_id=varied.teams["a"].id)  # type: ignore[union-attr]
    async with varied.app.state.db.transaction() as session:
        session.add(extra)
    try:
        expected = await _general_path(varied, "team_lead_b", service.HouseholdFilters())
        assert {h["team_id"] for h in expected} == {str(t.id) for t in varied.teams.values()}
        assert await _pages(client_for_module, varied, "team_lead_b", limit=3) == expected
    finally:
        async with varied.app.state.db.transaction() as session:
            await session.execute(
                sa.delete(WorkerTeam).where(
                    col(WorkerTeam.worker_id) == extra.worker_id, col(WorkerTeam.team_id) == extra.team_id
                )
            )


async def _log_rows(world: World, request_id: str) -> list[Any]:
    async with world.app.state.db.transaction() as session:
        rows = await session.execute(
            sa.select(AccessLogEntry).where(col(AccessLogEntry.request_id) == request_id)
        )
        return list(rows.scalars())


async def test_one_statement_and_one_access_log_row_per_household_listed(
    client_for_module: httpx.AsyncClient, varied: World
) -> None:
    headers = await varied.headers("generalist_a")
    await client_for_module.get("/api/v1/households", headers=headers)  # warm
    headers["X-Request-ID"] = f"hot-list-{uuid.uuid4().hex}"
    with counting_statements(varied.app.state.db) as statements:
        response = await client_for_module.get("/api/v1/households", params={"limit": 3}, headers=headers)
    assert response.status_code == 200
    assert len(statements.all) == 1  # no BEGIN/COMMIT, no pool ping: one statement
    rows = await _log_rows(varied, headers["X-Request-ID"])
    assert sorted(str(r.household_id) for r in rows) == sorted(h["id"] for h in response.json()["items"])
    principal = await _principal(varied, "generalist_a")
    for row in rows:
        assert (row.resource, row.action, row.outcome) == ("household", "list", "allowed")
        assert (row.actor_subject, row.actor_worker_id, row.client_id) == (
            principal.subject,
            principal.worker_id,
            principal.client_id,
        )


async def test_the_overview_logs_allowed_and_denied_in_its_one_statement(
    client_for_module: httpx.AsyncClient, varied: World
) -> None:
    own = await _pages(client_for_module, varied, "generalist_a", limit=1)
    household_id = own[0]["id"]
    for actor, status, outcome in (("generalist_a", 200, "allowed"), ("generalist_b", 404, "denied")):
        request_id = f"hot-overview-{uuid.uuid4().hex}"
        headers = {**await varied.headers(actor), "X-Request-ID": request_id}
        with counting_statements(varied.app.state.db) as statements:
            response = await client_for_module.get(
                f"/api/v1/households/{household_id}/overview", headers=headers
            )
        assert response.status_code == status
        assert len(statements.all) == 1
        [row] = await _log_rows(varied, request_id)
        assert (row.resource, row.action, row.outcome, str(row.household_id)) == (
            "household_overview",
            "read",
            outcome,
            household_id,
        )
    missing = await client_for_module.get(
        f"/api/v1/households/{uuid.uuid4()}/overview", headers=await varied.headers("generalist_b")
    )
    denied = await client_for_module.get(
        f"/api/v1/households/{household_id}/overview", headers=await varied.headers("generalist_b")
    )
    assert missing.status_code == denied.status_code == 404

    def same(body: dict[str, Any]) -> dict[str, Any]:  # all but what names this very request
        return {k: v for k, v in body.items() if k not in {"instance", "request_id"}}

    assert same(missing.json()) == same(denied.json())


async def test_a_failed_hot_read_is_logged_as_failed(varied: World) -> None:
    """When the statement fails nothing was written with it: the attempt is logged apart, as failed."""
    principal = await _principal(varied, "generalist_a")
    request_id = f"hot-failed-{uuid.uuid4().hex}"
    work = UnitOfWork(varied.app.state.db, varied.app.state.wiring, request_id=request_id)
    entry = work.log(principal, resource="household", action="list")
    failing = RawStatement.of(
        sa.text("SELECT 1 / CAST(:zero AS integer)").bindparams(sa.bindparam("zero", type_=sa.Integer))
    )
    with pytest.raises(asyncpg.DivisionByZeroError):
        await work.fetch_one(failing, {"zero": 0})
    assert entry.written is None  # the statement failed: it wrote nothing
    await work.fail()
    await work.close()
    [row] = await _log_rows(varied, request_id)
    assert (row.resource, row.outcome) == ("household", "failed")


def test_a_raw_statement_takes_every_value_from_its_caller() -> None:
    statement = RawStatement.of(sa.select(sa.bindparam("x", type_=sa.Integer) + sa.literal_column("1")))
    assert statement.names == ("x",) and statement.args({"x": 41}) == (41,)
    with pytest.raises(ValueError, match="bound constants"):
        RawStatement.of(sa.select(sa.literal(1, sa.Integer)))
