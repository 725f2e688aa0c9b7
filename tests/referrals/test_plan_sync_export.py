"""The referral in the rest of the case file: the plan action that it carries out links to it, and
referrals and consents travel with the household to the team's phones and into a subject-access
export."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select

from app.domain.plans.models import Plan, PlanAction
from tests.referrals.helpers import Home, Partnering


async def _plan(p: Partnering, home: Home) -> dict[str, uuid.UUID]:
    """An active plan with a partner action and a worker action (made in the database: the plan
    routes belong to another context)."""
    async with p.world.app.state.db.transaction() as session:
        plan = Plan(household_id=home.id, revision=1)
        session.add(plan)
        await session.flush()
        partner = PlanAction(plan_id=plan.id, description="Aanmelding schuldhulp", performer_kind="partner")
        worker = PlanAction(plan_id=plan.id, description="Budgetplan maken", performer_kind="worker")
        session.add_all([partner, worker])
        await session.flush()
        return {"plan": plan.id, "partner": partner.id, "worker": worker.id}


async def _linked(p: Partnering, action_id: uuid.UUID) -> uuid.UUID | None:
    async with p.world.app.state.db.transaction() as session:
        return await session.scalar(select(PlanAction.referral_id).where(col(PlanAction.id) == action_id))


async def test_the_plan_action_links_to_the_referral_that_carries_it_out(p: Partnering) -> None:
    home, other = await p.household(), await p.household()
    plan = await _plan(p, home)
    await p.consent(home)
    not_partner = await p.post_outbound(home, plan_action_id=str(plan["worker"]))
    assert not_partner.json()["errors"][0]["rule"] == "plan_action_not_partner"
    elsewhere = await p.post_outbound(other, plan_action_id=str(plan["partner"]))
    assert elsewhere.status_code == 422  # not that household's plan (and no consent there either)

    first = await p.outbound(home, plan_action_id=str(plan["partner"]))
    assert await _linked(p, plan["partner"]) == uuid.UUID(first["id"])
    taken = await p.post_outbound(home, plan_action_id=str(plan["partner"]))
    assert taken.status_code == 409
    assert taken.json()["type"] == "urn:wijkwerk:problem:plan_action_already_referred"

    assert await _overview_referral(p, home, plan["partner"]) == {"id": first["id"], "status": "submitted"}

    declined = await p.move(first["id"], "partner_a", "declined", reason="Wachtlijst vol.")
    assert declined.status_code == 200
    # The coordinator keeps the lead: the overview shows where the referral stands.
    assert await _overview_referral(p, home, plan["partner"]) == {"id": first["id"], "status": "declined"}
    second = await p.outbound(home, plan_action_id=str(plan["partner"]))  # try another route
    assert await _linked(p, plan["partner"]) == uuid.UUID(second["id"])


async def _overview_referral(p: Partnering, home: Home, action_id: uuid.UUID) -> dict[str, Any]:
    overview = await p.get(f"/api/v1/households/{home.id}/overview", "generalist_a")
    assert overview.status_code == 200
    [action] = [a for a in overview.json()["plan"]["open_actions"] if a["id"] == str(action_id)]
    return {"id": action["referral_id"], "status": action["referral"]["status"]}


async def _sync_all(p: Partnering, actor: str) -> list[dict[str, Any]]:
    upserts: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await p.get("/api/v1/sync", actor, **params)).json()
        upserts += page["upserts"]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    return upserts


async def test_referrals_and_consents_sync_to_the_teams_phones(p: Partnering) -> None:
    home = await p.household()
    consent = await p.consent(home)
    referral = await p.outbound(home)
    mine = {
        (u["entity"], u["id"]): u
        for u in await _sync_all(p, "generalist_a")
        if u["household_id"] == str(home.id)
    }
    assert ("consent", consent["id"]) in mine
    assert mine[("referral", referral["id"])]["data"]["status"] == "submitted"
    others = await _sync_all(p, "generalist_b")
    assert all(u["household_id"] != str(home.id) for u in others)


async def test_the_subject_access_export_holds_consents_referrals_and_messages(p: Partnering) -> None:
    home = await p.household()
    consent = await p.consent(home)
    referral = await p.outbound(home)
    await p.client.post(
        f"/api/v1/referrals/{referral['id']}/messages",
        json={"body": "Intake gepland."},
        headers=await p.world.headers("partner_a"),
    )
    export = await p.client.post(
        "/api/v1/audit/subject-access",
        json={"member_id": str(home.members[0])},
        headers=await p.world.headers("privacy_officer"),
    )
    assert export.status_code == 200, export.text
    sections = export.json()["sections"]
    assert [c["id"] for c in sections["consents"]] == [consent["id"]]
    [exported] = sections["referrals"]
    assert exported["id"] == referral["id"]
    assert [m["body"] for m in exported["messages"]] == ["Intake gepland."]
    accessed = {(e["resource"], e["client_id"]) for e in export.json()["access_log"]}
    assert ("referral_message", p.world.clients["partner_a"].client_id) in accessed
