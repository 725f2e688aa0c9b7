"""Migration 0165 back-fills the year plans' ledger from the history that is there, also history
recorded before its plan: a year plan created after its grants were decided (history loaded into a
new plan) and an initiative that reported more than its grant. The merge fixed both on the 100k bench
data (the opening budget is the plan's first entry whatever its timestamp; an overspent initiative
spent its grant and returns nothing); this builds such a history at 0160 and migrates it to head."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Database
from app.migrations import upgrade

BEFORE_LEDGER = "0160"  # the revision 0165 follows in the chain
T0 = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)


async def _insert(connection: AsyncConnection, table: str, **row: Any) -> uuid.UUID:
    row.setdefault("id", uuid.uuid4())
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    await connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
    return uuid.UUID(str(row["id"]))


class History:
    """One network's history at 0160: a year plan, and initiatives with their decided grants."""

    def __init__(self, connection: AsyncConnection, network: uuid.UUID, buurt: uuid.UUID) -> None:
        self.connection, self.network, self.buurt = connection, network, buurt

    async def plan(self, budget: int, granted: int, created_at: datetime) -> uuid.UUID:
        return await _insert(
            self.connection, "year_plans", network_id=self.network, year=2026, budget_cents=budget,
            granted_cents=granted, created_at=created_at, updated_at=created_at,
        )  # fmt: skip

    async def granted(
        self, plan: uuid.UUID, amount: int, decided_at: datetime, spent: int | None = None
    ) -> uuid.UUID:
        """An initiative granted ``amount``; with ``spent``, completed and reported a day later."""
        initiative = await _insert(
            self.connection, "initiatives", network_id=self.network, buurt_id=self.buurt,
            title="Buurtmoestuin", summary="Samen tuinieren.", initiator_name="Ans",
            status="granted" if spent is None else "completed", granted_cents=amount, spent_cents=spent,
            year_plan_id=plan, created_at=decided_at - timedelta(days=7),
            updated_at=decided_at + timedelta(days=1 if spent is not None else 0),
        )  # fmt: skip
        await _insert(
            self.connection, "initiative_grants", initiative_id=initiative, year_plan_id=plan,
            decision="granted", amount_cents=amount, reason="Besloten.", decided_at=decided_at,
        )  # fmt: skip
        return initiative


async def _world(connection: AsyncConnection) -> tuple[uuid.UUID, uuid.UUID]:
    municipality = await _insert(connection, "municipalities", code="GM9901", name="Proefstad")
    buurt = await _insert(
        connection, "areas", municipality_id=municipality, code="BU99010001", name="Centrum", level="buurt"
    )
    network = await _insert(connection, "resident_networks", municipality_id=municipality, name="Wijknetwerk")
    return network, buurt


async def _ledger(connection: AsyncConnection, plan: uuid.UUID) -> list[Any]:
    query = text(
        "SELECT kind, amount_cents, balance_after_cents, initiative_id FROM year_plan_ledger "
        "WHERE year_plan_id = :plan ORDER BY position"
    )
    return list(await connection.execute(query, {"plan": plan}))


async def _plan_totals(connection: AsyncConnection, plan: uuid.UUID) -> Any:
    query = text(
        "SELECT budget_cents, granted_cents, spent_cents, returned_cents FROM year_plans WHERE id = :p"
    )
    return (await connection.execute(query, {"p": plan})).one()


def _assert_balances(ledger: list[Any]) -> None:
    """Each entry's balance is the running sum of the amounts, never below zero."""
    running = 0
    for entry in ledger:
        running += entry.amount_cents
        assert entry.balance_after_cents == running
        assert running >= 0


async def test_history_before_its_plan_and_an_overspent_initiative_migrate_into_a_balanced_ledger(
    scratch: Database,
) -> None:
    await upgrade(scratch.engine, BEFORE_LEDGER)
    async with scratch.engine.begin() as connection:
        network, buurt = await _world(connection)
        history = History(connection, network, buurt)
        # The plan was made a month after its two grants were decided (history loaded into it).
        late = await history.plan(budget=10_000, granted=10_000, created_at=T0 + timedelta(days=30))
        underspent = await history.granted(late, 6_000, T0, spent=5_000)  # returns 1,000
        overspent = await history.granted(late, 4_000, T0 + timedelta(days=1), spent=5_500)  # returns nothing
        # An ordinary plan beside it: budget first, a grant still running.
        other_network = await _insert(
            connection, "resident_networks", municipality_id=(await connection.scalar(
                text("SELECT municipality_id FROM resident_networks WHERE id = :n"), {"n": network}
            )), name="Tweede netwerk",
        )  # fmt: skip
        ordinary_history = History(connection, other_network, buurt)
        ordinary = await ordinary_history.plan(budget=8_000, granted=3_000, created_at=T0)
        running = await ordinary_history.granted(ordinary, 3_000, T0 + timedelta(days=2))

    await upgrade(scratch.engine)

    async with scratch.engine.connect() as connection:
        ledger = await _ledger(connection, late)
        assert [(e.kind, e.amount_cents, e.initiative_id) for e in ledger] == [
            ("budget", 10_000, None),  # first, though its timestamp is the latest
            ("grant", -6_000, underspent),
            ("grant", -4_000, overspent),
            ("returned", 1_000, underspent),
        ]
        _assert_balances(ledger)
        assert ledger[-1].balance_after_cents == 1_000
        # The overspent initiative counts its grant as spent (4,000, not the 5,500 it reported).
        assert tuple(await _plan_totals(connection, late)) == (10_000, 10_000, 5_000 + 4_000, 1_000)

        ordinary_ledger = await _ledger(connection, ordinary)
        assert [(e.kind, e.amount_cents, e.initiative_id) for e in ordinary_ledger] == [
            ("budget", 8_000, None),
            ("grant", -3_000, running),
        ]
        _assert_balances(ordinary_ledger)
        assert tuple(await _plan_totals(connection, ordinary)) == (8_000, 3_000, 0, 0)

        # What the application reads as available equals the ledger's last balance for every plan.
        rows = await connection.execute(
            text(
                "SELECT yp.budget_cents - yp.granted_cents + yp.returned_cents AS available, "
                "(SELECT balance_after_cents FROM year_plan_ledger l WHERE l.year_plan_id = yp.id "
                " ORDER BY position DESC LIMIT 1) AS last FROM year_plans yp"
            )
        )
        assert all(row.available == row.last for row in rows)
