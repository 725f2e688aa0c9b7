"""The pure rules of self-service: who may use it, activation codes, which member a BSN leads to,
and the access log in plain words."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.self_service import rules
from app.domain.self_service.rules import Candidate, CodeHasher
from app.domain.self_service.wording import Wording


def test_households_start_on_unless_confidential_and_the_coordinators_choice_wins() -> None:
    assert rules.household_enabled(None, confidential=False) is True
    assert rules.household_enabled(None, confidential=True) is False
    assert rules.household_enabled(True, confidential=True) is True
    assert rules.household_enabled(False, confidential=False) is False


def test_adults_start_on_children_off() -> None:
    assert rules.member_enabled(None, "parent") and rules.member_enabled(None, "other_adult")
    assert not rules.member_enabled(None, "child")
    assert rules.member_enabled(True, "child") and not rules.member_enabled(False, "parent")
    assert not rules.enabled(None, False, False, "parent")  # the member off: off, whatever the household
    assert not rules.enabled(False, False, True, "parent")  # the household off: off for everyone
    assert rules.sees_children("parent") and not rules.sees_children("child")


def test_activation_codes_are_readable_and_forgiving_to_type() -> None:
    code = rules.new_activation_code()
    assert len(code) == 14 and code[4] == code[9] == "-"
    compact = code.replace("-", "")
    assert rules.normalised_code(code) == compact
    assert rules.normalised_code(f"  {code.lower()} ") == compact
    assert rules.normalised_code("OIL0-1111-2222") == "011011112222"  # O is 0, I and L are 1
    assert rules.normalised_code("ABC") is None and rules.normalised_code("UUUU-UUUU-UUUU") is None
    assert len({rules.new_activation_code() for _ in range(200)}) == 200


def test_codes_are_stored_as_a_keyed_hash() -> None:
    code = rules.new_activation_code()
    ours, theirs = CodeHasher("one secret"), CodeHasher("another secret")
    stored = ours.hash(code)
    assert stored is not None and len(stored) == 64 and code.replace("-", "") not in stored
    assert ours.hash(code.lower().replace("-", " ")) == stored
    assert theirs.hash(code) != stored  # a copy of the database is no list of codes to try
    assert ours.hash("not a code") is None


def test_a_bsn_leads_to_an_open_household_before_a_closed_one_then_the_newest_row() -> None:
    now = datetime.now(UTC)

    def candidate(closed: bool, age_days: int) -> Candidate:
        return Candidate(uuid.uuid4(), uuid.uuid4(), closed, now - timedelta(days=age_days))

    old_open, new_closed, new_open = candidate(False, 400), candidate(True, 1), candidate(False, 10)
    assert rules.pick_member([old_open, new_closed, new_open]) == new_open
    assert rules.pick_member([new_closed]) == new_closed
    assert rules.pick_member([]) is None


def test_usernames_say_nothing_about_the_member() -> None:
    names = {rules.new_username() for _ in range(50)}
    assert len(names) == 50 and all(n.startswith("bewoner-") and len(n) == 16 for n in names)


HOUSEHOLD = uuid.uuid4()


def _row(**values: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "occurred_at": datetime.now(UTC),
        "actor_role": "generalist",
        "resource": "plan",
        "action": "read",
        "purpose": "casework",
        "outcome": "allowed",
        "reason": None,
        "worker_name": "Jet de Boer",
        "worker_teams": "Wijkteam Noord",
        "organisation_name": None,
        "user_name": "Jet de Boer",
        "actor_household_id": None,
        "municipality": "Gemeente X",
    }
    return row | values


def test_workers_are_named_only_when_the_municipality_chose_so() -> None:
    hidden, shown = Wording(HOUSEHOLD, False), Wording(HOUSEHOLD, True)
    quiet = hidden.view(_row())
    assert quiet.who == "A generalist of the wijkteam" and "Jet" not in quiet.summary
    assert quiet.organisation == "Wijkteam Noord" and quiet.change is False
    assert quiet.summary == (
        "A generalist of the wijkteam (generalist of the wijkteam, Wijkteam Noord) looked at your "
        "household's plan, for support of your household by the wijkteam."
    )
    assert shown.view(_row()).who == "Jet de Boer"
    officer = _row(
        actor_role="privacy_officer", worker_name=None, user_name="P. Officer", resource="access_log"
    )
    assert hidden.view(officer).who == "The privacy officer" and shown.view(officer).who == "P. Officer"
    assert hidden.view(officer).organisation == "Gemeente X"


def test_partners_are_named_by_organisation_and_housemates_never_by_name() -> None:
    wording = Wording(HOUSEHOLD, True)
    partner = wording.view(
        _row(actor_role="partner", organisation_name="Schuldhulp", resource="referral", purpose="referral",
             worker_name=None, user_name=None)
    )  # fmt: skip
    assert (partner.who, partner.organisation) == ("Schuldhulp", "Schuldhulp")
    housemate = _row(actor_role="household_member", user_name="Ewout", actor_household_id=HOUSEHOLD)
    assert wording.view(housemate).who == "A member of your household"
    stranger = _row(actor_role="household_member", user_name="Zoë", actor_household_id=uuid.uuid4())
    assert wording.view(stranger).who == "A member of another household"


def test_break_glass_carries_its_reason_and_refusals_say_so() -> None:
    wording = Wording(HOUSEHOLD, False)
    glass = wording.view(_row(action="break_glass", resource="household", reason="Melding politie"))
    assert glass.break_glass and glass.reason == "Melding politie"
    assert glass.summary.endswith("Stated reason: Melding politie")
    refused = wording.view(_row(outcome="denied", action="update", resource="consent"))
    assert refused.change is True and "(refused: nothing was shown)" in refused.summary
    assert wording.view(_row(resource="something_new")).what == "something new"
