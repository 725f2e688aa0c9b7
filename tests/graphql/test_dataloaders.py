"""Constant SQL per request, whatever the list size: the loaders batch a whole level in one statement."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.graphql.steady import steady_process
from tests.initiatives.factories import Networks
from tests.support.statements import counting_statements

DASHBOARD = """
query($code: String!) {
  neighbourhood(code: $code) {
    code name
    initiatives(first: 500) {
      id title status requestedAmountCents grantedAmountCents initiator { name }
      themes { code labelNl }
      grant { decision amountCents reason }
      network { name area { code name } yearPlans { year budgetCents spentCents } }
    }
    networks { name }
  }
}"""

LIST = """
query($code: String!) {
  initiatives(filter: {neighbourhood: $code}, first: 500) {
    pageInfo { hasNextPage }
    nodes { title themes { code } grant { amountCents } network { name } neighbourhood { code } }
  }
}"""


async def _fill(networks: Networks) -> dict[int, str]:
    """5, 50 and 500 initiatives in three buurten (half of them with a grant)."""
    sizes = {5: 0, 50: 1, 500: 2}
    codes = {}
    for size, buurt in sizes.items():
        network = "a" if buurt < 2 else "b"
        await networks.initiatives(network, size - size // 2, buurt=buurt)
        await networks.funded(network, size // 2, status="running", amount=1_000)
        codes[size] = networks.world.buurten[buurt].code
    return codes


async def _count(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, Any], query: str, code: str
) -> int:
    payload = {"query": query, "variables": {"code": code}}
    with steady_process() as process:
        # Warm: it reloads what the process keeps for a while (signing keys, theme list), which
        # then stays until the count is taken, so the count is the query's own whatever the time.
        await client.post("/graphql", json=payload, headers=headers)
        with process.counted(), counting_statements(app.state.db) as seen:
            response = await client.post("/graphql", json=payload, headers=headers)
    body = response.json()
    assert "errors" not in body, body
    return len(seen)


async def test_the_dashboard_query_costs_the_same_for_5_50_and_500(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    codes = await _fill(networks)
    for actor in ("anonymous", "resident"):
        headers = await networks.world.headers(actor)
        counts = {size: await _count(app, client, headers, DASHBOARD, code) for size, code in codes.items()}
        assert len(set(counts.values())) == 1, (actor, counts)
        # viewer (members only), neighbourhood, initiatives, grants, networks, areas, year plans,
        # networks of the buurt: one statement each, never one per initiative.
        assert counts[500] <= 9, counts
    body = await networks.gql(client, "resident", DASHBOARD, code=codes[500])
    initiatives = body["data"]["neighbourhood"]["initiatives"]
    assert len(initiatives) == 500
    assert sum(1 for i in initiatives if i["grant"]) == 250
    assert all(i["initiator"] is None for i in initiatives)  # network B's: the resident is in A


async def test_the_initiative_list_costs_the_same_for_5_50_and_500(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    codes = await _fill(networks)
    headers = await networks.world.headers("network_coordinator")
    counts = {size: await _count(app, client, headers, LIST, code) for size, code in codes.items()}
    assert len(set(counts.values())) == 1, counts


async def test_a_count_is_the_requests_own_even_when_the_process_reloads_its_keys_and_themes(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    # Why the counts above are taken under steady_process: a request that finds the signing keys
    # and the theme list due reads them again, which a count taken at that moment would include.
    codes = await _fill(networks)
    headers = await networks.world.headers("resident")
    payload = {"query": DASHBOARD, "variables": {"code": codes[5]}}
    with steady_process() as process:
        with counting_statements(app.state.db) as due:
            assert "errors" not in (await client.post("/graphql", json=payload, headers=headers)).json()
        with process.counted(), counting_statements(app.state.db) as own:
            assert "errors" not in (await client.post("/graphql", json=payload, headers=headers)).json()
    reloads = [s for s in due if s not in own]
    assert len(reloads) == 2 and len(due) == len(own) + 2, reloads
    assert any("FROM signing_keys" in s for s in reloads), reloads
    assert any("FROM themes" in s for s in reloads), reloads
