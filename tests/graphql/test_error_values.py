"""GraphQL never echoes a submitted value (DESIGN 4: "never echo submitted values back"): an error about
input names the variable or argument and the rule broken, and neither the answer nor any log line
(the service's JSON lines, every logging record, pytest's caplog) holds what was sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.initiatives.factories import Networks
from tests.ops.logs import Logs, captured_logs

SENTINEL = "Jansen-0612345678-secret"  # a name and a phone number: what must never come back
NAME = "Jansen"  # a GraphQL name can be echoed only as a name: it must not come back either

RECORD = "mutation Record($networkId: ID!, $input: MeetingInput!) { recordMeeting(networkId: $networkId, input: $input) { __typename } }"  # noqa: E501
PROPOSE = "mutation Propose($input: ProposeInitiativeInput!) { proposeInitiative(input: $input) { __typename ... on InvalidInputProblem { rule message fields { path rule message } } } }"  # noqa: E501
LIST = "query List($status: [InitiativeStatus!]) { initiatives(filter: {status: $status}) { __typename } }"


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    with captured_logs(capsys) as captured:
        yield captured


def meeting(networks: Networks, **fields: Any) -> dict[str, Any]:
    return {"heldOn": "2026-03-01", "presentMemberIds": [], **fields}


def proposal(networks: Networks, **fields: Any) -> dict[str, Any]:
    return {
        "networkId": str(networks.a),
        "buurt": networks.buurt_a,
        "title": "Buurtmoestuin",
        "summary": "Samen tuinieren.",
        "initiator": {"name": "Ans"},
        **fields,
    }


# kind -> (query, variables, the message's beginning (names the place), the rule)
def cases(networks: Networks) -> dict[str, tuple[str, dict[str, Any], str, str]]:
    return {
        "bad enum": (LIST, {"status": [SENTINEL]}, "Variable '$status' at [0]: must be one of", "enum"),
        "bad uuid": (
            RECORD,
            {"networkId": str(networks.a), "input": meeting(networks, presentMemberIds=[SENTINEL])},
            "Variable '$input' at .presentMemberIds[0]: must be a valid UUID",
            "scalar",
        ),
        "bad custom scalar": (
            RECORD,
            {"networkId": str(networks.a), "input": meeting(networks, heldOn=SENTINEL)},
            "Variable '$input' at .heldOn: must be a valid Date",
            "scalar",
        ),
        "wrong type in a nested input": (
            PROPOSE,
            {"input": proposal(networks, initiator={"name": {"first": SENTINEL}})},
            "Variable '$input' at .initiator.name: must be a valid String",
            "scalar",
        ),
        "unknown key in an input": (
            RECORD,
            {"networkId": str(networks.a), "input": meeting(networks, **{SENTINEL: 1})},
            "Variable '$input': holds a field that MeetingInput does not declare",
            "unknown_field",
        ),
        "bad literal in the document": (
            f'mutation Lit {{ recordMeeting(networkId: "{networks.a}", '
            f'input: {{heldOn: "{SENTINEL}", presentMemberIds: []}}) {{ __typename }} }}',
            {},
            "Mutation.recordMeeting(input.heldOn): must be a valid Date",
            "scalar",
        ),
        "bad enum literal in the document": (
            f"query EnumLit {{ initiatives(filter: {{status: [{NAME}]}}) {{ __typename }} }}",
            {},
            "Query.initiatives(filter.status): must be one of InitiativeStatus",
            "enum",
        ),
        "bad variable default": (
            f'query Default($first: Int = "{SENTINEL}") {{ neighbourhoods(first: $first) {{ code }} }}',
            {},
            "$first (its default): must be a valid Int",
            "scalar",
        ),
    }


KINDS = [
    "bad enum",
    "bad uuid",
    "bad custom scalar",
    "wrong type in a nested input",
    "unknown key in an input",
    "bad literal in the document",
    "bad enum literal in the document",
    "bad variable default",
]


def assert_nowhere(text: str, logs: Logs, caplog: pytest.LogCaptureFixture) -> None:
    for secret in (SENTINEL, NAME):
        assert secret not in text
        assert secret not in logs.text()
        assert secret not in caplog.text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("actor", ["network_coordinator", "anonymous"])
async def test_an_invalid_value_is_named_by_place_and_rule_never_echoed(
    client: httpx.AsyncClient,
    networks: Networks,
    logs: Logs,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    actor: str,
) -> None:
    caplog.set_level("DEBUG")
    query, variables, message, rule = cases(networks)[kind]
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=await networks.world.headers(actor),
    )
    assert response.status_code == 200, response.status_code
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith(message), error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["rule"] == rule
    assert_nowhere(response.text, logs, caplog)


async def test_a_syntax_error_gives_its_place_not_the_token(
    client: httpx.AsyncClient, networks: Networks, logs: Logs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    query = f'query {{ neighbourhoods(first: 1) {{ code "{SENTINEL}" }} }}'
    response = await client.post("/graphql", json={"query": query})
    [error] = response.json()["errors"]
    assert error["message"] == "Syntax Error: the document cannot be parsed at line 1, column 41."
    assert error["locations"] == [{"line": 1, "column": 41}]
    assert_nowhere(response.text, logs, caplog)


async def test_a_get_with_a_bad_variable_answers_alike(
    client: httpx.AsyncClient, networks: Networks, logs: Logs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    query, variables, message, _ = cases(networks)["bad enum"]
    response = await client.get("/graphql", params={"query": query, "variables": json.dumps(variables)})
    [error] = response.json()["errors"]
    assert error["message"].startswith(message)
    assert_nowhere(response.text, logs, caplog)


async def test_an_unknown_operation_name_is_not_echoed(
    client: httpx.AsyncClient, networks: Networks, logs: Logs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    response = await client.post(
        "/graphql", json={"query": "query Themes { themes { code } }", "operationName": SENTINEL}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "operationName" in response.json()["detail"]
    assert_nowhere(response.text, logs, caplog)


async def test_an_over_long_text_is_refused_by_rule_without_the_text(
    client: httpx.AsyncClient, networks: Networks, logs: Logs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    long_title = SENTINEL * 40
    body = await networks.gql(client, "resident", PROPOSE, input=proposal(networks, title=long_title))
    problem = body["data"]["proposeInitiative"]
    assert problem["__typename"] == "InvalidInputProblem"
    assert [(f["path"], f["rule"]) for f in problem["fields"]] == [(["input", "title"], "string_too_long")]
    assert_nowhere(str(body), logs, caplog)


async def test_an_id_the_service_cannot_parse_is_refused_without_quoting_it(
    client: httpx.AsyncClient, networks: Networks, logs: Logs, caplog: pytest.LogCaptureFixture
) -> None:
    """An ``ID`` argument reaches the service's model as text; the parser's detail quotes a character
    of it ("found `J` at 0"), the answer does not."""
    caplog.set_level("DEBUG")
    body = await networks.gql(client, "resident", PROPOSE, input=proposal(networks, networkId=SENTINEL))
    problem = body["data"]["proposeInitiative"]
    assert problem["fields"] == [
        {"path": ["input", "network_id"], "rule": "uuid_parsing", "message": "Input should be a valid UUID."}
    ]
    assert_nowhere(str(body), logs, caplog)
