"""The demo networks: two networks, year plans within budget, ~50 current initiatives in every state
(made through the services), grants, and a history of past quarters; loading twice adds nothing."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.demo.initiative_history import INITIATOR
from tests.support.demo import load_demo_into

DEMO = (
    "FROM initiatives i JOIN resident_networks n ON n.id = i.network_id "
    "JOIN municipalities m ON m.id = n.municipality_id WHERE m.code = 'GM9999' "
)
COUNTS = text(f"SELECT i.status, count(*) {DEMO} AND i.initiator_name <> :history GROUP BY 1")
# Every demo year plan's ledger adds up to what it has available, and its totals to its entries.
LEDGERS = text(
    "SELECT yp.year, yp.budget_cents - yp.granted_cents + yp.returned_cents, yp.returned_cents, "
    "coalesce(sum(l.amount_cents), 0), "
    "coalesce(-sum(l.amount_cents) FILTER (WHERE l.kind = 'grant'), 0), "
    "yp.granted_cents FROM year_plans yp JOIN resident_networks n ON n.id = yp.network_id "
    "JOIN municipalities m ON m.id = n.municipality_id "
    "LEFT JOIN year_plan_ledger l ON l.year_plan_id = yp.id "
    "WHERE m.code = 'GM9999' GROUP BY yp.id"
)
MEETINGS = """{ networks(municipality: "GM9999") {
  meetings { canDecide } grants { votesFor publicSummary ballots { ballot } } } }"""
HISTORY = text(f"SELECT count(*), max(i.created_at) < now() {DEMO} AND i.initiator_name = :history")
NETWORKS = """{ networks(municipality: "GM9999") {
  name area { code } yearPlans { year budgetCents grantedCents spentCents }
  grants { decision amountCents reason } } }"""


async def test_demo_initiatives(app: FastAPI, client: httpx.AsyncClient) -> None:
    await load_demo_into(app)
    await load_demo_into(app)
    async with app.state.db.transaction() as session:
        counts = {status: n for status, n in await session.execute(COUNTS, {"history": INITIATOR})}
        history, all_past = (await session.execute(HISTORY, {"history": INITIATOR})).one()
        ledgers = (await session.execute(LEDGERS)).all()
    assert ledgers and any(returned > 0 for _, _, returned, _, _, _ in ledgers)
    for year, available, _, balance, granted_in_ledger, granted in ledgers:
        assert balance == available >= 0 and granted_in_ledger == granted, year
    meetings = (await client.post("/graphql", json={"query": MEETINGS})).json()["data"]["networks"]
    for network in meetings:
        assert sorted(m["canDecide"] for m in network["meetings"]) == [False, True]
        decided = [g for g in network["grants"] if g["votesFor"] is not None]
        assert decided and all(g["publicSummary"] and g["ballots"] is None for g in decided)
    assert set(counts) == {"idea", "requested", "granted", "rejected", "running", "completed"}
    assert 45 <= sum(counts.values()) <= 60
    # The history: every past quarter of both networks (its size follows the demo's --households).
    assert history >= 2 * 12 and all_past
    body = (await client.post("/graphql", json={"query": NETWORKS})).json()
    networks = body["data"]["networks"]
    assert len(networks) == 2
    for network in networks:
        assert len(network["area"]) == 3
        plans = network["yearPlans"]
        # The oldest history year may hold only rejected or open requests (nothing spent, rightly).
        assert all(0 <= p["spentCents"] <= p["grantedCents"] <= p["budgetCents"] for p in plans)
        assert any(p["spentCents"] > 0 for p in plans)
        assert {g["decision"] for g in network["grants"]} == {"GRANTED", "REJECTED"}
        assert all(g["reason"] is None for g in network["grants"])  # anonymous: reasons are private
    # Ideas are not public; every other state is.
    public: dict[str, str | int] = {"municipality": "GM9999", "limit": 100}
    ideas = (await client.get("/api/v1/initiatives", params={**public, "status": "idea"})).json()
    assert ideas["items"] == []
    for status in ("requested", "granted", "rejected", "running", "completed"):
        listed = (await client.get("/api/v1/initiatives", params={**public, "status": status})).json()
        assert listed["items"], status
