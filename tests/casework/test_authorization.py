"""Authorization matrix over EVERY case-file endpoint of assessments, plans, network map, overview.

Data-driven: each endpoint (a row of ENDPOINTS) is called by each actor (a row of ACTORS) on the
household that actor's case is about. Expected: team A and the assigned coordinator of the
confidential household get through; the other team, an unassigned colleague of a confidential
household and a missing household all get the SAME 404; roles without case scopes get 403;
anonymous and expired tokens 401. Every request by a verified caller writes exactly one access-log
row for the household, allowed or denied (unauthenticated ones are not written, by design of
``CaseRoute``: there is no verified caller to record).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.domain.identity.tokens import issue_access_token
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.security.scopes import Role
from tests.casework.api import CaseApi, etag
from tests.casework.conftest import Cases, problem_core

Ctx = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # formatted with the prepared context: {h}, {assessment}, {plan}, {goal}, {action}, {person}
    ok: int
    needs: tuple[str, ...] = ()  # objects to make first (fresh for every call)
    if_match: str | None = None  # which prepared object's ETag to send
    body: Callable[[Ctx], dict[str, Any]] | None = None


def _assessment_body(_: Ctx) -> dict[str, Any]:
    return {"assessed_on": "2026-02-01", "scores": [{"domain": "housing", "score": 3}]}


ENDPOINTS = [
    Endpoint("list assessments", "GET", "{h}/assessments", 200),
    Endpoint("record assessment", "POST", "{h}/assessments", 201, body=_assessment_body),
    Endpoint("latest scores", "GET", "{h}/assessments/latest", 200),
    Endpoint("read assessment", "GET", "{h}/assessments/{assessment}", 200, ("assessment",)),
    Endpoint(
        "correct assessment",
        "PATCH",
        "{h}/assessments/{assessment}",
        200,
        ("assessment",),
        "assessment",
        lambda _: {"note": "herzien"},
    ),
    Endpoint(
        "delete assessment", "DELETE", "{h}/assessments/{assessment}", 204, ("assessment",), "assessment"
    ),
    Endpoint("active plan", "GET", "{h}/plan", 200, ("plan",)),
    Endpoint("plan history", "GET", "{h}/plans", 200, ("plan",)),
    Endpoint(
        "new plan version",
        "POST",
        "{h}/plans",
        201,
        ("plan",),
        body=lambda ctx: ctx["api"].plan_body(ctx["plan"]),
    ),
    Endpoint("read plan", "GET", "{h}/plans/{plan}", 200, ("plan",)),
    Endpoint(
        "update plan",
        "PATCH",
        "{h}/plans/{plan}",
        200,
        ("plan",),
        "plan",
        lambda _: {"evaluation_date": "2027-02-01"},
    ),
    Endpoint(
        "record agreement",
        "POST",
        "{h}/plans/{plan}/agreement",
        200,
        ("plan",),
        "plan",
        lambda ctx: {"agreed_by_member_id": ctx["member"]},
    ),
    Endpoint(
        "add goal",
        "POST",
        "{h}/plans/{plan}/goals",
        201,
        ("plan",),
        body=lambda _: {"domain": "housing", "target_score": 4},
    ),
    Endpoint("read goal", "GET", "{h}/plans/{plan}/goals/{goal}", 200, ("plan", "goal")),
    Endpoint(
        "update goal",
        "PATCH",
        "{h}/plans/{plan}/goals/{goal}",
        200,
        ("plan", "goal"),
        "goal",
        lambda _: {"target_score": 5},
    ),
    Endpoint("delete goal", "DELETE", "{h}/plans/{plan}/goals/{goal}", 204, ("plan", "goal"), "goal"),
    Endpoint(
        "add action",
        "POST",
        "{h}/plans/{plan}/actions",
        201,
        ("plan",),
        body=lambda _: {"description": "Samen naar de bank", "performer_kind": "volunteer"},
    ),
    Endpoint("read action", "GET", "{h}/plans/{plan}/actions/{action}", 200, ("plan", "action")),
    Endpoint(
        "update action",
        "PATCH",
        "{h}/plans/{plan}/actions/{action}",
        200,
        ("plan", "action"),
        "action",
        lambda _: {"done": True},
    ),
    Endpoint(
        "delete action", "DELETE", "{h}/plans/{plan}/actions/{action}", 204, ("plan", "action"), "action"
    ),
    Endpoint("list network", "GET", "{h}/network", 200),
    Endpoint(
        "add network person",
        "POST",
        "{h}/network",
        201,
        body=lambda _: {"label": "oom", "relation": "family", "support_kinds": ["emotional"]},
    ),
    Endpoint("read network person", "GET", "{h}/network/{person}", 200, ("person",)),
    Endpoint(
        "update network person",
        "PATCH",
        "{h}/network/{person}",
        200,
        ("person",),
        "person",
        lambda _: {"engaged": True},
    ),
    Endpoint("remove network person", "DELETE", "{h}/network/{person}", 204, ("person",), "person"),
    Endpoint("overview", "GET", "{h}/overview", 200),
]


@dataclass(frozen=True)
class Actor:
    name: str  # a person or client of the world; "expired" is generalist_a with an expired token
    household: str  # "a", "conf" or "missing"
    expected: str  # "ok", "hidden" (404 like missing), "scope" (403), "unauthenticated" (401)
    logged: bool = field(default=True)


ACTORS = [
    Actor("generalist_a", "a", "ok"),
    Actor("team_lead_a", "a", "ok"),
    Actor("generalist_a", "conf", "ok"),  # the coordinator of the confidential household
    Actor("generalist_a2", "conf", "hidden"),  # same team, not assigned
    Actor("team_lead_a", "conf", "hidden"),
    Actor("generalist_b", "a", "hidden"),  # the other team
    Actor("team_lead_b", "a", "hidden"),
    Actor("generalist_a", "missing", "hidden"),
    Actor("partner_a", "a", "scope"),
    Actor("analyst", "a", "scope"),
    Actor("resident", "a", "scope"),
    Actor("network_coordinator", "a", "scope"),
    Actor("privacy_officer", "a", "scope"),
    Actor("admin", "a", "scope"),
    Actor("anonymous", "a", "unauthenticated", logged=False),
    Actor("expired", "a", "unauthenticated", logged=False),
]


async def _expired_headers(cases: Cases) -> dict[str, str]:
    """A token of generalist_a from the real token code and keys, expired an hour ago."""
    app = cases.world.app
    person = cases.world.people["generalist_a"]
    assert person.worker is not None
    keyring = await app.state.token_verifier.keys()
    # model_copy skips validation: a lifetime no real configuration allows, to mint a dead token.
    expired_settings = app.state.settings.model_copy(update={"access_token_ttl_seconds": -3600})
    token, _ = issue_access_token(
        keyring,
        expired_settings,
        subject=str(person.user.id),
        client_id=cases.world.clients["mobile_app"].client_id,
        role=Role.generalist,
        scopes={"cases:read", "cases:write"},
        extra={"user_id": str(person.user.id), "worker_id": str(person.worker.id)},
    )
    return {"Authorization": f"Bearer {token}"}


async def _prepare(api: CaseApi, key: str, needs: tuple[str, ...]) -> Ctx:
    ctx: Ctx = {"api": api, "member": str(api.cases.members[key][0].id)}
    if "assessment" in needs:
        ctx["assessment_obj"] = await api.assessment(key)
    if "plan" in needs:
        ctx["plan_obj"] = await api.plan(key)
        ctx["plan"] = ctx["plan_obj"]["id"]
    if "goal" in needs:
        ctx["goal_obj"] = await api.goal(key, ctx["plan"])
    if "action" in needs:
        ctx["action_obj"] = await api.action(key, ctx["plan"])
    if "person" in needs:
        ctx["person_obj"] = await api.person(key)
    for name in ("assessment", "goal", "action", "person"):
        if f"{name}_obj" in ctx:
            ctx[name] = ctx[f"{name}_obj"]["id"]
    return ctx


async def _call(
    client: httpx.AsyncClient, cases: Cases, endpoint: Endpoint, actor: Actor
) -> tuple[httpx.Response, uuid.UUID]:
    api = CaseApi(client, cases)
    source = "a" if actor.household == "missing" else actor.household
    ctx = await _prepare(api, source, endpoint.needs)
    household_id = uuid.uuid4() if actor.household == "missing" else cases.hid(source)
    path = endpoint.path.format(
        h=f"/api/v1/households/{household_id}", **{k: v for k, v in ctx.items() if isinstance(v, str)}
    )
    if actor.name == "expired":
        headers = await _expired_headers(cases)
    else:
        headers = await cases.headers(actor.name)
    if endpoint.if_match:
        headers["If-Match"] = etag(ctx[f"{endpoint.if_match}_obj"])
    body = endpoint.body(ctx) if endpoint.body else None
    before = await cases.access_rows(household_id)
    response = await client.request(endpoint.method, path, headers=headers, json=body)
    logged = await cases.access_rows(household_id) - before
    return response, logged  # type: ignore[return-value]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
async def test_authorization_matrix(client: httpx.AsyncClient, cases: Cases, endpoint: Endpoint) -> None:
    hidden_bodies: list[dict[str, Any]] = []
    for actor in ACTORS:
        response, logged = await _call(client, cases, endpoint, actor)
        label = f"{endpoint.name} as {actor.name} on {actor.household}"
        expected = {"ok": endpoint.ok, "hidden": 404, "scope": 403, "unauthenticated": 401}[actor.expected]
        assert response.status_code == expected, f"{label}: {response.status_code} {response.text}"
        if actor.expected != "ok":
            assert response.headers["content-type"] == "application/problem+json", label
        if actor.expected == "hidden":
            hidden_bodies.append(problem_core(response))
        if actor.logged:
            assert logged == 1, f"{label}: {logged} access-log rows"
    # Forbidden looks exactly like missing: one body for all of them.
    assert all(body == hidden_bodies[0] for body in hidden_bodies), hidden_bodies
    assert hidden_bodies[0]["detail"] == "The household was not found."


async def _log_rows(cases: Cases, request_id: str) -> list[dict[str, Any]]:
    async with cases.world.app.state.db.transaction() as session:
        result = await session.execute(
            select(AccessLogEntry).where(col(AccessLogEntry.request_id) == request_id)
        )
        return [row.model_dump() for row in result.scalars()]


@pytest.mark.parametrize(
    ("actor", "if_match", "status", "outcome"),
    [
        ("generalist_a", "fresh", 200, "allowed"),
        ("generalist_b", "fresh", 404, "denied"),
        ("generalist_a", "stale", 412, "failed"),  # allowed in, but the edit broke a rule: nothing changed
        ("partner_a", "fresh", 403, "denied"),
    ],
)
async def test_one_access_log_row_with_the_required_fields(
    client: httpx.AsyncClient, cases: Cases, actor: str, if_match: str, status: int, outcome: str
) -> None:
    api = CaseApi(client, cases)
    person = await api.person("a")
    tag = etag(person) if if_match == "fresh" else etag({**person, "version": person["version"] + 7})
    request_id = f"casework-{uuid.uuid4().hex}"
    response = await client.patch(
        f"{api.base('a')}/network/{person['id']}",
        headers=await cases.headers(actor, **{"If-Match": tag, "X-Request-ID": request_id}),
        json={"engaged": True},
    )
    assert response.status_code == status
    rows = await _log_rows(cases, request_id)
    assert len(rows) == 1
    row = rows[0]
    who = cases.world.people.get(actor)
    assert row["actor_subject"] and row["actor_role"] == ("partner" if actor == "partner_a" else "generalist")
    assert row["actor_worker_id"] == (who.worker.id if who and who.worker else None)
    assert row["client_id"]
    assert (row["household_id"], row["resource_id"]) == (cases.hid("a"), uuid.UUID(person["id"]))
    # A scope denial is written by CaseRoute, which names the resource after the path ("network").
    resource = "network" if actor == "partner_a" else "network_person"
    assert (row["resource"], row["action"], row["outcome"]) == (resource, "update", outcome)
    assert row["purpose"] == "casework" and row["occurred_at"] is not None
