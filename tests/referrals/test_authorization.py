"""The authorization matrix of referrals, consents, webhooks and deliveries.

Scopes decide the kind of data (403 insufficient_scope), object rules which objects (404, answered
exactly like a missing object); anonymous callers get 401. Each cell is one real request with a real
token; all mismatches are reported together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.domain.webhooks.models import DeliveryStatus
from tests.referrals.helpers import Partnering

ACTORS = (
    "generalist_a",
    "generalist_a2",
    "generalist_b",
    "partner_a",
    "partner_b",
    "analyst",
    "resident",
    "admin",
    "anonymous",
)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: dict[str, int]  # per actor; actors left out expect `default`
    default: int
    body: dict[str, Any] | None = None


def denied_outside(
    allowed: dict[str, int], *, scope_holders: tuple[str, ...], default_scope_miss: int = 403
) -> dict[str, int]:
    """Fill in the usual answers: 404 for holders of the scope who may not see the object, 403 for
    the rest, 401 for anonymous."""
    expect = {actor: 404 for actor in scope_holders}
    expect.update({actor: default_scope_miss for actor in ACTORS if actor not in scope_holders})
    expect["anonymous"] = 401
    expect.update(allowed)
    return expect


REFERRAL_HOLDERS = ("generalist_a", "generalist_a2", "generalist_b", "partner_a", "partner_b")
CASE_HOLDERS = ("generalist_a", "generalist_a2", "generalist_b")


async def _check(p: Partnering, cases: list[Case]) -> None:
    wrong: list[str] = []
    for case in cases:
        for actor in ACTORS:
            want = case.expect.get(actor, case.default)
            headers = await p.world.headers(actor)
            response = await p.client.request(case.method, case.path, json=case.body, headers=headers)
            if response.status_code != want:
                wrong.append(f"{case.method} {case.path} as {actor}: {response.status_code}, expected {want}")
            elif want >= 400:
                assert response.headers["content-type"] == "application/problem+json"
    assert not wrong, "\n".join(wrong)


async def test_referral_matrix(p: Partnering) -> None:
    inbound = await p.inbound("partner_a")
    home = await p.household()
    await p.consent(home)
    outbound = await p.outbound(home)
    secret_home = await p.household(confidential=True, coordinator="generalist_a")
    await p.consent(secret_home)
    confidential = await p.outbound(secret_home)

    seen_by_a = {"generalist_a": 200, "generalist_a2": 200, "partner_a": 200}
    cases = []
    for referral, allowed in (
        (inbound, seen_by_a),
        (outbound, seen_by_a),
        (confidential, {"generalist_a": 200, "partner_a": 200}),  # a2 is not involved in this household
    ):
        path = f"/api/v1/referrals/{referral['id']}"
        expect = denied_outside(allowed, scope_holders=REFERRAL_HOLDERS)
        cases += [
            Case("GET", path, expect, 0),
            Case("GET", path + "/messages", expect, 0),
        ]
        # A transition that the lifecycle refuses for everyone (409) once the object rule lets you in.
        refused = {actor: 409 for actor in allowed}
        cases.append(
            Case(
                "POST",
                path + "/transitions",
                denied_outside(refused, scope_holders=REFERRAL_HOLDERS),
                0,
                body={"status": "completed", "outcome": "x"},
            )
        )
    cases += [
        Case(
            "GET", f"/api/v1/referrals/{uuid.uuid4()}", denied_outside({}, scope_holders=REFERRAL_HOLDERS), 0
        ),
        Case(
            "GET",
            "/api/v1/referrals",
            denied_outside({a: 200 for a in REFERRAL_HOLDERS}, scope_holders=()),
            0,
        ),
        Case(
            "GET",
            f"/api/v1/households/{home.id}/referrals",
            denied_outside({"generalist_a": 200, "generalist_a2": 200}, scope_holders=CASE_HOLDERS),
            0,
        ),
        Case(
            "POST",
            f"/api/v1/households/{home.id}/referrals",
            denied_outside({"generalist_a": 422, "generalist_a2": 422}, scope_holders=CASE_HOLDERS),
            0,
            body={**p.outbound_body(home), "reason_domain": "nonsense"},
        ),
    ]
    await _check(p, cases)


async def test_lists_show_only_ones_own_referrals(p: Partnering) -> None:
    from_a = await p.inbound("partner_a")
    from_b = await p.inbound("partner_b", buurt_index=2)
    seen = {}
    for actor in ("generalist_a", "generalist_b", "partner_a", "partner_b"):
        response = await p.get("/api/v1/referrals", actor, limit=100)
        seen[actor] = {r["id"] for r in response.json()["items"]}
    assert from_a["id"] in seen["generalist_a"] and from_a["id"] in seen["partner_a"]
    assert from_a["id"] not in seen["generalist_b"] | seen["partner_b"]
    assert from_b["id"] in seen["generalist_b"] and from_b["id"] in seen["partner_b"]
    assert from_b["id"] not in seen["generalist_a"] | seen["partner_a"]


async def test_only_partners_post_inbound_referrals(p: Partnering) -> None:
    body = p.inbound_body()
    expect = {"partner_a": 201, "partner_b": 201, "anonymous": 401}
    for actor in ACTORS:
        headers = {**await p.world.headers(actor), "Idempotency-Key": uuid.uuid4().hex}
        response = await p.client.post("/api/v1/referrals", json=body, headers=headers)
        assert response.status_code == expect.get(actor, 403), (actor, response.text)


async def test_forbidden_answers_exactly_like_missing(p: Partnering) -> None:
    referral = await p.inbound("partner_a")
    hidden = await p.get(f"/api/v1/referrals/{referral['id']}", "partner_b")
    missing = await p.get(f"/api/v1/referrals/{uuid.uuid4()}", "partner_b")
    strip = ("instance", "request_id")
    assert {k: v for k, v in hidden.json().items() if k not in strip} == {
        k: v for k, v in missing.json().items() if k not in strip
    }


async def test_consent_matrix(p: Partnering) -> None:
    home = await p.household()
    consent = await p.consent(home)
    base = f"/api/v1/households/{home.id}/consents"
    team_a = {"generalist_a": 200, "generalist_a2": 200}
    withdraw_twice = {"generalist_a": 409, "generalist_a2": 409}
    await p.client.post(f"{base}/{consent['id']}/withdraw", headers=await p.world.headers("generalist_a"))
    cases = [
        Case("GET", base, denied_outside(team_a, scope_holders=CASE_HOLDERS), 0),
        Case("GET", f"{base}/{consent['id']}", denied_outside(team_a, scope_holders=CASE_HOLDERS), 0),
        Case(
            "POST",
            f"{base}/{consent['id']}/withdraw",
            denied_outside(withdraw_twice, scope_holders=CASE_HOLDERS),
            0,
        ),
        Case(
            "POST",
            base,
            denied_outside({"generalist_a": 422, "generalist_a2": 422}, scope_holders=CASE_HOLDERS),
            0,
            body={
                "member_id": str(uuid.uuid4()),
                "organisation_id": str(uuid.uuid4()),
                "purpose": "finances",
                "categories": ["identity"],
            },
        ),
    ]
    await _check(p, cases)


async def test_webhook_and_delivery_matrix(p: Partnering) -> None:
    created = await p.client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hooks", "event_types": ["referral.accepted"]},
        headers=await p.world.headers("partner_a"),
    )
    assert created.status_code == 201, created.text
    subscription = created.json()
    home = await p.household()
    await p.consent(home)
    referral = await p.outbound(home)
    assert (await p.move(referral["id"], "partner_a", "accepted")).status_code == 200
    deliveries = await p.get(f"/api/v1/webhooks/{subscription['id']}/deliveries", "partner_a")
    [delivery] = deliveries.json()["items"]
    assert delivery["status"] == DeliveryStatus.pending

    one = f"/api/v1/webhooks/{subscription['id']}"
    partner_only = ("partner_a", "partner_b")
    owner = {"partner_a": 200}
    # Team members hold the referral scopes but are not partners: 403 partners_only.
    team = {"generalist_a": 403, "generalist_a2": 403, "generalist_b": 403}
    cases = [
        Case(
            "GET",
            "/api/v1/webhooks",
            denied_outside({**team, "partner_a": 200, "partner_b": 200}, scope_holders=()),
            0,
        ),
        Case("GET", one, denied_outside({**owner, **team}, scope_holders=partner_only), 0),
        Case("GET", one + "/deliveries", denied_outside({**owner, **team}, scope_holders=partner_only), 0),
        Case(
            "GET",
            f"{one}/deliveries/{delivery['id']}",
            denied_outside({**owner, **team}, scope_holders=partner_only),
            0,
        ),
        Case(
            "POST",
            f"{one}/deliveries/{delivery['id']}/redeliver",
            denied_outside({"partner_a": 409, **team}, scope_holders=partner_only),
            0,
        ),
        Case(
            "PATCH",
            one,
            denied_outside({**owner, **team}, scope_holders=partner_only),
            0,
            body={"description": "x"},
        ),
        Case("GET", f"/api/v1/webhooks/{uuid.uuid4()}", denied_outside(team, scope_holders=partner_only), 0),
    ]
    await _check(p, cases)
    removed = await p.client.delete(one, headers=await p.world.headers("partner_b"))
    assert removed.status_code == 404
    assert (await p.client.delete(one, headers=await p.world.headers("partner_a"))).status_code == 204
    assert (await p.get(one, "partner_a")).status_code == 404
