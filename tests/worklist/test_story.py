"""The whole loop as one story: address-only intake, assessment, plan agreed, a referral out with the
lead kept, the partner's outcome, the evaluation per goal, the plan closed, the household closed, with
the worklist showing what is due at every step. Time moves with the domain's clock."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.factories import World
from tests.worklist.support import Team, days_later, kinds, now_iso, today


async def test_from_first_contact_to_a_closed_file(
    world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    team = await Team.start(world, client, tmp_path)
    hh = "/api/v1/households"

    # Day 0: the intake at the kitchen table, registered by address alone with the first note.
    intake = await team.ok(
        "POST",
        hh,
        json={
            **team.address(12),
            "members": [{"given_name": "Sanne", "role": "parent"}, {"given_name": "Bo", "role": "child"}],
            "themes": ["debts"],
            "first_contact": {
                "kind": "home_visit",
                "occurred_at": now_iso(),
                "minutes": 75,
                "note": "Eerste gesprek: achterstand huur, post ligt ongeopend.",
            },
        },
    )
    household, sanne = intake["id"], intake["members"][0]["id"]
    base = f"{hh}/{household}"
    assert (intake["status"], intake["buurt_code"]) == ("intake", world.buurten[0].code)
    assert intake["first_contact"]["note"].startswith("Eerste gesprek")
    assert kinds(await team.worklist(), household) == []  # nothing due yet

    # Four weeks and two days on, nothing happened: the contact gap of a household nobody assessed.
    with days_later(30):
        assert kinds(await team.worklist(), household) == [("no_contact", True)]
        await team.ok(
            "POST",
            base + "/assessments",
            json={
                "assessed_on": str(today()),
                "scores": [{"domain": "finances", "score": 2}, {"domain": "housing", "score": 3}],
            },
        )
        await team.ok(
            "POST", base + "/contacts", json={"kind": "phone", "occurred_at": now_iso(), "minutes": 20}
        )
        assert kinds(await team.worklist(), household) == []

    # Day 35: the plan, agreed with Sanne in the same request; the household becomes active.
    with days_later(35):
        plan = await team.ok(
            "POST",
            base + "/plans",
            json={
                "supersedes_id": None,
                "goals": [
                    {
                        "domain": "finances",
                        "target_score": 4,
                        "description": "Grip op de post en een betalingsregeling",
                        "actions": [
                            {"description": "Schuldhulp: betalingsregeling", "performer_kind": "partner"}
                        ],
                    },
                    {
                        "domain": "housing",
                        "target_score": 4,
                        "actions": [
                            {"description": "Huur elke maand op de 1e", "performer_kind": "household"}
                        ],
                    },
                ],
                "agreement": {"agreed_by_member_id": sanne},
            },
        )
        assert plan["agreed_at"] is not None and plan["evaluation_date"] is not None
        assert (await team.ok("GET", base))["status"] == "active"
        partner_action = plan["actions"][0]["id"]

    # Day 36: consent for the debt-help partner, and the referral out that carries the plan's action.
    with days_later(36):
        consent = await team.ok(
            "POST",
            base + "/consents",
            json={
                "member_id": sanne,
                "organisation_id": str(world.organisations["a"].id),
                "purpose": "finances",
                "categories": ["identity"],
                "valid_until": str(today(140 - 36)),
            },
        )
        referral = await team.ok(
            "POST",
            base + "/referrals",
            json={
                "member_id": sanne,
                "organisation_id": str(world.organisations["a"].id),
                "reason_domain": "finances",
                "legal_basis": "consent",
                "plan_action_id": partner_action,
            },
        )
        lead_kept = await team.ok("GET", f"{base}/plans/{plan['id']}")
        assert lead_kept["actions"][0]["referral_id"] == referral["id"]  # the team keeps the lead

    # Day 50: the partner has not answered for two weeks; the next visit is coming up.
    with days_later(50):
        page = await team.worklist()
        assert kinds(page, household) == [("referral_no_response", True), ("no_contact", False)]
        assert page.items[0].link == f"/api/v1/referrals/{referral['id']}"
        for status, extra in (
            ("accepted", {}),
            ("in_progress", {}),
            ("completed", {"outcome": "Regeling getroffen."}),
        ):
            await team.ok(
                "POST",
                f"/api/v1/referrals/{referral['id']}/transitions",
                "partner_a",
                json={"status": status, **extra},
            )
        assert kinds(await team.worklist(), household) == [("no_contact", False)]
        await team.ok(
            "POST", base + "/contacts", json={"kind": "home_visit", "occurred_at": now_iso(), "minutes": 45}
        )
        assert kinds(await team.worklist(), household) == []

    # Day 120: the evaluation is coming up, and the consent runs out within a month.
    with days_later(120):
        page = await team.worklist()
        assert kinds(page, household) == [
            ("no_contact", True),
            ("plan_evaluation", False),
            ("consent_expiring", False),
        ]
        evaluation = next(i for i in page.items if i.kind == "plan_evaluation")
        assert evaluation.link == f"{base}/plans/{plan['id']}" and evaluation.object.id == uuid.UUID(
            plan["id"]
        )
        assert next(i for i in page.items if i.kind == "consent_expiring").object.id == uuid.UUID(
            consent["id"]
        )
        goals = {g["domain"]: g["id"] for g in plan["goals"]}
        evaluated = await team.ok(
            "POST",
            f"{base}/plans/{plan['id']}/evaluations",
            json={
                "member_ids": [sanne],
                "household_view": "De post is weer bij. Huur lukt nog niet altijd.",
                "goals": [
                    {"goal_id": goals["finances"], "result": "reached"},
                    {"goal_id": goals["housing"], "result": "partly", "note": "Twee keer te laat."},
                ],
            },
        )
        [recorded] = evaluated["evaluations"]
        assert [(g["result"], g["score"]) for g in recorded["goals"]] == [("reached", 2), ("partly", 3)]
        assert evaluated["evaluation_date"] > evaluation.due_on.isoformat()
        await team.ok("POST", base + "/contacts", json={"kind": "home_visit", "occurred_at": now_iso()})
        assert kinds(await team.worklist(), household) == [("consent_expiring", False)]

        # The plan has done its work: closed with a reason, then the file goes into aftercare.
        closed = await team.ok(
            "POST",
            f"{base}/plans/{plan['id']}/closing",
            json={"reason": "goals_reached", "expected_version": evaluated["version"]},
        )
        assert (closed["status"], closed["closing_reason"]) == ("closed", "goals_reached")
        current = await team.ok("GET", base)
        aftercare = await team.ok(
            "PATCH", base, json={"status": "aftercare", "expected_version": current["version"]}
        )

    # Aftercare ends after 13 weeks: the worklist says so; the file is closed.
    with days_later(120 + 13 * 7 - 10):
        assert ("aftercare_ending", False) in kinds(await team.worklist(), household)
        await team.ok(
            "PATCH",
            base,
            json={
                "status": "closed",
                "closing_reason": "goals_reached",
                "expected_version": aftercare["version"],
            },
        )
        assert kinds(await team.worklist(), household) == []
        history = await team.ok("GET", f"{base}/plans/{plan['id']}")
        assert history["status"] == "closed" and len(history["evaluations"]) == 1  # the history stays
