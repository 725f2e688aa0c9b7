"""What GraphQL errors write to the log (issue 11, item 1): a client's mistake is one INFO line with
the kind of error and the operation's name; an error of ours is an ERROR line with the exception's
type and frames, never its message, while the client reads "Unexpected error."."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.domain.initiatives import service
from app.graphql.errors import MASKED_MESSAGE
from tests.initiatives.factories import Networks
from tests.ops.logs import Logs, captured_logs


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    with captured_logs(capsys) as captured:
        yield captured


def graphql_lines(logs: Logs) -> list[dict[str, Any]]:
    return [line for line in logs.lines() if line["logger"] != "wijkwerk.access"]


DEEP = "initiatives(first: 1) { network { " * 5
CLIENT_MISTAKES: dict[str, tuple[str, dict[str, Any]]] = {
    # Over the token limit, 7 kB: the line stays short all the same.
    "syntax": ("query Long { themes { " + "code " * 1500 + '} neighbourhood(code: "BU0', {}),
    "validation": ("query Unknown { themes { code secretField } }", {}),
    "limit": ('query Deep { neighbourhood(code: "BU00000000") { ' + DEEP + "name" + " } }" * 5 + " } }", {}),
    "bad_user_input": ("query Page { neighbourhoods(first: -5) { code } }", {}),
    "unauthenticated": (
        'mutation Edit($id: ID!) { updateInitiative(id: $id, expectedVersion: 1, input: {title: "x"}) '
        "{ __typename } }",
        {"id": "00000000-0000-0000-0000-000000000000"},
    ),
}


@pytest.mark.parametrize("kind", sorted(CLIENT_MISTAKES))
async def test_a_client_mistake_is_one_short_info_line(
    client: httpx.AsyncClient, networks: Networks, logs: Logs, kind: str
) -> None:
    query, variables = CLIENT_MISTAKES[kind]
    body = await networks.gql(client, "anonymous", query, **variables)
    assert body["errors"]
    [line] = graphql_lines(logs)
    assert line["level"] == "INFO" and line["logger"] == "app.graphql"
    assert line["message"] == "graphql client error"
    assert line["error_class"] == [kind]
    expected_operation = None if kind == "syntax" else query.split()[1].split("(")[0]
    assert line["operation"] == expected_operation
    assert set(line) == {"time", "level", "logger", "message", "request_id", "operation", "error_class"}
    assert len(str(line)) < 300


async def test_a_coercion_mistake_is_the_clients_not_an_unexpected_error(
    client: httpx.AsyncClient, networks: Networks, logs: Logs
) -> None:
    """An invalid date or id in a variable is the client's mistake: answered as such, logged as such."""
    query = "mutation($input: ProposeInitiativeInput!) { proposeInitiative(input: $input) { __typename } }"
    proposal = {
        "networkId": str(networks.a),
        "buurt": networks.buurt_a,
        "title": "Buurtmoestuin",
        "summary": "Samen tuinieren.",
        "initiator": {"name": "Ans"},
        "startsOn": "the first of May",
    }
    body = await networks.gql(client, "resident", query, input=proposal)
    assert body["data"] is None
    assert body["errors"][0]["message"] != MASKED_MESSAGE and "Date" in body["errors"][0]["message"]
    assert {line["level"] for line in graphql_lines(logs)} == {"INFO"}


async def test_an_error_of_ours_logs_its_type_and_frames_not_its_message(
    client: httpx.AsyncClient, networks: Networks, logs: Logs, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> Any:
        raise RuntimeError("BSN 123456782 of Jan Jansen")

    monkeypatch.setattr(service, "themes", broken)
    body = await networks.gql(client, "anonymous", "query Themes { themes { code } }")
    assert [e["message"] for e in body["errors"]] == [MASKED_MESSAGE]
    [line] = graphql_lines(logs)
    assert line["level"] == "ERROR" and line["message"] == "graphql field failed"
    assert line["operation"] == "Themes" and line["error_type"] == "RuntimeError"
    assert line["exception"]["type"] == "builtins.RuntimeError"
    assert any("broken" in frame for frame in line["exception"]["frames"])
    assert "123456782" not in str(line) and "Jansen" not in str(line)
