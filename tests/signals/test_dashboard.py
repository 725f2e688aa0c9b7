"""The municipality's dashboard of policy signals (GraphQL): counts per theme and status, the median
time to an answer, outcomes per quarter; only for BI and the policy staff unless published."""

from __future__ import annotations

import pytest

from tests.signals.support import Signals

QUERY = """query($m: String!) { policySignalStats(municipality: $m) {
  municipality answered medianDaysToAnswer
  byThemeAndStatus { theme status signals }
  outcomes { quarter answer signals } } }"""


async def _ask(signals: Signals, actor: str) -> dict[str, object]:
    headers = await signals.world.headers(actor)
    variables = {"m": signals.world.municipality.code}
    response = await signals.client.post(
        "/graphql", json={"query": QUERY, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_policy_staff_and_bi_read_the_figures(signals: Signals) -> None:
    await signals.draft()  # a draft is not counted
    submitted = await signals.submitted()
    taken = await signals.step(submitted, "policy_officer", "decisions", {"status": "in_consideration"})
    answer = {"status": "answered", "answer": "no_change", "reasoning": "The rule protects the budget."}
    await signals.step(taken, "policy_officer", "decisions", answer)
    for actor in ("policy_officer", "analyst"):
        stats = (await _ask(signals, actor))["data"]["policySignalStats"]  # type: ignore[index]
        assert stats["byThemeAndStatus"] == [{"theme": "debts", "status": "answered", "signals": 1}]
        assert stats["answered"] == 1 and stats["medianDaysToAnswer"] == 0.0
        assert [o["answer"] for o in stats["outcomes"]] == ["no_change"]


@pytest.mark.parametrize(
    "actor", ["anonymous", "generalist_a", "team_lead_a", "partner_a", "resident", "privacy_officer"]
)
async def test_nobody_else_reads_them_unless_published(signals: Signals, actor: str) -> None:
    answer = await _ask(signals, actor)
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")  # type: ignore[index]
