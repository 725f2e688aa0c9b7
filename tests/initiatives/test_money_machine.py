"""The money adds up, whatever runs at the same time: a state machine over grants, closing reports
(with and without unspent money returned) and budget changes, run as real concurrent transactions
against the real database through the services.

Each step runs one to three operations at once, each in its own unit of work (its own connection and
transaction), so they race for the year plan's row lock. The model counts what succeeded; after
every step the stored totals are the model's, nothing is overspent (granted - returned <= budget),
and the append-only ledger balances: its amounts add up, entry by entry, to each entry's balance and
in the end to the available budget, with one entry per movement.

The services are async; Hypothesis is not. The machine runs its own event loop and engine, in a plain
(sync) test, outside the loop pytest-asyncio runs the other tests on.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from app.db import Database
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, PreconditionFailed
from app.domain.initiatives import ledger_repository, network_service, service
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.models import Initiative, YearPlan, YearPlanLedgerEntry
from app.domain.initiatives.schemas import GrantDecisionIn, InitiativeReportIn, VoteIn, YearPlanUpdate
from app.domain.unit_of_work.work import UnitOfWork, unit_of_work
from app.security.principal import Principal
from app.settings import Settings
from tests.factories import World
from tests.initiatives.factories import Meeting, Networks, make_networks

T = TypeVar("T")
BUDGET = 100_000
# The refusals a racing operation may meet: over budget, budget below what is committed, or an
# object another operation changed first (stale version, or a report already made).
REFUSALS = {"year_plan_budget_exceeded", "year_plan_budget_below_granted", "initiative_status_transition"}
Operation = tuple[Any, ...]


@pytest.fixture(scope="module")
async def stage(shared_world: World, app: FastAPI) -> dict[str, Any]:
    networks = await make_networks(shared_world, budget_cents=BUDGET)
    principal = await app.state.token_verifier.verify(await shared_world.token("network_coordinator"))
    return {"networks": networks, "meeting": await networks.meeting("a"), "principal": principal}


def test_concurrent_grants_reports_and_budget_changes_never_overspend_and_the_ledger_balances(
    shared_world: World, stage: dict[str, Any], migrated: str, settings: Settings
) -> None:
    loop = asyncio.new_event_loop()
    db = Database(migrated, settings)
    networks: Networks = stage["networks"]
    meeting: Meeting = stage["meeting"]
    principal: Principal = stage["principal"]
    years = itertools.cycle(range(2030, 2100))  # shrinking makes many machines: years are reused
    votes = [VoteIn(member_id=m, vote="for") for m in meeting.present.values()]

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(coroutine)

    async def in_work(action: Callable[[UnitOfWork, Viewer], Awaitable[Any]]) -> str | None:
        """Run ``action`` in a unit of work of its own: None when it committed, else the refusal."""
        try:
            async with unit_of_work(db, shared_world.app.state.wiring) as uow:
                await action(uow, await service.viewer(uow.session, principal))
        except Conflict as refused:
            assert refused.rule in REFUSALS, refused.rule
            return refused.rule
        except PreconditionFailed:
            return "stale"
        return None

    class Money(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.plan = run(self._new_plan())
            self.model = {"budget_cents": BUDGET, "granted_cents": 0, "spent_cents": 0, "returned_cents": 0}
            self.moves = {"budget": 1, "grant": 0, "returned": 0}
            self.running: dict[uuid.UUID, int] = {}  # initiative -> its grant, not yet reported

        @rule(
            operations=st.lists(
                st.one_of(
                    st.tuples(st.just("grant"), st.integers(1, 60_000)),
                    st.tuples(st.just("report"), st.integers(0, 10), st.sampled_from([100, 100, 80, 25, 0])),
                    st.tuples(st.just("budget"), st.integers(0, 250_000)),
                ),
                min_size=1,
                max_size=3,
            )
        )
        def at_once(self, operations: list[Operation]) -> None:
            prepared = [run(self._prepare(op)) for op in operations]
            actions = [p for p in prepared if p is not None]
            outcomes = run(self._race([action for _, action, _ in actions]))
            for (op, _, succeeded), outcome in zip(actions, outcomes, strict=True):
                if outcome is None:
                    run(succeeded())
                else:
                    assert op[0] != "report" or outcome in ("stale", "initiative_status_transition"), op

        @invariant()
        def the_money_adds_up(self) -> None:
            run(self._check())

        # -- helpers --------------------------------------------------------------------------------

        async def _race(self, actions: list[Any]) -> list[str | None]:
            return list(await asyncio.gather(*(in_work(action) for action in actions)))

        async def _new_plan(self) -> uuid.UUID:
            year = next(years)
            async with db.transaction() as session:
                # An earlier machine's plan of this year goes, with its initiatives (and so its grants
                # and ledger).
                earlier = "SELECT id FROM year_plans WHERE network_id = :network AND year = :year"
                params = {"network": networks.a, "year": year}
                await session.execute(
                    text(f"DELETE FROM initiatives WHERE year_plan_id IN ({earlier})"), params
                )
                await session.execute(
                    text("DELETE FROM year_plans WHERE network_id = :network AND year = :year"), params
                )
                plan = YearPlan(network_id=networks.a, year=year, budget_cents=BUDGET)
                session.add(plan)
                await session.flush()
                await ledger_repository.open_budget(session, plan, None)
                return plan.id

        async def _prepare(self, op: Operation) -> tuple[Operation, Any, Any] | None:
            """(op, the action to race, what to do once it committed), or None if there is nothing to do."""
            if op[0] == "grant":
                return await self._grant(op, op[1])
            if op[0] == "report":
                if not self.running:
                    return None
                initiative = sorted(self.running)[op[1] % len(self.running)]
                return self._report(op, initiative, self.running[initiative] * op[2] // 100)
            return await self._budget(op, op[1])

        async def _grant(self, op: Operation, amount: int) -> tuple[Operation, Any, Any]:
            initiative = uuid.uuid4()
            async with db.transaction() as session:
                await session.execute(
                    insert(Initiative).values(
                        id=initiative, network_id=networks.a, buurt_id=networks.world.buurten[0].id,
                        title="Buurtfeest", summary="A street party.", themes=["meeting"], status="requested",
                        initiator_name="Someone else", requested_cents=amount, year_plan_id=self.plan,
                    )
                )  # fmt: skip
            decision = GrantDecisionIn(
                decision="granted",
                amount_cents=amount,
                reason="Voted for.",
                meeting_id=meeting.id,
                votes=votes,
            )

            async def action(uow: UnitOfWork, viewer: Viewer) -> None:
                await service.decide_grant(uow, viewer, initiative, ExpectedVersion(1), decision)

            async def succeeded() -> None:
                self.model["granted_cents"] += amount
                self.moves["grant"] += 1
                await in_work(lambda uow, viewer: service.start(uow, viewer, initiative, ExpectedVersion(2)))
                self.running[initiative] = amount

            return op, action, succeeded

        def _report(self, op: Operation, initiative: uuid.UUID, spent: int) -> tuple[Operation, Any, Any]:
            granted = self.running[initiative]
            report = InitiativeReportIn(participants_reached=12, report="Done.", spent_cents=spent)

            async def action(uow: UnitOfWork, viewer: Viewer) -> None:
                await service.report(uow, viewer, initiative, ExpectedVersion(3), report)

            async def succeeded() -> None:
                self.model["spent_cents"] += spent
                self.model["returned_cents"] += granted - spent
                self.moves["returned"] += 1 if granted > spent else 0
                self.running.pop(initiative)

            return op, action, succeeded

        async def _budget(self, op: Operation, budget: int) -> tuple[Operation, Any, Any]:
            async with db.transaction() as session:
                version = await session.scalar(
                    select(col(YearPlan.version)).where(col(YearPlan.id) == self.plan)
                )
            assert version is not None
            change = YearPlanUpdate(budget_cents=budget)

            async def action(uow: UnitOfWork, viewer: Viewer) -> None:
                await network_service.update_year_plan(
                    uow, viewer, self.plan, ExpectedVersion(version), change
                )

            async def succeeded() -> None:
                self.moves["budget"] += 1 if budget != self.model["budget_cents"] else 0
                self.model["budget_cents"] = budget

            return op, action, succeeded

        async def _check(self) -> None:
            async with db.transaction() as session:
                plan = (
                    await session.execute(select(YearPlan).where(col(YearPlan.id) == self.plan))
                ).scalar_one()
                entries = (
                    (
                        await session.execute(
                            select(YearPlanLedgerEntry)
                            .where(col(YearPlanLedgerEntry.year_plan_id) == self.plan)
                            .order_by(col(YearPlanLedgerEntry.position))
                        )
                    )
                    .scalars()
                    .all()
                )
            stored = {name: getattr(plan, name) for name in self.model}
            assert stored == self.model
            available = plan.budget_cents - plan.granted_cents + plan.returned_cents
            assert available >= 0, "overspent"
            balance = 0
            for entry in entries:
                balance += entry.amount_cents
                assert entry.balance_after_cents == balance >= 0
            assert balance == available
            kinds = {kind: sum(1 for e in entries if e.kind == kind) for kind in self.moves}
            assert kinds == self.moves

    try:
        run_state_machine_as_test(
            Money,
            settings=hypothesis_settings(
                max_examples=12,
                stateful_step_count=8,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        loop.run_until_complete(db.dispose())


async def test_the_ledger_is_append_only(networks: Networks) -> None:
    async with networks.world.app.state.db.transaction() as session:
        count = await session.scalar(
            select(text("count(*)"))
            .select_from(YearPlanLedgerEntry)
            .where(col(YearPlanLedgerEntry.year_plan_id) == networks.plans["a"])
        )
    assert count == 1  # the opening budget
    with pytest.raises(DBAPIError, match="append-only"):
        async with networks.world.app.state.db.transaction() as session:
            await session.execute(
                text("UPDATE year_plan_ledger SET amount_cents = 1 WHERE year_plan_id = :plan"),
                {"plan": networks.plans["a"]},
            )
