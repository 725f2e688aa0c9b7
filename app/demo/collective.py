"""Demo data: households joining the running resident initiatives of their buurt (issue 15 item 8).

The actions the household itself carries in an active plan, of households living in a buurt with a
running initiative, point to that initiative (the first of the buurt, by title): the financial café,
the Friday cooking. So "plan actions carried by collective initiatives" has figures in the demo.
Runs after the plans (30) and the initiatives (60); only on a fresh demo (idempotent: links once).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from app.demo import DemoContext, demo_loader
from app.domain.households.models import Household
from app.domain.initiatives.models import Initiative, InitiativeStatus
from app.domain.plans.models import PerformerKind, Plan, PlanAction, PlanStatus
from app.domain.unit_of_work.work import UnitOfWork


@demo_loader(order=66)
async def join_initiatives(uow: UnitOfWork, ctx: DemoContext) -> None:
    if not ctx.fresh:
        return
    running = (
        sa.select(col(Initiative.id))
        .where(
            col(Initiative.buurt_id) == col(Household.buurt_id),
            col(Initiative.status) == str(InitiativeStatus.running),
        )
        .order_by(col(Initiative.title), col(Initiative.id))
        .limit(1)
        .scalar_subquery()
    )
    in_buurt = (
        sa.select(running)
        .select_from(Plan)
        .join(Household, col(Household.id) == col(Plan.household_id))
        .where(col(Plan.id) == col(PlanAction.plan_id), col(Plan.status) == str(PlanStatus.active))
        .scalar_subquery()
    )
    await uow.session.execute(
        sa.update(PlanAction)
        .where(
            col(PlanAction.performer_kind) == str(PerformerKind.household),
            col(PlanAction.initiative_id).is_(None),
            col(PlanAction.service_id).is_(None),
        )
        .values(initiative_id=in_buurt)
    )
