"""The authorization matrix of the household case file, the sync and the privacy officer's routes.

Data-driven: every row is (endpoint, actor, target) -> expected status. For every request the test
also checks that

* a hidden household answers exactly like a missing one (same status and body apart from the
  request-specific ``instance`` and ``request_id``), and a refused scope answers the same whether
  the household exists or not;
* exactly one access-log row was written for the request (found by its X-Request-ID) with the
  required fields, outcome ``allowed``/``denied``/``failed`` matching the answer — denials included.
  Unauthenticated requests (no token, an expired token) leave none: there is no verified caller.

Actors: ``ga`` coordinates both households of team A; ``asg`` is assigned to the confidential one;
``ga2`` is in team A but not involved; ``tla`` leads team A (not involved); ``gb``/``tlb`` are team
B's generalist and lead; then a partner client, the BI analyst, a resident, an administrator, the
privacy officer, an anonymous caller and an expired token of ``ga``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import World
from tests.households.support import access_rows, add_worker, expired_token, household_body, worker_id

CASE_ACTORS = ("ga", "asg", "ga2", "tla", "gb", "tlb")
OTHER_ACTORS = ("partner", "analyst", "resident", "admin", "privacy", "anonymous", "expired")
ACTOR_NAMES = {
    "ga": "generalist_a",
    "asg": "assigned_a",
    "ga2": "generalist_a2",
    "tla": "team_lead_a",
    "gb": "generalist_b",
    "tlb": "team_lead_b",
    "partner": "partner_a",
    "analyst": "analyst",
    "resident": "resident",
    "admin": "admin",
    "privacy": "privacy_officer",
}
# Callers without any case scope: the scope check refuses them before any object is looked at.
OTHERS_EXPECT = {a: 403 for a in OTHER_ACTORS} | {"anonymous": 401, "expired": 401}

# endpoint: expected "open/confidential" per case actor, in CASE_ACTORS order.
OBJECT_MATRIX = """
household.read      200/200  200/200  200/404  200/404  404/404  404/404
household.update    200/200  200/200  200/404  200/404  404/404  404/404
members.list        200/200  200/200  200/404  200/404  404/404  404/404
members.create      201/201  201/201  201/404  201/404  404/404  404/404
member.read         200/200  200/200  200/404  200/404  404/404  404/404
member.update       200/200  200/200  200/404  200/404  404/404  404/404
member.delete       204/204  204/204  204/404  204/404  404/404  404/404
contacts.list       200/200  200/200  200/404  200/404  404/404  404/404
contacts.create     201/201  201/201  201/404  201/404  404/404  404/404
assignments.list    200/200  200/200  200/404  200/404  404/404  404/404
assignments.create  403/403  403/403  403/403  201/201  403/403  404/404
assignments.delete  403/403  403/403  403/403  204/204  403/403  404/404
coordinator.put     403/403  403/403  403/403  200/200  403/403  404/404
break_glass         409/409  409/409  409/201  409/201  404/404  404/404
access_log          200/200  200/200  200/404  200/404  404/404  404/404
"""


def _object_rows() -> list[tuple[str, str, str, int]]:
    rows = []
    for line in OBJECT_MATRIX.strip().splitlines():
        endpoint, *cells = line.split()
        for actor, cell in zip(CASE_ACTORS, cells, strict=True):
            open_status, conf_status = cell.split("/")
            rows.append((endpoint, actor, "open", int(open_status)))
            rows.append((endpoint, actor, "conf", int(conf_status)))
            # A missing household: 404 for whoever holds the route's scope, else the same 403.
            rows.append((endpoint, actor, "missing", 403 if int(open_status) == 403 else 404))
        for actor, status in OTHERS_EXPECT.items():
            rows.extend((endpoint, actor, target, status) for target in ("open", "conf", "missing"))
    return rows


@dataclass
class Scene:
    world: World
    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    subjects: dict[str, str]
    households: dict[str, dict[str, Any]]  # endpoint -> {"open": household, "conf": household}

    async def call(self, actor: str, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, str]:
        request_id = uuid.uuid4().hex
        headers = {**self.headers[actor], "X-Request-ID": request_id, **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        return response, request_id

    async def as_ga(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response, _ = await self.call("ga", method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response


@pytest.fixture(scope="module")
async def scene(app: FastAPI, shared_world: World) -> Scene:
    world = shared_world
    await add_worker(world, "assigned_a")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://test")
    headers: dict[str, dict[str, str]] = {}
    for short, name in ACTOR_NAMES.items():
        headers[short] = await world.headers(name)
    headers["anonymous"] = {}
    headers["expired"] = {"Authorization": f"Bearer {await expired_token(world)}"}
    subjects = {short: _subject(world, name) for short, name in ACTOR_NAMES.items()}
    return Scene(world, client, headers, subjects, {})


def _subject(world: World, name: str) -> str:
    if name in world.people:
        return str(world.people[name].user.id)
    return world.clients[name].client_id


async def _households(scene: Scene, endpoint: str) -> dict[str, Any]:
    """Fresh households per endpoint, so one endpoint's writes never change another's answers."""
    if endpoint not in scene.households:
        made: dict[str, Any] = {}
        number = None
        for target, confidential in (("open", False), ("conf", True)):
            body = household_body(
                scene.world, confidential=confidential, members=[{"given_name": "Lid", "role": "parent"}]
            )
            body["house_number"] = number = number or body["house_number"]  # one address: search finds both
            made[target] = (await scene.as_ga("POST", "/api/v1/households", json=body)).json()
        conf = made["conf"]["id"]
        assignment = {"worker_id": str(worker_id(scene.world, "assigned_a"))}
        response, _ = await scene.call(
            "tla", "POST", f"/api/v1/households/{conf}/assignments", json=assignment
        )
        assert response.status_code == 201, response.text
        scene.households[endpoint] = made
    return scene.households[endpoint]


Request = tuple[str, str, dict[str, Any]]  # method, path, request kwargs
Prepare = Callable[[Scene, str, dict[str, Any] | None], Awaitable[Request]]


async def _etag_of(scene: Scene, path: str, household: dict[str, Any] | None) -> dict[str, str]:
    if household is None:  # a missing household: any syntactically fine tag
        return {"If-Match": f'"{uuid.uuid4()}.1"'}
    return {"If-Match": (await scene.as_ga("GET", path)).headers["etag"]}


def _hid(household: dict[str, Any] | None) -> str:
    return household["id"] if household else str(uuid.uuid4())


def _member(household: dict[str, Any] | None) -> str:
    return household["members"][0]["id"] if household else str(uuid.uuid4())


async def _fresh_member(scene: Scene, household: dict[str, Any] | None) -> tuple[str, dict[str, str]]:
    if household is None:
        return str(uuid.uuid4()), {"If-Match": f'"{uuid.uuid4()}.1"'}
    created = await scene.as_ga(
        "POST",
        f"/api/v1/households/{household['id']}/members",
        json={"given_name": "Tijdelijk", "role": "other"},
    )
    return created.json()["id"], {"If-Match": created.headers["etag"]}


def _simple(method: str, suffix: str, body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        return method, f"/api/v1/households/{_hid(household)}{suffix}", kwargs

    return prepare


async def _household_update(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
    path = f"/api/v1/households/{_hid(household)}"
    return "PATCH", path, {"json": {"themes": ["debts"]}, "headers": await _etag_of(scene, path, household)}


async def _member_read(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
    return "GET", f"/api/v1/households/{_hid(household)}/members/{_member(household)}", {}


async def _member_update(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
    path = f"/api/v1/households/{_hid(household)}/members/{_member(household)}"
    return (
        "PATCH",
        path,
        {"json": {"family_name": "Jansen"}, "headers": await _etag_of(scene, path, household)},
    )


async def _member_delete(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
    member, if_match = await _fresh_member(scene, household)
    return "DELETE", f"/api/v1/households/{_hid(household)}/members/{member}", {"headers": if_match}


async def _assignment_delete(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
    """The lead (re)assigns someone first, so there is always an assignment to remove."""
    confidential = household is not None and household["confidential"]
    worker = str(worker_id(scene.world, "assigned_a" if confidential else "generalist_a2"))
    path = f"/api/v1/households/{_hid(household)}"
    if household is not None:
        response, _ = await scene.call("tla", "POST", f"{path}/assignments", json={"worker_id": worker})
        assert response.status_code == 201, response.text
    return "DELETE", f"{path}/assignments/{worker}", {"headers": await _etag_of(scene, path, household)}


async def _assignment_create(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
    """Assign the coordinator: a valid request that changes nobody's access."""
    body = {"worker_id": str(worker_id(scene.world, "generalist_a"))}
    return "POST", f"/api/v1/households/{_hid(household)}/assignments", {"json": body}


async def _coordinator(scene: Scene, actor: str, household: dict[str, Any] | None) -> Request:
    path = f"/api/v1/households/{_hid(household)}"
    body = {"coordinator_id": str(worker_id(scene.world, "generalist_a"))}
    return "PUT", f"{path}/coordinator", {"json": body, "headers": await _etag_of(scene, path, household)}


PREPARE: dict[str, Prepare] = {
    "household.read": _simple("GET", ""),
    "household.update": _household_update,
    "members.list": _simple("GET", "/members"),
    "members.create": _simple("POST", "/members", {"given_name": "Nieuw", "role": "child"}),
    "member.read": _member_read,
    "member.update": _member_update,
    "member.delete": _member_delete,
    "contacts.list": _simple("GET", "/contacts"),
    "contacts.create": _simple("POST", "/contacts", {"kind": "phone", "occurred_at": "2026-01-01T10:00:00Z"}),
    "assignments.list": _simple("GET", "/assignments"),
    "assignments.create": _assignment_create,
    "assignments.delete": _assignment_delete,
    "coordinator.put": _coordinator,
    "break_glass": _simple("POST", "/break-glass", {"reason": "Spoed: melding van de huisarts"}),
    "access_log": _simple("GET", "/access-log"),
}


def _normalised(response: httpx.Response) -> dict[str, Any]:
    body = dict(response.json())
    body.pop("instance", None)
    body.pop("request_id", None)
    return body


async def _assert_one_log_row(
    scene: Scene, actor: str, request_id: str, status: int, household_id: str | None
) -> None:
    rows = await access_rows(scene.world, request_id=request_id)
    if actor in ("anonymous", "expired"):
        assert rows == [], rows
        return
    assert len(rows) == 1, (actor, status, rows)
    row = rows[0]
    expected_outcome = "allowed" if status < 300 else "denied" if status in (403, 404) else "failed"
    assert row["outcome"] == expected_outcome, (actor, status, row)
    assert row["actor_subject"] == scene.subjects[actor]
    assert row["actor_role"] and row["client_id"] and row["resource"] and row["action"] and row["purpose"]
    assert row["occurred_at"] is not None
    if household_id is not None:
        assert str(row["household_id"]) == household_id, row


@pytest.mark.parametrize(("endpoint", "actor", "target", "expected"), _object_rows())
async def test_object_routes(scene: Scene, endpoint: str, actor: str, target: str, expected: int) -> None:
    households = await _households(scene, endpoint)
    household = households[target] if target != "missing" else None
    method, path, kwargs = await PREPARE[endpoint](scene, actor, household)
    response, request_id = await scene.call(actor, method, path, **kwargs)
    assert response.status_code == expected, (endpoint, actor, target, response.text)
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if expected in (403, 404) and target != "missing":
        # Forbidden looks like missing: the same request against a household that does not exist.
        method, missing_path, missing_kwargs = await PREPARE[endpoint](scene, actor, None)
        twin, twin_id = await scene.call(actor, method, missing_path, **missing_kwargs)
        assert twin.status_code == expected
        assert _normalised(twin) == _normalised(response)
        await _assert_one_log_row(scene, actor, twin_id, twin.status_code, None)
    household_id = path.split("/")[4] if actor not in ("anonymous", "expired") else None
    await _assert_one_log_row(scene, actor, request_id, response.status_code, household_id)


# -- routes without a household in the path ------------------------------------------------------

COLLECTION_MATRIX = {
    # endpoint: expected status per case actor (CASE_ACTORS order); others per OTHERS_EXPECT
    "households.list": (200, 200, 200, 200, 200, 200),
    "households.search": (200, 200, 200, 200, 200, 200),
    "households.create": (201, 201, 201, 201, 422, 422),
    "sync": (200, 200, 200, 200, 200, 200),
    "audit.list": (403, 403, 403, 403, 403, 403),
    "audit.break_glass": (403, 403, 403, 403, 403, 403),
    "audit.subject_access": (403, 403, 403, 403, 403, 403),
}
PRIVACY_OFFICER_OK = {"audit.list": 200, "audit.break_glass": 200, "audit.subject_access": 200}
# Which of the two households each case actor finds in lists, searches and its sync.
SEES = {
    "ga": {"open", "conf"},
    "asg": {"open", "conf"},
    "ga2": {"open"},
    "tla": {"open"},
    "gb": set(),
    "tlb": set(),
}


def _collection_rows() -> list[tuple[str, str, int]]:
    rows = []
    for endpoint, statuses in COLLECTION_MATRIX.items():
        rows += [(endpoint, actor, status) for actor, status in zip(CASE_ACTORS, statuses, strict=True)]
        for actor, status in OTHERS_EXPECT.items():
            if actor == "privacy" and endpoint in PRIVACY_OFFICER_OK:
                status = PRIVACY_OFFICER_OK[endpoint]
            rows.append((endpoint, actor, status))
    return rows


def _collection_request(scene: Scene, endpoint: str, households: dict[str, Any]) -> Request:
    open_household = households["open"]
    return {
        "households.list": ("GET", "/api/v1/households", {"params": {"limit": 100}}),
        "households.search": (
            "POST",
            "/api/v1/households/search",
            {"json": {"postcode": "1234AB", "house_number": open_household["house_number"]}},
        ),
        "households.create": ("POST", "/api/v1/households", {"json": household_body(scene.world)}),
        "sync": ("GET", "/api/v1/sync", {"params": {"limit": 100}}),
        "audit.list": ("GET", "/api/v1/audit", {"params": {"household": open_household["id"]}}),
        "audit.break_glass": ("GET", "/api/v1/audit/break-glass", {}),
        "audit.subject_access": (
            "POST",
            "/api/v1/audit/subject-access",
            {"json": {"member_id": open_household["members"][0]["id"]}},
        ),
    }[endpoint]


def _found(endpoint: str, body: Any) -> set[str]:
    if endpoint == "households.list":
        return {h["id"] for h in body["items"]}
    if endpoint == "households.search":
        return {h["id"] for h in body}
    return {u["id"] for u in body["upserts"] if u["entity"] == "household"}


@pytest.mark.parametrize(("endpoint", "actor", "expected"), _collection_rows())
async def test_collection_routes(scene: Scene, endpoint: str, actor: str, expected: int) -> None:
    households = await _households(scene, "collections")
    method, path, kwargs = _collection_request(scene, endpoint, households)
    response, request_id = await scene.call(actor, method, path, **kwargs)
    assert response.status_code == expected, (endpoint, actor, response.text)
    if endpoint in ("households.list", "households.search", "sync") and expected == 200:
        ids = {target: h["id"] for target, h in households.items()}
        shown = _found(endpoint, response.json())
        assert shown & set(ids.values()) == {ids[t] for t in SEES[actor]}, (endpoint, actor)
        # An answer that shows households is in the log of each one it shows (one row each).
        await _assert_log_rows_per_household(scene, actor, request_id, shown)
        return
    await _assert_one_log_row(scene, actor, request_id, response.status_code, None)


async def _assert_log_rows_per_household(scene: Scene, actor: str, request_id: str, shown: set[str]) -> None:
    rows = await access_rows(scene.world, request_id=request_id)
    if not shown:
        await _assert_one_log_row(scene, actor, request_id, 200, None)
        return
    assert sorted(str(r["household_id"]) for r in rows) == sorted(shown), (actor, rows)
    assert {r["outcome"] for r in rows} == {"allowed"}
    assert {r["actor_subject"] for r in rows} == {scene.subjects[actor]}
