"""The lifecycle of a policy signal with every role: a worker writes, a team lead submits (and
bundles), the policy staff take, answer and close; every step is on record and the team is told."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from app.domain.webhooks.models import WebhookEvent
from tests.signals.support import BASE, Signals, signal_body

PROBLEM = "urn:wijkwerk:problem:"


async def test_the_whole_way_from_draft_to_outcome(signals: Signals) -> None:
    draft = await signals.draft()
    assert draft.json()["status"] == "draft"
    submitted = await signals.step(draft, "team_lead_a", "submit", {})
    assert submitted.status_code == 200, submitted.text
    taken = await signals.step(submitted, "policy_officer", "decisions", {"status": "in_consideration"})
    assert taken.status_code == 200, taken.text
    answer = {"status": "answered", "answer": "exemption_granted", "reasoning": "The mayor grants it."}
    answered = await signals.step(taken, "policy_officer", "decisions", answer)
    assert answered.status_code == 200, answered.text
    outcome = {
        "status": "closed",
        "outcome": "Relatives in the house may be paid.",
        "outcome_from": "2027-01-01",
    }
    closed = await signals.step(answered, "policy_officer", "decisions", outcome)
    assert closed.status_code == 200, closed.text
    read = closed.json()
    assert read["status"] == "closed" and read["answer"] == "exemption_granted"
    assert read["outcome_from"] == "2027-01-01"
    steps = [(t["from_status"], t["to_status"], t["actor_role"]) for t in read["transitions"]]
    assert steps == [
        (None, "draft", "generalist"),
        ("draft", "submitted", "team_lead"),
        ("submitted", "in_consideration", "policy_officer"),
        ("in_consideration", "answered", "policy_officer"),
        ("answered", "closed", "policy_officer"),
    ]
    async with signals.world.app.state.db.transaction() as session:
        events = await session.scalars(
            select(WebhookEvent).where(col(WebhookEvent.event_type).like("policy_signal%"))
        )
        assert events.all() == []  # the team learns of the answer from its worklist, not an event


async def test_a_worker_cannot_submit_or_answer(signals: Signals) -> None:
    draft = await signals.draft()
    refused = await signals.step(draft, "generalist_a", "submit", {})
    assert refused.status_code == 403 and refused.json()["type"] == PROBLEM + "signal_step_role"
    submitted = await signals.step(draft, "team_lead_a", "submit", {})
    answer = await signals.step(submitted, "generalist_a", "decisions", {"status": "in_consideration"})
    assert answer.status_code == 403  # no signals:answer scope


async def test_a_policy_officer_cannot_write_or_submit(signals: Signals) -> None:
    assert (await signals.send("POST", BASE, "policy_officer", json={})).status_code == 403
    draft = await signals.draft()
    assert (await signals.step(draft, "policy_officer", "submit", {})).status_code == 403


async def test_steps_go_in_order_and_need_the_current_version(signals: Signals) -> None:
    submitted = await signals.submitted()
    skipped = await signals.step(
        submitted,
        "policy_officer",
        "decisions",
        {"status": "closed", "outcome": "x", "outcome_from": "2027-01-01"},
    )
    assert skipped.status_code == 409 and skipped.json()["type"] == PROBLEM + "signal_lifecycle"
    signal_id = submitted.json()["id"]
    no_match = await signals.send(
        "POST", f"{BASE}/{signal_id}/decisions", "policy_officer", json={"status": "in_consideration"}
    )
    assert no_match.status_code == 428, no_match.text
    stale = f'"{signal_id}.1"'
    stale_answer = await signals.send(
        "POST",
        f"{BASE}/{signal_id}/decisions",
        "policy_officer",
        json={"status": "in_consideration"},
        headers={"If-Match": stale},
    )
    assert stale_answer.status_code == 412


async def test_an_answer_needs_its_reasoning(signals: Signals) -> None:
    submitted = await signals.submitted()
    taken = await signals.step(submitted, "policy_officer", "decisions", {"status": "in_consideration"})
    missing = await signals.step(
        taken, "policy_officer", "decisions", {"status": "answered", "answer": "no_change"}
    )
    assert missing.status_code == 422
    assert [e["rule"] for e in missing.json()["errors"]] == ["reasoning_required"]


async def test_only_a_draft_is_changed(signals: Signals) -> None:
    draft = await signals.draft()
    signal_id = draft.json()["id"]
    changed = await signals.send(
        "PATCH",
        f"{BASE}/{signal_id}",
        "generalist_a2",
        json={"title": "A clearer title"},
        headers={"If-Match": draft.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "A clearer title" and changed.json()["version"] == 2
    submitted = await signals.step(changed, "team_lead_a", "submit", {})
    late = await signals.send(
        "PATCH",
        f"{BASE}/{signal_id}",
        "generalist_a",
        json={"title": "Later"},
        headers={"If-Match": submitted.headers["etag"]},
    )
    assert late.status_code == 409 and late.json()["type"] == PROBLEM + "signal_not_draft"


async def test_a_team_lead_bundles_another_teams_signal_and_the_answer_reaches_both(signals: Signals) -> None:
    other = await signals.submitted("generalist_b", "team_lead_b")
    draft = await signals.draft()
    lead = await signals.step(draft, "team_lead_a", "submit", {"bundle": [other.json()["id"]]})
    assert lead.status_code == 200, lead.text
    assert lead.json()["bundled_signal_ids"] == [other.json()["id"]]
    again = await signals.draft()
    twice = await signals.step(again, "team_lead_a", "submit", {"bundle": [other.json()["id"]]})
    assert twice.status_code == 422 and twice.json()["errors"][0]["rule"] == "bundle_not_submitted"
    refreshed = await signals.ok("GET", f"{BASE}/{other.json()['id']}", "policy_officer")
    alone = await signals.step(refreshed, "policy_officer", "decisions", {"status": "in_consideration"})
    assert alone.status_code == 409 and alone.json()["type"] == PROBLEM + "signal_bundled"
    await signals.step(lead, "policy_officer", "decisions", {"status": "in_consideration"})
    followed = (await signals.ok("GET", f"{BASE}/{other.json()['id']}", "generalist_b")).json()
    assert followed["status"] == "in_consideration" and followed["bundled_into_id"] == lead.json()["id"]


@pytest.mark.parametrize("actor", ["generalist_b", "team_lead_b", "policy_officer"])
async def test_another_team_and_the_policy_staff_never_see_a_draft(signals: Signals, actor: str) -> None:
    draft = await signals.draft()
    response = await signals.send("GET", f"{BASE}/{draft.json()['id']}", actor)
    assert response.status_code == 404
    listed = (await signals.ok("GET", BASE, actor)).json()["items"]
    assert draft.json()["id"] not in {s["id"] for s in listed}


async def test_the_team_lead_finds_the_answer_on_the_worklist_until_it_is_closed(signals: Signals) -> None:
    submitted = await signals.submitted()
    taken = await signals.step(submitted, "policy_officer", "decisions", {"status": "in_consideration"})
    answer = {"status": "answered", "answer": "policy_will_change", "reasoning": "The rule goes."}
    answered = await signals.step(taken, "policy_officer", "decisions", answer)

    async def items() -> list[dict[str, object]]:
        page = (await signals.ok("GET", "/api/v1/worklist/team", "team_lead_a")).json()["items"]
        return [i for i in page if i["kind"] == "signal_answered"]

    [item] = await items()
    assert item["object"] == {"type": "policy_signal", "id": submitted.json()["id"]}
    assert item["link"] == f"{BASE}/{submitted.json()['id']}"
    other = (await signals.ok("GET", "/api/v1/worklist/team", "team_lead_b")).json()["items"]
    assert all(i["kind"] != "signal_answered" for i in other)
    outcome = {"status": "closed", "outcome": "Rule withdrawn.", "outcome_from": "2027-03-01"}
    await signals.step(answered, "policy_officer", "decisions", outcome)
    assert await items() == []


async def test_a_retried_draft_is_written_once(signals: Signals) -> None:
    headers = {"Idempotency-Key": "draft-from-the-bus-1"}
    first = await signals.ok("POST", BASE, "generalist_a", json=signal_body(), headers=headers)
    again = await signals.ok("POST", BASE, "generalist_a", json=signal_body(), headers=headers)
    assert again.json()["id"] == first.json()["id"]
    other = await signals.send("POST", BASE, "generalist_a", json=signal_body(title="Else"), headers=headers)
    assert other.status_code == 422


async def test_the_list_filters_by_theme(signals: Signals) -> None:
    debts = (await signals.draft(themes=["debts"])).json()["id"]
    lonely = (await signals.draft(themes=["loneliness"])).json()["id"]
    for theme, expected in (("debts", [debts]), ("loneliness", [lonely]), ("housing_none", [])):
        listed = await signals.ok("GET", BASE, "generalist_a", params={"theme": theme})
        assert [item["id"] for item in listed.json()["items"]] == expected, theme
