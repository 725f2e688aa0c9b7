"""No personal data in a signal: each kind is found (tables and generated examples), ordinary policy
prose is not, and the API answers 422 naming the field and the kind, never the data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.households.bsn import check_bsn
from app.domain.signals.personal_data import PersonalData, kinds_in
from tests.signals.support import BASE, Signals, signal_body

K = PersonalData

FOUND = [
    ("Haar BSN is 111222333.", K.bsn),
    ("bsn 123.456.782 staat in het dossier", K.bsn),
    ("nummer 1234 56 782", K.bsn),
    ("Bel 06-12345678 na vijven", K.phone_number),
    ("bel 0612345678", K.phone_number),
    ("via +31 6 12345678", K.phone_number),
    ("tel. 020 123 4567", K.phone_number),
    ("0031 58 1234567", K.phone_number),
    ("+31 (0)58 123 45 67", K.phone_number),
    ("mail naar j.jansen@example.nl", K.email_address),
    ("Adres: 8911 AB 12", K.postcode_house_number),
    ("Dorpsstraat 12a, 8911 AB Leeuwarden", K.postcode_house_number),
    ("8911ab 3", K.postcode_house_number),
]

CLEAN = [
    "A mother of 45 with 3 children; the rule dates from 2015.",
    "Beleidsregels Wmo 2015, artikel 2.3.5 lid 1",
    "Since 2024 en 12 households in this wijk asked the same.",
    "The budget is EUR 1.500 per year, 20 hours a week.",
    "Postcode area 8911 only (no address).",
    "A stair lift was asked for; a second vacuum cleaner solved it.",
    "Number 123456789 fails the eleven-test, so it is not a BSN.",
]


@pytest.mark.parametrize(("text", "kind"), FOUND)
def test_each_kind_is_found(text: str, kind: PersonalData) -> None:
    assert kinds_in(text) == [kind]


@pytest.mark.parametrize("text", CLEAN)
def test_policy_prose_passes(text: str) -> None:
    assert kinds_in(text) == []


def test_the_linked_members_names_are_found_as_whole_words() -> None:
    names = ["Tineke", "de Vries"]
    assert kinds_in("Mevrouw De  Vries zorgt voor haar moeder", names) == [K.member_name]
    assert kinds_in("tineke asked for help", names) == [K.member_name]
    assert kinds_in("Tinekes buurvrouw and the Vriesland rule", names) == []


def _bsn(eight: str) -> str | None:
    """The BSN the eleven-test completes ``eight`` digits to (None when no ninth digit does)."""
    check = sum(int(d) * w for d, w in zip(eight, range(9, 1, -1), strict=True)) % 11
    return eight + str(check) if check < 10 and eight[0] != "0" else None


BSNS = st.from_regex(r"[1-9][0-9]{7}", fullmatch=True).map(_bsn).filter(lambda b: b is not None)


@given(BSNS, st.sampled_from([" ", "\n", ", "]))
def test_any_valid_bsn_is_found(bsn: str, sep: str) -> None:
    assert check_bsn(bsn) == bsn
    assert K.bsn in kinds_in(f"situatie{sep}{bsn}{sep}einde")


@given(st.from_regex(r"6[1-9][0-9]{7}", fullmatch=True), st.sampled_from(["0", "+31 ", "0031", "+31(0)"]))
def test_any_mobile_number_is_found(digits: str, prefix: str) -> None:
    assert K.phone_number in kinds_in(f"bel {prefix}{digits[0]}-{digits[1:]}")


@given(st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,8})?@[a-z]{2,10}\.(nl|com|org)", fullmatch=True))
def test_any_email_address_is_found(address: str) -> None:
    assert K.email_address in kinds_in(f"schrijf {address} aan")


@given(st.integers(1000, 9999), st.sampled_from(["AB", "XY", "KL"]), st.integers(1, 999))
def test_any_postcode_with_a_number_is_found(digits: int, letters: str, number: int) -> None:
    assert K.postcode_house_number in kinds_in(f"woont op {digits} {letters} {number}")


@pytest.mark.parametrize(
    ("field", "text", "rule"),
    [
        ("situation", "Mother, BSN 111222333, needs care.", "personal_data_bsn"),
        ("solution", "Call her daughter on 06-12345678.", "personal_data_phone_number"),
        ("rule_quote", "Ask beleid@example.nl for the quote.", "personal_data_email_address"),
        ("title", "Care at 8911 AB 12", "personal_data_postcode_house_number"),
    ],
)
async def test_the_api_names_the_field_and_the_kind_never_the_data(
    signals: Signals, field: str, text: str, rule: str
) -> None:
    response = await signals.send("POST", BASE, "generalist_a", json=_body(field, text))
    assert response.status_code == 422, response.text
    assert [(e["loc"], e["rule"]) for e in response.json()["errors"]] == [(["body", field], rule)]
    assert text not in response.text and "111222333" not in response.text


def _body(field: str, text: str) -> dict[str, object]:
    return signal_body(**{field: text})


async def test_a_linked_members_name_is_refused_and_the_draft_is_not_written(signals: Signals) -> None:
    household = await signals.household(
        members=[{"given_name": "Tineke", "family_name": "Bosma", "role": "parent"}]
    )
    body: dict[str, object] = {
        "situation": "Tineke Bosma needs daily care from her daughter.",
        "household_ids": [household],
    }
    response = await signals.send("POST", BASE, "generalist_a", json=_body_with(body))
    assert response.status_code == 422, response.text
    assert {e["rule"] for e in response.json()["errors"]} == {"personal_data_member_name"}
    assert "Tineke" not in response.text
    listed = (await signals.ok("GET", BASE, "generalist_a", params={"own_team": "true"})).json()["items"]
    assert all(s["situation"] != body["situation"] for s in listed)


def _body_with(extra: dict[str, object]) -> dict[str, object]:
    return signal_body(**extra)


async def test_an_answer_is_checked_too(signals: Signals) -> None:
    submitted = await signals.submitted()
    taken = await signals.step(submitted, "policy_officer", "decisions", {"status": "in_consideration"})
    answer = {"status": "answered", "answer": "no_change", "reasoning": "Mail me at a@example.nl"}
    response = await signals.step(taken, "policy_officer", "decisions", answer)
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "personal_data_email_address"
