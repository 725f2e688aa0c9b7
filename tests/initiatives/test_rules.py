"""Pure rules of the initiatives context (no database)."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, PreconditionFailed
from app.domain.initiatives import rules
from app.domain.initiatives.models import InitiativeStatus as S
from app.domain.initiatives.schemas import GrantDecisionIn, InitiativeCreate

ALLOWED = {
    (S.idea, S.requested),
    (S.requested, S.granted),
    (S.requested, S.rejected),
    (S.granted, S.running),
    (S.running, S.completed),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_the_lifecycle(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        rules.check_transition(current, target)
    else:
        with pytest.raises(Conflict) as refused:
            rules.check_transition(current, target)
        assert refused.value.rule == "initiative_status_transition"


@pytest.mark.parametrize(
    ("residents", "members", "ok"),
    [(0, 0, True), (1, 1, True), (1, 2, True), (2, 4, True), (1, 3, False), (2, 5, False), (0, 1, False)],
)
def test_residents_hold_at_least_half(residents: int, members: int, ok: bool) -> None:
    assert rules.residents_hold_majority(residents, members) is ok
    if not ok:
        with pytest.raises(Conflict) as refused:
            rules.check_resident_majority(residents, members)
        assert refused.value.rule == "network_resident_majority"


def test_the_budget() -> None:
    rules.check_budget(100, 60, 40)
    with pytest.raises(Conflict) as refused:
        rules.check_budget(100, 60, 41)
    assert refused.value.rule == "year_plan_budget_exceeded"
    with pytest.raises(Conflict):
        rules.check_budget_covers_grants(59, 60)
    rules.check_budget_covers_grants(60, 60)
    with pytest.raises(Conflict):
        rules.check_grant_amount(100, 101)
    with pytest.raises(Conflict):
        rules.check_grant_amount(None, 1)


def test_versions_and_editing() -> None:
    initiative_id = uuid.uuid4()
    ExpectedVersion(3).check(initiative_id, 3)
    with pytest.raises(PreconditionFailed):
        ExpectedVersion(2).check(initiative_id, 3)
    rules.check_editable("requested")
    with pytest.raises(Conflict):
        rules.check_editable("granted")


def test_inputs_refuse_server_owned_fields_and_inconsistent_values() -> None:
    base = {
        "network_id": "00000000-0000-0000-0000-000000000001",
        "buurt": "BU00000000",
        "title": "t",
        "summary": "s",
        "initiator": {"name": "n"},
    }
    InitiativeCreate.model_validate(base)
    for extra in ({"status": "granted"}, {"granted_cents": 1}, {"version": 9}):
        with pytest.raises(ValidationError):
            InitiativeCreate.model_validate({**base, **extra})
    with pytest.raises(ValidationError):
        InitiativeCreate.model_validate({**base, "starts_on": "2026-05-02", "ends_on": "2026-05-01"})
    with pytest.raises(ValidationError):
        GrantDecisionIn.model_validate({"decision": "granted", "amount_cents": 0, "reason": "r"})
    with pytest.raises(ValidationError):
        GrantDecisionIn.model_validate({"decision": "rejected", "amount_cents": 5, "reason": "r"})
