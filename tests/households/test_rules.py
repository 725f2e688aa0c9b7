"""Pure rules of the case file, without a database."""

from __future__ import annotations

import pytest

from app.domain.errors import Conflict, Forbidden, ValidationFailed
from app.domain.households.bsn import BsnInvalid, BsnProtector, check_bsn, mask
from app.domain.households.models import HouseholdStatus as S
from app.domain.households.rules import (
    TRANSITIONS,
    check_confidentiality_change,
    check_transition,
    ensure_open,
    new_reference,
    normalise_postcode,
)
from app.domain.sync.rules import Phase, SyncPosition, teams_digest

ALL = list(S)


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", ALL)
def test_transition_table(current: S, target: S) -> None:
    reason = "moved" if target is S.closed else None
    allowed = current is target or target in TRANSITIONS[current]
    if allowed:
        check_transition(current, target, closing_reason=reason, may_reopen=True)
    else:
        with pytest.raises(Conflict) as refused:
            check_transition(current, target, closing_reason=reason, may_reopen=True)
        assert refused.value.rule == "status_transition_not_allowed"


def test_the_lifecycle_is_the_designed_one() -> None:
    assert TRANSITIONS[S.registered] == {S.intake, S.closed}
    assert TRANSITIONS[S.intake] == {S.active, S.closed}
    assert TRANSITIONS[S.active] == {S.aftercare, S.closed}
    assert TRANSITIONS[S.aftercare] == {S.active, S.closed}
    assert TRANSITIONS[S.closed] == {S.intake}


def test_closing_and_reopening_rules() -> None:
    with pytest.raises(ValidationFailed) as missing:
        check_transition(S.active, S.closed, closing_reason=None, may_reopen=False)
    assert missing.value.errors[0].rule == "closing_reason_required"
    with pytest.raises(ValidationFailed) as stray:
        check_transition(S.active, S.aftercare, closing_reason="moved", may_reopen=False)
    assert stray.value.errors[0].rule == "closing_reason_only_when_closing"
    with pytest.raises(Forbidden):
        check_transition(S.closed, S.intake, closing_reason=None, may_reopen=False)
    check_transition(S.closed, S.intake, closing_reason=None, may_reopen=True)
    with pytest.raises(Conflict):
        ensure_open(S.closed)
    ensure_open(S.aftercare)


def test_confidentiality_rules() -> None:
    check_confidentiality_change(False, True, may_assign=False)
    check_confidentiality_change(True, False, may_assign=True)
    with pytest.raises(Forbidden):
        check_confidentiality_change(True, False, may_assign=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234AB", "1234AB"),
        ("1234 ab", "1234AB"),
        (" 9901zz ", "9901ZZ"),
        ("0123AB", None),
        ("1234SS", None),
        ("12345A", None),
        ("1234 A", None),
    ],
)
def test_postcodes(raw: str, expected: str | None) -> None:
    assert normalise_postcode(raw) == expected


def test_references_are_readable_and_distinct() -> None:
    references = {new_reference() for _ in range(500)}
    assert len(references) == 500
    assert all(r.startswith("HH-") and len(r) == 11 and not set(r[3:]) & set("ILOU") for r in references)


def test_bsn_checks_and_protection() -> None:
    assert check_bsn("111 222 333") == "111222333"
    for raw, rule in (("123456789", "bsn_checksum"), ("12345", "bsn_format"), ("11122233X", "bsn_format")):
        with pytest.raises(BsnInvalid) as invalid:
            check_bsn(raw)
        assert invalid.value.rule == rule and raw not in str(invalid.value)
    protector = BsnProtector("encryption secret", "index secret")
    import uuid

    member, other = uuid.uuid4(), uuid.uuid4()
    blob = protector.encrypt("111222333", member)
    assert b"111222333" not in blob and protector.decrypt(blob, member) == "111222333"
    with pytest.raises(ValueError):
        protector.decrypt(blob, other)  # bound to its member
    assert protector.encrypt("111222333", member) != blob  # fresh nonce every time
    assert protector.index("111222333") == BsnProtector("other", "index secret").index("111222333")
    assert protector.index("111222333") != BsnProtector("encryption secret", "other").index("111222333")
    assert mask("111222333") == "******333"


def test_sync_position_round_trip() -> None:
    import uuid

    position = SyncPosition(uuid.uuid4(), teams_digest([uuid.uuid4()]), Phase.changes, 10, 20, 5, None)
    assert SyncPosition.from_key(position.to_key()) == position
    assert SyncPosition.from_key([2, *position.to_key()[1:]]) is None
    assert SyncPosition.from_key(["x"]) is None
    assert position.range_done(20) == SyncPosition(position.worker_id, position.teams, Phase.changes, 20)
