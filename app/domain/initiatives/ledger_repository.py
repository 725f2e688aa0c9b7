"""The year plan's money: every movement of its available budget, booked under the plan's row lock.

A movement is two statements on the locked row: the totals change in SQL (``x = x + amount``, so the
CHECKs judge the stored totals, not a copy read earlier) and an entry is appended to the ledger with
the available budget after it. The ledger is append-only (a trigger refuses UPDATE); the sum of a
plan's entries is its available budget, budget - granted + returned.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.domain.base import table_of
from app.domain.initiatives.models import LedgerKind, YearPlan, YearPlanLedgerEntry
from app.domain.initiatives.schemas import LedgerEntryView

YP = table_of(YearPlan).c
L = table_of(YearPlanLedgerEntry).c
TOTALS = ("budget_cents", "granted_cents", "spent_cents", "returned_cents")


async def _move(
    session: AsyncSession,
    plan: YearPlan,
    kind: LedgerKind,
    amount_cents: int,
    changes: dict[str, int],
    *,
    initiative_id: uuid.UUID | None,
    recorded_by: uuid.UUID | None,
) -> None:
    """Add ``changes`` to the (locked) plan's totals and append the entry of ``amount_cents``."""
    statement = (
        sa.update(table_of(YearPlan))
        .where(YP.id == plan.id)
        .values({**{name: YP[name] + delta for name, delta in changes.items()}, "updated_at": sa.func.now()})
        .returning(*(YP[name] for name in TOTALS))
    )
    totals = (await session.execute(statement)).one()
    for name in TOTALS:  # the ORM copy learns the totals without becoming dirty (no second UPDATE)
        set_committed_value(plan, name, getattr(totals, name))
    if amount_cents == 0:
        return
    available = totals.budget_cents - totals.granted_cents + totals.returned_cents
    await session.execute(
        sa.insert(table_of(YearPlanLedgerEntry)).values(
            id=uuid.uuid4(),
            year_plan_id=plan.id,
            kind=kind,
            amount_cents=amount_cents,
            balance_after_cents=available,
            initiative_id=initiative_id,
            recorded_by=recorded_by,
        )
    )


async def open_budget(session: AsyncSession, plan: YearPlan, recorded_by: uuid.UUID | None) -> None:
    """The first entry of a new plan: its budget (the totals are already on the row)."""
    await _move(
        session, plan, LedgerKind.budget, plan.budget_cents, {}, initiative_id=None, recorded_by=recorded_by
    )


async def change_budget(
    session: AsyncSession, plan: YearPlan, budget_cents: int, recorded_by: uuid.UUID | None
) -> None:
    delta = budget_cents - plan.budget_cents
    await _move(
        session,
        plan,
        LedgerKind.budget,
        delta,
        {"budget_cents": delta},
        initiative_id=None,
        recorded_by=recorded_by,
    )


async def grant(
    session: AsyncSession,
    plan: YearPlan,
    amount_cents: int,
    initiative_id: uuid.UUID,
    recorded_by: uuid.UUID | None,
) -> None:
    await _move(
        session,
        plan,
        LedgerKind.grant,
        -amount_cents,
        {"granted_cents": amount_cents},
        initiative_id=initiative_id,
        recorded_by=recorded_by,
    )


async def report_spent(
    session: AsyncSession,
    plan: YearPlan,
    granted_cents: int,
    spent_cents: int,
    initiative_id: uuid.UUID,
    recorded_by: uuid.UUID | None,
) -> None:
    """The closing report: what was spent is counted, the unspent rest returns to the budget."""
    unspent = granted_cents - spent_cents
    await _move(
        session,
        plan,
        LedgerKind.returned,
        unspent,
        {"spent_cents": spent_cents, "returned_cents": unspent},
        initiative_id=initiative_id,
        recorded_by=recorded_by,
    )


async def ledgers(
    session: AsyncSession, year_plan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LedgerEntryView]]:
    """The entries of these plans, oldest first."""
    query = (
        sa.select(
            L.position,
            L.year_plan_id,
            L.kind,
            L.amount_cents,
            L.balance_after_cents,
            L.initiative_id,
            L.created_at,
        )
        .where(L.year_plan_id.in_(list(year_plan_ids)))
        .order_by(L.position)
    )
    grouped: dict[uuid.UUID, list[LedgerEntryView]] = defaultdict(list)
    for row in await session.execute(query):
        grouped[row.year_plan_id].append(LedgerEntryView(*row))
    return grouped
