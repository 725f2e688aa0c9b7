"""Every case write in as few round trips as its rules allow (households.case_write), answering as
it always did.

* One statement, without BEGIN/COMMIT, for each write of the common path: network people,
  assessments, consents, plan fields, the agreement, goals and actions (a changed action reads itself
  first: two). A removal that others must hear of (a network person) and a withdrawal whose handlers
  run with it (a consent) take one transaction.
* The refusals keep their order, now that the database's checks run inside the write: a caller who
  may not see the household gets 404 whatever the body says, a closed file 409 before a broken rule,
  and each context's own order of If-Match and closed file.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col

from app.db import Database
from app.domain.consents.rules import local_today
from app.domain.households.models import HouseholdStatus
from app.domain.unit_of_work.access_log import AccessLogEntry
from tests.casework.api import CaseApi, etag
from tests.casework.conftest import Cases
from tests.factories import World
from tests.support.statements import Statements, counting_statements

WRITER = "generalist_a"
OTHER_TEAM = "generalist_b"


@pytest.fixture
async def cases(world: World) -> Cases:
    """Team A's open household "a" and closed "closed", team B's "b" (each with two members)."""
    built = Cases(world)
    await built.add("a")
    await built.add("closed", status=HouseholdStatus.closed)
    await built.add("b", team="b")
    return built


@pytest.fixture
def api(client: httpx.AsyncClient, cases: Cases) -> CaseApi:
    return CaseApi(client, cases)


class Writer:
    """Sends case writes as one caller and counts what each sent to PostgreSQL."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, Any], db: Database) -> None:
        self.client, self.headers, self.db = client, headers, db
        self.sent: Statements = Statements()

    async def send(self, method: str, url: str, body: Any = None, tag: str | None = None) -> httpx.Response:
        headers = {**self.headers, **({"If-Match": tag} if tag else {})}
        with counting_statements(self.db) as sent:
            response = await self.client.request(method, url, headers=headers, json=body)
        self.sent = sent
        return response

    def one_statement(self) -> bool:
        """One statement on its own: no BEGIN, no COMMIT, no pool ping."""
        return len(self.sent.all) == 1 and len(self.sent) == 1

    def in_one_transaction(self) -> int:
        """The statements of one transaction, BEGIN and COMMIT around them: how many."""
        assert self.sent.all[0].upper().startswith("BEGIN"), self.sent.all
        assert self.sent.all[-1].upper().rstrip(";") == "COMMIT", self.sent.all
        assert len(self.sent.all) == len(self.sent) + 2, self.sent.all
        return len(self.sent)


async def _writer(client: httpx.AsyncClient, cases: Cases, actor: str = WRITER) -> Writer:
    writer = Writer(client, await cases.headers(actor), cases.world.app.state.db)
    await writer.send("GET", f"/api/v1/households/{cases.hid('a')}/overview")  # the token checked once
    return writer


async def test_each_write_is_one_statement_outside_a_transaction(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    w = await _writer(client, cases)
    base = api.base("a")

    person = await w.send("POST", f"{base}/network", {"label": "buurvrouw", "relation": "neighbour"})
    assert person.status_code == 201 and w.one_statement(), w.sent.all
    url = f"{base}/network/{person.json()['id']}"
    changed = await w.send("PATCH", url, {"engaged": True, "support_kinds": ["care"]}, etag(person.json()))
    assert changed.status_code == 200 and w.one_statement(), w.sent.all
    assert (changed.json()["version"], changed.json()["support_kinds"]) == (2, ["care"])

    scored = {"assessed_on": "2026-01-10", "scores": [{"domain": "housing", "score": 2}]}
    assessment = await w.send("POST", f"{base}/assessments", scored)
    assert assessment.status_code == 201 and w.one_statement(), w.sent.all
    url = f"{base}/assessments/{assessment.json()['id']}"
    rescored = {"scores": [{"domain": "housing", "score": 4}, {"domain": "finances", "score": 1}]}
    corrected = await w.send("PATCH", url, rescored, etag(assessment.json()))
    assert corrected.status_code == 200 and w.one_statement(), w.sent.all
    assert corrected.json()["scores"] == [
        {"domain": "finances", "score": 1},
        {"domain": "housing", "score": 4},
    ]
    noted = await w.send("PATCH", url, {"note": "Samen bekeken"}, etag(corrected.json()))
    assert noted.status_code == 200 and w.one_statement(), w.sent.all
    assert noted.json()["scores"] == corrected.json()["scores"]  # the scores it had, in domain order
    gone = await w.send("DELETE", url, tag=etag(noted.json()))
    assert gone.status_code == 204 and w.one_statement(), w.sent.all

    member = str(cases.members["a"][0].id)
    consent = {
        "member_id": member,
        "organisation_id": str(cases.world.organisations["a"].id),
        "purpose": "finances",
        "categories": ["identity"],
    }
    recorded = await w.send("POST", f"{base}/consents", consent)
    assert recorded.status_code == 201 and w.one_statement(), w.sent.all
    assert recorded.json()["in_force"] is True and recorded.json()["valid_from"] == local_today().isoformat()

    plan = await api.plan("a")
    plan_url = f"{base}/plans/{plan['id']}"
    goal = await w.send("POST", f"{plan_url}/goals", {"domain": "housing", "target_score": 4})
    assert goal.status_code == 201 and w.one_statement(), w.sent.all
    goal_url = f"{plan_url}/goals/{goal.json()['id']}"
    goal_changed = await w.send("PATCH", goal_url, {"target_score": 5}, etag(goal.json()))
    assert goal_changed.status_code == 200 and w.one_statement(), w.sent.all
    action = await w.send(
        "POST", f"{plan_url}/actions", {"description": "Bellen", "performer_kind": "household"}
    )
    assert action.status_code == 201 and w.one_statement(), w.sent.all
    action_url = f"{plan_url}/actions/{action.json()['id']}"
    done = await w.send("PATCH", action_url, {"done": True}, etag(action.json()))
    assert done.status_code == 200 and done.json()["done_at"] is not None
    assert len(w.sent.all) == len(w.sent) == 2, w.sent.all  # the action as it is, then the change
    assert (await w.send("DELETE", goal_url, tag=etag(goal_changed.json()))).status_code == 204
    assert w.one_statement(), w.sent.all
    assert (await w.send("DELETE", action_url, tag=etag(done.json()))).status_code == 204
    assert w.one_statement(), w.sent.all

    current = (await client.get(f"{base}/plan", headers=w.headers)).json()
    assert current["version"] == plan["version"] + 6  # each change of its content counted it up
    summary = await w.send("PATCH", plan_url, {"summary": "Rust in de financiën"}, etag(current))
    assert summary.status_code == 200 and w.one_statement(), w.sent.all
    assert [g["id"] for g in summary.json()["goals"]] == [g["id"] for g in plan["goals"]]
    agreed = await w.send(
        "POST", f"{plan_url}/agreement", {"agreed_by_member_id": member}, etag(summary.json())
    )
    # An agreement is more than a row: it dates the first evaluation, may end the intake (burden) and
    # moves a household at intake to active (plans.agreement), so it takes the work's transaction.
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["agreed_by_member_id"] == member and agreed.json()["actions"] == plan["actions"]


async def test_writes_whose_handlers_run_with_them_take_one_transaction(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    w = await _writer(client, cases)
    person = await api.person("a")
    removed = await w.send("DELETE", f"{api.base('a')}/network/{person['id']}", tag=etag(person))
    assert removed.status_code == 204
    assert w.in_one_transaction() == 3  # the person locked, what the plans say, the removal
    consent = await _consent(api, cases)
    withdrawn = await w.send("POST", f"{api.base('a')}/consents/{consent['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["in_force"] is False
    assert w.in_one_transaction() == 2  # the withdrawal, the deliveries resting on it cancelled


async def _consent(api: CaseApi, cases: Cases, key: str = "a", **fields: Any) -> dict[str, Any]:
    body = {
        "member_id": str(cases.members[key][0].id),
        "organisation_id": str(cases.world.organisations["a"].id),
        "purpose": "finances",
        "categories": ["identity"],
        **fields,
    }
    response = await api.client.post(
        f"{api.base(key)}/consents", json=body, headers=await cases.headers(WRITER)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _outcomes(cases: Cases, key: str, resource: str) -> list[tuple[str, str]]:
    async with cases.world.app.state.db.transaction() as session:
        rows = await session.execute(
            sa.select(col(AccessLogEntry.action), col(AccessLogEntry.outcome))
            .where(
                col(AccessLogEntry.household_id) == cases.hid(key), col(AccessLogEntry.resource) == resource
            )
            .order_by(col(AccessLogEntry.occurred_at), col(AccessLogEntry.id))
        )
    return [(action, outcome) for action, outcome in rows]


async def test_a_caller_who_may_not_see_the_household_learns_nothing_from_the_body(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    """The database's checks run after the access check: another team posting nonsense gets the 404
    of a missing household, and the attempt is logged as denied."""
    stranger = await cases.headers(OTHER_TEAM)
    own_member = str(cases.members["a"][0].id)
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    nonsense = {
        "member_id": str(uuid.uuid4()),
        "assessed_on": tomorrow,
        "scores": [{"domain": "astrology", "score": 3}, {"domain": "astrology", "score": 2}],
    }
    hidden = await client.post(f"{api.base('a')}/assessments", headers=stranger, json=nonsense)
    missing = await client.post(
        f"/api/v1/households/{uuid.uuid4()}/assessments", headers=stranger, json=nonsense
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"]
    consent = {"member_id": own_member, "organisation_id": str(uuid.uuid4()), "purpose": "astrology"}
    refused = await client.post(
        f"{api.base('a')}/consents", headers=stranger, json={**consent, "categories": ["identity"]}
    )
    assert refused.status_code == 404
    plan = await api.plan("a")
    goal = await client.post(
        f"{api.base('a')}/plans/{plan['id']}/goals",
        headers=stranger,
        json={"domain": "astrology", "target_score": 3},
    )
    assert goal.status_code == 404 and goal.json()["detail"] == missing.json()["detail"]
    assert await _outcomes(cases, "a", "assessment") == [("create", "denied")]
    assert await _outcomes(cases, "a", "consent") == [("create", "denied")]
    assert await _outcomes(cases, "a", "plan_goal") == [("create", "denied")]


async def test_a_closed_file_answers_409_before_the_body_is_judged(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers(WRITER)
    closed = api.base("closed")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    bad_scores = {"assessed_on": tomorrow, "scores": [{"domain": "astrology", "score": 3}]}
    for url, body in (
        (f"{closed}/assessments", bad_scores),
        (f"{closed}/network", {"label": "Jan de Vries 06-12345678", "relation": "neighbour"}),
    ):
        response = await client.post(url, headers=headers, json=body)
        assert response.status_code == 409, response.text
        assert response.json()["type"].endswith("household_closed")
    # In an open file the same body is judged: each problem named.
    judged = await client.post(f"{api.base('a')}/assessments", headers=headers, json=bad_scores)
    assert judged.status_code == 422
    assert [(e["loc"], e["rule"]) for e in judged.json()["errors"]] == [
        (["body", "assessed_on"], "date_in_future"),
        (["body", "scores", 0, "domain"], "unknown_life_domain"),
    ]
    assert await _outcomes(cases, "closed", "assessment") == [("create", "failed")]
    assert await _outcomes(cases, "a", "assessment") == [("create", "failed")]


async def test_consents_are_recorded_and_withdrawn_in_a_closed_file_too(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    """Consents never asked whether the file is open (a consent is the resident's, not the case's)."""
    headers = await cases.headers(WRITER)
    consent = await _consent(api, cases, "closed", valid_from="2026-01-01", valid_until="2026-12-31")
    assert consent["valid_from"] == "2026-01-01"
    url = f"{api.base('closed')}/consents/{consent['id']}/withdraw"
    assert (await client.post(url, headers=headers)).status_code == 200
    again = await client.post(url, headers=headers)
    assert again.status_code == 409 and again.json()["type"].endswith("consent_already_withdrawn")
    unknown = await client.post(f"{api.base('closed')}/consents/{uuid.uuid4()}/withdraw", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["detail"] != again.json()["detail"]


async def test_a_consent_names_what_it_rests_on_in_order(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    body = {
        "member_id": str(cases.members["b"][0].id),  # of another household
        "organisation_id": str(uuid.uuid4()),
        "purpose": "astrology",
        "categories": ["identity"],
        "valid_until": yesterday,  # before today, where valid_from starts when none is given
    }
    response = await client.post(f"{api.base('a')}/consents", headers=await cases.headers(WRITER), json=body)
    assert response.status_code == 422
    assert [e["rule"] for e in response.json()["errors"]] == [
        "member_unknown",
        "organisation_unknown",
        "purpose_unknown",
        "period_order",
    ]


async def test_network_people_answer_the_version_before_the_closed_file(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    """The network map always checked If-Match before the file (members check the file first)."""
    headers = await cases.headers(WRITER)
    person = await api.person("a")
    url = f"{api.base('a')}/network/{person['id']}"
    async with cases.world.app.state.db.transaction() as session:
        await session.execute(
            sa.text(
                "UPDATE households SET status = 'closed', closing_reason = 'goals_reached' WHERE id = :h"
            ),
            {"h": cases.hid("a")},
        )
    stale = f'"{person["id"]}.{person["version"] + 1}"'
    assert (await client.patch(url, headers=headers, json={"engaged": True})).status_code == 428
    assert (
        await client.patch(url, headers={**headers, "If-Match": stale}, json={"label": "x@y"})
    ).status_code == 412
    closed = await client.patch(url, headers={**headers, "If-Match": etag(person)}, json={"label": "x@y"})
    assert closed.status_code == 409 and closed.json()["type"].endswith("household_closed")
    assert (await client.delete(url, headers={**headers, "If-Match": stale})).status_code == 412
    assert (await client.delete(url, headers={**headers, "If-Match": etag(person)})).status_code == 409
    assert (
        await client.delete(f"{api.base('a')}/network/{uuid.uuid4()}", headers=headers)
    ).status_code == 404
    assert await _outcomes(cases, "a", "network_person") == [
        ("create", "allowed"),
        *[("update", "failed")] * 3,
        *[("delete", "failed")] * 3,
    ]


async def test_a_null_is_answered_before_the_label_and_nothing_changes(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers(WRITER)
    person = await api.person("a")
    url = f"{api.base('a')}/network/{person['id']}"
    both = await client.patch(
        url, headers={**headers, "If-Match": etag(person)}, json={"relation": None, "label": "06-12345678"}
    )
    assert both.status_code == 422 and [e["rule"] for e in both.json()["errors"]] == ["null_not_allowed"]
    label = await client.patch(url, headers={**headers, "If-Match": etag(person)}, json={"label": "06-1234"})
    assert [e["rule"] for e in label.json()["errors"]] == ["label_not_minimal"]
    assert "06-1234" not in label.text
    assert (await client.get(url, headers=headers)).json() == person


async def test_plan_content_keeps_its_order_of_refusals(
    client: httpx.AsyncClient, cases: Cases, api: CaseApi
) -> None:
    headers = await cases.headers(WRITER)
    plan = await api.plan("a")
    base = f"{api.base('a')}/plans/{plan['id']}"
    goal = await api.goal("a", plan["id"])
    elsewhere = await client.post(
        f"{api.base('closed')}/plans/{plan['id']}/goals",
        headers=headers,
        json={"domain": "x", "target_score": 3},
    )
    assert elsewhere.status_code == 404 and "plan" in elsewhere.json()["detail"].lower()
    unknown = await client.post(
        f"{base}/goals", headers=headers, json={"domain": "astrology", "target_score": 3}
    )
    assert unknown.status_code == 422
    assert [(e["loc"], e["rule"]) for e in unknown.json()["errors"]] == [
        (["body", "domain"], "unknown_life_domain")
    ]
    parent = str(cases.members["a"][0].id)
    current = (await client.get(base, headers=headers)).json()
    agreed = await client.post(
        f"{base}/agreement",
        headers={**headers, "If-Match": etag(current)},
        json={"agreed_by_member_id": parent},
    )
    assert agreed.status_code == 200
    stale = await client.patch(
        f"{base}/goals/{goal['id']}", headers={**headers, "If-Match": '"x"'}, json={"domain": None}
    )
    assert stale.status_code == 412  # the version before the plan's rules
    agreed_first = await client.patch(
        f"{base}/goals/{goal['id']}", headers={**headers, "If-Match": etag(goal)}, json={"domain": None}
    )
    assert agreed_first.status_code == 409 and agreed_first.json()["type"].endswith("plan_agreed")
    action = plan["actions"][0]
    stranger = cases.world.people[OTHER_TEAM].worker
    assert stranger is not None
    more_than_progress = {"done": True, "performer_kind": "worker", "worker_id": str(stranger.id)}
    refused = await client.patch(
        f"{base}/actions/{action['id']}",
        headers={**headers, "If-Match": etag(action)},
        json=more_than_progress,
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("plan_agreed")
    progress = await client.patch(
        f"{base}/actions/{action['id']}", headers={**headers, "If-Match": etag(action)}, json={"done": True}
    )
    assert progress.status_code == 200 and progress.json()["done"] is True
