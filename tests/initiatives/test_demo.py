"""The demo networks: two networks, year plans within budget, ~50 initiatives in every state, grants;
loading twice adds nothing."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests.support.demo import load_demo_into

COUNTS = text(
    "SELECT i.status, count(*) FROM initiatives i JOIN resident_networks n ON n.id = i.network_id "
    "JOIN municipalities m ON m.id = n.municipality_id WHERE m.code = 'GM9999' GROUP BY 1"
)
NETWORKS = """{ networks(municipality: "GM9999") {
  name area { code } yearPlans { year budgetCents spentCents } grants { decision amountCents reason } } }"""


async def test_demo_initiatives(app: FastAPI, client: httpx.AsyncClient) -> None:
    await load_demo_into(app)
    await load_demo_into(app)
    async with app.state.db.transaction() as session:
        counts = {status: n for status, n in await session.execute(COUNTS)}
    assert set(counts) == {"idea", "requested", "granted", "rejected", "running", "completed"}
    assert 45 <= sum(counts.values()) <= 60
    body = (await client.post("/graphql", json={"query": NETWORKS})).json()
    networks = body["data"]["networks"]
    assert len(networks) == 2
    for network in networks:
        assert len(network["area"]) == 3
        assert {p["year"] for p in network["yearPlans"]} and all(
            0 < p["spentCents"] <= p["budgetCents"] for p in network["yearPlans"]
        )
        assert {g["decision"] for g in network["grants"]} == {"GRANTED", "REJECTED"}
        assert all(g["reason"] is None for g in network["grants"])  # anonymous: reasons are private
    listed = (await client.get("/api/v1/initiatives", params={"municipality": "GM9999", "limit": 100})).json()
    assert len(listed["items"]) == sum(counts.values()) - counts["idea"]
