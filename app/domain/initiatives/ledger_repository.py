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


# Rows written in bulk (the demo's history, by COPY) are booked after the fact in one statement: the
# budget not yet in the ledger, each of their grants, and each of their closing reports' unspent
# rest returned (with the plans' spent and returned totals). Budget entries come first, so no
# balance on the way is below the plan's available budget before.
BOOK_IMPORTED = sa.text("""
WITH ids AS (SELECT unnest(CAST(:ids AS uuid[])) AS id),
plans AS (
    SELECT DISTINCT year_plan_id AS id FROM initiatives
    WHERE id IN (SELECT id FROM ids) AND year_plan_id IS NOT NULL
),
reported AS (
    SELECT i.year_plan_id, i.id, i.spent_cents, i.granted_cents - i.spent_cents AS unspent, i.updated_at
    FROM initiatives i
    WHERE i.id IN (SELECT id FROM ids) AND i.status = 'completed' AND i.year_plan_id IS NOT NULL
      AND i.spent_cents IS NOT NULL AND i.granted_cents IS NOT NULL
),
totals AS (
    UPDATE year_plans yp
    SET spent_cents = yp.spent_cents + r.spent, returned_cents = yp.returned_cents + r.unspent
    FROM (SELECT year_plan_id, sum(spent_cents) AS spent, sum(unspent) AS unspent FROM reported GROUP BY 1) r
    WHERE yp.id = r.year_plan_id
    RETURNING yp.id
),
booked AS (
    SELECT year_plan_id, sum(amount_cents) AS balance,
           coalesce(sum(amount_cents) FILTER (WHERE kind = 'budget'), 0) AS budget
    FROM year_plan_ledger WHERE year_plan_id IN (SELECT id FROM plans) GROUP BY 1
),
moves AS (
    SELECT yp.id AS year_plan_id, 'budget' AS kind, yp.budget_cents - coalesce(b.budget, 0) AS amount,
           NULL::uuid AS initiative_id, 0 AS ord, yp.created_at AS at
    FROM year_plans yp LEFT JOIN booked b ON b.year_plan_id = yp.id
    WHERE yp.id IN (SELECT id FROM plans)
    UNION ALL
    SELECT g.year_plan_id, 'grant', -g.amount_cents, g.initiative_id, 1, g.decided_at
    FROM initiative_grants g
    WHERE g.initiative_id IN (SELECT id FROM ids) AND g.decision = 'granted' AND g.amount_cents > 0
    UNION ALL
    SELECT year_plan_id, 'returned', unspent, id, 2, updated_at FROM reported WHERE unspent > 0
)
INSERT INTO year_plan_ledger
    (id, year_plan_id, kind, amount_cents, balance_after_cents, initiative_id, created_at)
SELECT gen_random_uuid(), m.year_plan_id, m.kind, m.amount,
       coalesce(b.balance, 0) + sum(m.amount) OVER (
           PARTITION BY m.year_plan_id ORDER BY m.ord, m.at, m.initiative_id ROWS UNBOUNDED PRECEDING
       ),
       m.initiative_id, m.at
FROM moves m LEFT JOIN booked b ON b.year_plan_id = m.year_plan_id
WHERE m.amount <> 0
ORDER BY m.year_plan_id, m.ord, m.at, m.initiative_id
""")


async def book_imported(session: AsyncSession, initiative_ids: Sequence[uuid.UUID]) -> None:
    """Book initiatives written as rows (with their grants and plans) into their plans' ledgers."""
    if initiative_ids:
        await session.execute(BOOK_IMPORTED, {"ids": list(initiative_ids)})
