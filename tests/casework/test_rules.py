"""Pure rules of the case-file contexts, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from app.domain.assessments.rules import Tier, derive_tier, duplicate_domains, is_in_future
from app.domain.errors import Conflict, ValidationFailed
from app.domain.plans.models import PerformerKind
from app.domain.plans.rules import (
    AGREED_ACTION_FIELDS,
    AGREED_PLAN_FIELDS,
    ensure_active,
    ensure_change_allowed,
    ensure_supersedes_active,
    performer_link_problems,
)
from app.domain.plans.schemas import VersionAction
from app.domain.plans.service import action_row
from app.domain.support_network.rules import label_is_minimal, unique_in_order
from app.web.cursors import Cursors


@pytest.mark.parametrize(
    ("scores", "tier"),
    [
        ([], None),
        ([5, 5, 4], Tier.self_reliant),
        ([4], Tier.self_reliant),
        ([5, 3], Tier.support),
        ([2, 2, 4, 5], Tier.support),  # two domains at 2: support, not yet multi-problem
        ([2, 2, 2], Tier.specialist),  # multi-problem
        ([1, 5, 5], Tier.specialist),  # acute crisis anywhere
        ([1], Tier.specialist),
    ],
)
def test_tier_rule(scores: list[int], tier: Tier | None) -> None:
    assert derive_tier(scores) == tier


def test_local_dates_are_dutch() -> None:
    # 23:30 UTC on 31 Dec is already 1 Jan in Amsterdam: "today" there may be assessed.
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert not is_in_future(date(2027, 1, 1), late)
    assert is_in_future(date(2027, 1, 2), late)


def test_duplicate_domains() -> None:
    assert duplicate_domains(["a", "b", "a", "a"]) == ["a"]
    assert duplicate_domains(["a", "b"]) == []


@pytest.mark.parametrize("label", ["Ans", "neighbour", "tante Marie", "oom van Piet", "buurvrouw"])
def test_minimal_labels(label: str) -> None:
    assert label_is_minimal(label)


@pytest.mark.parametrize(
    "label",
    ["", "   ", "Jan de Vries Kerkstraat", "ans@example.nl", "06-12345678", "Piet 12b", "www.piet.nl"],
)
def test_labels_that_say_too_much(label: str) -> None:
    assert not label_is_minimal(label)


def test_support_kinds_keep_order_drop_repeats() -> None:
    assert unique_in_order(["care", "admin", "care"]) == ["care", "admin"]


def test_a_version_must_supersede_the_active_one() -> None:
    active = uuid.uuid4()
    ensure_supersedes_active(None, None)
    ensure_supersedes_active(active, active)
    for stale in (None, uuid.uuid4()):
        with pytest.raises(Conflict) as raised:
            ensure_supersedes_active(active, stale)
        assert raised.value.rule == "stale_plan_version"
    with pytest.raises(Conflict):
        ensure_supersedes_active(None, active)


def test_only_the_active_version_changes() -> None:
    ensure_active("active")
    with pytest.raises(Conflict) as raised:
        ensure_active("superseded")
    assert raised.value.rule == "plan_not_active"


def test_an_agreed_plan_takes_progress_only() -> None:
    ensure_change_allowed(False, None)
    ensure_change_allowed(False, ["summary"], AGREED_PLAN_FIELDS)
    ensure_change_allowed(True, ["evaluation_date"], AGREED_PLAN_FIELDS)
    ensure_change_allowed(True, ["done", "due_date"], AGREED_ACTION_FIELDS)
    for changed, allowed in (
        (["summary"], AGREED_PLAN_FIELDS),
        (["done", "description"], AGREED_ACTION_FIELDS),
        (None, AGREED_ACTION_FIELDS),
    ):
        with pytest.raises(Conflict) as raised:
            ensure_change_allowed(True, changed, allowed)
        assert raised.value.rule == "plan_agreed"


def test_performer_links() -> None:
    person, worker = uuid.uuid4(), uuid.uuid4()
    assert (
        performer_link_problems(PerformerKind.network_member, network_person_id=person, worker_id=None) == []
    )
    assert performer_link_problems(PerformerKind.worker, network_person_id=None, worker_id=worker) == []
    assert performer_link_problems(PerformerKind.worker, network_person_id=None, worker_id=None) == []
    assert [
        p[2]
        for p in performer_link_problems(PerformerKind.network_member, network_person_id=None, worker_id=None)
    ] == ["missing"]
    assert [
        p[0]
        for p in performer_link_problems(PerformerKind.partner, network_person_id=person, worker_id=worker)
    ] == [
        "network_person_id",
        "worker_id",
    ]


def test_a_continued_partner_action_keeps_its_referral() -> None:
    old_action, referral, plan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    continued: dict[uuid.UUID, uuid.UUID | None] = {old_action: referral}
    now = datetime.now(UTC)
    partner = VersionAction(
        description="Schuldhulp", performer_kind=PerformerKind.partner, continues_action_id=old_action
    )
    assert action_row(plan, None, partner, 0, continued, now)["referral_id"] == referral
    household = VersionAction(
        description="Zelf bellen", performer_kind=PerformerKind.household, continues_action_id=old_action
    )
    assert action_row(plan, None, household, 0, continued, now)["referral_id"] is None
    fresh = VersionAction(description="Nieuw", performer_kind=PerformerKind.partner)
    row = action_row(plan, None, fresh, 3, continued, now)
    assert (row["referral_id"], row["position"], row["done_at"]) == (None, 3, None)


def test_cursor_keys_parse_or_422() -> None:
    # A list's cursor carries its sort key; read back in the list's key types, or 422.
    cursors, ident, shape = Cursors("test-secret"), uuid.uuid4(), (date, uuid.UUID)
    assert cursors.decode("assessments", None, shape) is None
    cursor = cursors.encode("assessments", (date(2026, 1, 1), ident))
    assert cursors.decode("assessments", cursor, shape) == (date(2026, 1, 1), ident)
    for bad in (["x", str(ident)], ["2026-01-01"], [1, 2, 3]):
        with pytest.raises(ValidationFailed) as raised:
            cursors.decode("assessments", cursors.encode("assessments", bad), shape)
        assert raised.value.errors[0].rule == "cursor_invalid"
