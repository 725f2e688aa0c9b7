"""How the plans context reacts to what lower contexts do (wired in ``app.bootstrap``)."""

from __future__ import annotations

from app.domain.errors import Conflict
from app.domain.plans import repository as repo
from app.domain.plans.lifecycle import end
from app.domain.plans.models import PlanClosingReason
from app.domain.plans.service import changed
from app.domain.plans.sync_and_export import ENTITY
from app.domain.unit_of_work.change_feed import ChangeRecord
from app.domain.unit_of_work.events import HouseholdClosed, NetworkPersonRemoving
from app.domain.unit_of_work.work import UnitOfWork


async def network_person_removing(uow: UnitOfWork, event: NetworkPersonRemoving) -> None:
    """A person leaving the network map may not leave an open action of the active plan without a
    performer (change that action first). Links from finished actions and older versions are cleared
    by the database (ON DELETE SET NULL), where no change is recorded: each plan version that loses a
    link is recorded here, so phones reload it."""
    plan_ids, in_open_action = await repo.plans_linking(uow.session, event.person_id)
    if in_open_action:
        raise Conflict(
            "This person performs an open action of the active plan; reassign it first.",
            rule="network_person_has_open_actions",
        )
    for plan_id in plan_ids:
        uow.record_change(ChangeRecord(event.household_id, ENTITY, plan_id))


async def household_closed(uow: UnitOfWork, event: HouseholdClosed) -> None:
    """The plan lives with the file: the household's active version closes with it (reason
    ``household_closed``); its goals, evaluations and history stay readable."""
    plan = await repo.active(uow.session, event.household_id, for_update=True)
    if plan is None:
        return
    end(plan, PlanClosingReason.household_closed)
    await changed(uow, plan)
