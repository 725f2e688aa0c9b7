"""The shapes of the worklist answers (the statements build the JSON; tests hold it to these)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class WorkKind(StrEnum):
    plan_evaluation = "plan_evaluation"  # the agreed plan's evaluation date
    no_contact = "no_contact"  # no contact moment for the weeks the household's tier allows
    plan_not_agreed = "plan_not_agreed"  # still no agreed plan some weeks after registration
    referral_waiting = "referral_waiting"  # an inbound referral waits for the team's decision
    referral_no_response = "referral_no_response"  # an outbound referral the partner has not answered
    consent_expiring = "consent_expiring"  # a consent ends soon
    aftercare_ending = "aftercare_ending"  # the aftercare period ends: close or continue
    break_glass_review = "break_glass_review"  # team leads: a use of break-glass access to look at
    no_coordinator = "no_coordinator"  # team leads: an open household without a coordinator
    signal_answered = "signal_answered"  # team leads: the policy staff answered a signal of the team


class WorkObject(BaseModel):
    type: str = Field(description="plan, household, referral, consent, break_glass_grant or policy_signal.")
    id: uuid.UUID


class ListedWork(BaseModel):
    """An item as it is, whatever the day: when it is due and from when (until when) it is listed
    follow from the data and the settings, never from today. The phone holds these (the sync entity
    ``worklist``) and lists them by its own calendar, offline."""

    kind: WorkKind
    due_on: date = Field(description="When it is due (local date).")
    show_from: date = Field(description="From when it is listed (due_on less the horizon, or sooner).")
    listed_until: date | None = Field(
        description="The last day it is listed (a consent's end date); null: until it is dealt with."
    )
    household_id: uuid.UUID | None = Field(description="Null for an inbound referral not linked yet.")
    household_reference: str | None = Field(
        description="Null where the caller may not open the household (a break-glass review)."
    )
    worker_id: uuid.UUID | None = Field(description="The household's coordinator.")
    object: WorkObject = Field(description="What the item is about.")
    link: str = Field(description="The API path of that object.")
    detail: dict[str, Any] = Field(description="A few facts of the kind (docs/worklist.md), no notes.")


class WorkItem(ListedWork):
    """An item as an answer judged it on its ``today``: listed when ``show_from <= today`` and, when it
    has one, ``today <= listed_until``."""

    overdue: bool = Field(description="due_on lies before the answer's `today`.")


class HouseholdWorklist(BaseModel):
    """The synced worklist of one household (sync entity ``worklist``, id = the household's id): every
    item of the household's "what needs me", listed or not yet. A phone lists an item on a day D when
    ``show_from <= D`` (and ``D <= listed_until`` where set), overdue when ``due_on < D``: exactly the
    household's items of ``GET /api/v1/worklist`` on day D, for each worker in ``worker_ids``."""

    household_id: uuid.UUID
    worker_ids: list[uuid.UUID] = Field(
        description='Whose "what needs me" lists these items: the coordinator and assigned workers.'
    )
    items: list[ListedWork] = Field(description="Due first (then kind, then object id).")


class WorklistPage(BaseModel):
    today: date = Field(description="The local date the items were judged by.")
    items: list[WorkItem] = Field(description="Due first (then kind, then object id).")
    next_cursor: str | None = None


class WorkerCaseload(BaseModel):
    worker_id: uuid.UUID | None = Field(description="Null: the open households without a coordinator.")
    worker_name: str | None
    households: int
    by_status: dict[str, int]
    by_tier: dict[str, int] = Field(
        description="Tiers of the 80-20-5 rule, and `none` before any assessment."
    )


class TeamCaseload(BaseModel):
    today: date
    workers: list[WorkerCaseload] = Field(description="Every worker of your teams (or of `team_id`).")
