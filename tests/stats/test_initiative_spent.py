"""The amount spent, stated in an initiative's closing report (the initiatives service), and what
the statistics make of it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pydantic import ValidationError

from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound
from app.domain.initiatives import rules, service
from app.domain.initiatives.models import Initiative
from app.domain.initiatives.schemas import InitiativeReportIn
from app.domain.unit_of_work.work import unit_of_work
from app.security.principal import Principal
from app.security.scopes import ROLE_SCOPES, Role
from tests.factories import World
from tests.initiatives.factories import Networks, make_networks


@pytest.fixture
async def networks(world: World) -> Networks:
    return await make_networks(world)


def _principal(world: World, actor: str, role: Role) -> Principal:
    user = world.people[actor].user
    scopes = frozenset(str(s) for s in ROLE_SCOPES[role])
    return Principal(subject=str(user.id), role=role, scopes=scopes, client_id="test", user_id=user.id)


async def _report(
    networks: Networks, initiative: uuid.UUID, data: InitiativeReportIn, actor: str = "resident"
) -> int:
    world = networks.world
    async with unit_of_work(world.app.state.db, world.app.state.wiring) as uow:
        viewer = await service.viewer(uow.session, _principal(world, actor, Role.resident))
        view = await service.report(uow, viewer, initiative, ExpectedVersion(1), data)
    assert view.status == "completed"
    async with world.app.state.db.transaction() as session:
        stored = await session.get(Initiative, initiative)
        assert stored is not None and stored.spent_cents == view.spent_cents
        return stored.spent_cents or 0


async def test_the_closing_report_states_the_amount_spent(networks: Networks) -> None:
    [running] = await networks.funded("a", 1, status="running", amount=40_000)
    report = InitiativeReportIn(participants_reached=25, report="Ten evenings.", spent_cents=31_250)
    assert await _report(networks, running, report) == 31_250


async def test_the_amount_spent_may_be_left_out(networks: Networks) -> None:
    [running] = await networks.funded("a", 1, status="running")
    assert await _report(networks, running, InitiativeReportIn(participants_reached=3, report="Done.")) == 0


async def test_more_than_was_granted_cannot_be_spent_and_nothing_is_written(networks: Networks) -> None:
    [running] = await networks.funded("a", 1, status="running", amount=40_000)
    report = InitiativeReportIn(participants_reached=25, report="Too much.", spent_cents=40_001)
    with pytest.raises(Conflict) as raised:
        await _report(networks, running, report)
    assert raised.value.rule == "spent_exceeds_grant"
    async with networks.world.app.state.db.transaction() as session:
        stored = await session.get(Initiative, running)
        assert stored is not None and (stored.status, stored.spent_cents) == ("running", None)


async def test_only_members_of_the_network_report(networks: Networks) -> None:
    [running] = await networks.funded("a", 1, status="running")
    report = InitiativeReportIn(participants_reached=1, report="Not mine.", spent_cents=1)
    with pytest.raises(NotFound):
        await _report(networks, running, report, actor="resident_b")


@pytest.mark.parametrize("cents", [-1, 1_000_000_001])
def test_the_amount_is_checked_like_every_amount(cents: int) -> None:
    with pytest.raises(ValidationError) as raised:
        InitiativeReportIn(participants_reached=1, report="x", spent_cents=cents)
    assert [e["loc"] for e in raised.value.errors()] == [("spent_cents",)]


def test_the_spent_rule() -> None:
    rules.check_spent(100, None)
    rules.check_spent(100, 100)
    rules.check_spent(None, None)
    for granted, spent in ((100, 101), (None, 1)):
        with pytest.raises(Conflict):
            rules.check_spent(granted, spent)


REPORT = """mutation($id: ID!, $input: ReportInput!) {
  reportInitiative(id: $id, expectedVersion: 1, input: $input) {
    __typename ... on Initiative { spentAmountCents grantedAmountCents } ... on Problem { rule } } }"""


async def test_graphql_and_rest_carry_the_amount_spent(client: httpx.AsyncClient, networks: Networks) -> None:
    [running] = await networks.funded("a", 1, status="running", amount=40_000)
    report = {"participantsReached": 3, "report": "Done.", "spentAmountCents": 40_001}
    refused = await networks.gql(client, "resident", REPORT, id=str(running), input=report)
    assert refused["data"]["reportInitiative"] == {
        "__typename": "ConflictProblem",
        "rule": "spent_exceeds_grant",
    }
    reported = await networks.gql(
        client, "resident", REPORT, id=str(running), input={**report, "spentAmountCents": 31_250}
    )
    assert reported["data"]["reportInitiative"] == {
        "__typename": "Initiative",
        "spentAmountCents": 31_250,
        "grantedAmountCents": 40_000,
    }
    public = await networks.gql(
        client, "anonymous", "query($id: ID!) { initiative(id: $id) { spentAmountCents } }", id=str(running)
    )
    assert public["data"]["initiative"] == {"spentAmountCents": 31_250}
    rest = await client.get(f"/api/v1/initiatives/{running}")
    assert rest.status_code == 200 and rest.json()["spent_cents"] == 31_250
