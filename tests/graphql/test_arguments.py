"""Arguments are checked before anything runs: page sizes (every list field's ``first``) and text
without control characters, inline and as variables; bad bodies are problems; an anonymous caller is
told that a token is needed (issue 11, items 4, 6 and 14)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import GraphQLInterfaceType, GraphQLObjectType, build_schema
from sqlalchemy import event

from app.graphql.arguments import PAGE_SIZE
from tests.initiatives.factories import Networks

# Every page-size argument, with its field's maximum and a query reaching it ($n is the page size).
PAGE_ARGUMENTS: dict[str, tuple[int, str]] = {
    "Query.neighbourhoods(first)": (1000, "query($n: Int!) { neighbourhoods(first: $n) { code } }"),
    "Query.initiatives(first)": (500, "query($n: Int!) { initiatives(first: $n) { nodes { id } } }"),
    "Query.networks(first)": (500, "query($n: Int!) { networks(first: $n) { id } }"),
    "Query.directoryServices(first)": (
        100,
        "query($n: Int!) { directoryServices(first: $n) { nodes { id } } }",
    ),
    "Neighbourhood.initiatives(first)": (
        500,
        "query($n: Int!, $b: String!) { neighbourhood(code: $b) { initiatives(first: $n) { id } } }",
    ),
    "Network.initiatives(first)": (
        500,
        "query($n: Int!, $id: ID!) { network(id: $id) { initiatives(first: $n) { id } } }",
    ),
    "Neighbourhood.topThemes(first)": (
        50,
        'query($n: Int!, $b: String!) { neighbourhood(code: $b) { topThemes(period: "2024", first: $n) '
        "{ count { value } } } }",
    ),
    "Neighbourhood.topThemes(initiativesFirst)": (
        100,
        'query($n: Int!, $b: String!) { neighbourhood(code: $b) { topThemes(period: "2024", '
        "initiativesFirst: $n) { count { value } } } }",
    ),
}


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def inline(query: str, value: int) -> str:
    """The same query with the page size typed into the document instead of passed as $n."""
    return query.replace("$n: Int!, ", "").replace("($n: Int!)", "").replace("$n", str(value))


def test_every_page_argument_declares_its_bounds(app: FastAPI) -> None:
    schema = app.state.graphql_schema
    served = build_schema(schema.as_str())
    names = schema.config.name_converter
    found = {}
    for name, graphql_type in served.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in graphql_type.fields.items():
            for argument in field.args:
                if argument == "first" or argument.endswith("First"):
                    definition = schema.get_field_for_type(field_name, name)
                    [declared] = [a for a in definition.arguments if names.from_argument(a) == argument]
                    found[f"{name}.{field_name}({argument})"] = declared.metadata.get(PAGE_SIZE)
    assert found == {at: maximum for at, (maximum, _) in PAGE_ARGUMENTS.items()}


@pytest.mark.parametrize("at", sorted(PAGE_ARGUMENTS))
async def test_page_sizes_out_of_bounds_are_refused_before_any_sql(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks, at: str
) -> None:
    maximum, query = PAGE_ARGUMENTS[at]
    place = {"b": networks.buurt_a, "id": str(networks.a)}
    used = {k: v for k, v in place.items() if f"${k}" in query}
    for size in (1, maximum):
        for document, variables in ((query, {"n": size}), (inline(query, size), {})):
            body = await networks.gql(client, "resident", document, **used, **variables)
            assert "errors" not in body, (size, body)
    for size in (-5, 0, maximum + 1):
        for document, variables in ((query, {"n": size}), (inline(query, size), {})):
            with statements(app) as seen:
                body = await networks.gql(client, "resident", document, **used, **variables)
            assert body["data"] is None, (size, body)
            [error] = body["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            assert error["extensions"]["rule"] == "page_size"
            assert error["extensions"]["argument"].startswith(at)
            assert error["message"].startswith(at) and f"from 1 to {maximum}" in error["message"]
            assert seen == [], "SQL ran for a refused page size"


async def test_a_variable_default_out_of_bounds_is_refused(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    query = "query($n: Int = -5) { neighbourhoods(first: $n) { code } }"
    body = await networks.gql(client, "anonymous", query)
    assert body["data"] is None and body["errors"][0]["extensions"]["rule"] == "page_size"
    assert (await networks.gql(client, "anonymous", query, n=3))["data"]["neighbourhoods"] is not None


# Text arguments the black-box run answered with "Unexpected error." for a NUL: as a variable, and
# typed into the document (VALUE stands for the string literal).
TEXT_ARGUMENTS = [
    (
        "Query.neighbourhood(code)",
        "query($v: String!) { neighbourhood(code: $v) { name } }",
        "{ neighbourhood(code: VALUE) { name } }",
    ),
    (
        "Query.initiatives(filter.theme)",
        "query($v: String) { initiatives(filter: {theme: $v}) { nodes { id } } }",
        "{ initiatives(filter: {theme: VALUE}) { nodes { id } } }",
    ),
    (
        "Neighbourhood.initiatives(theme)",
        "query($v: String, $b: String!) { neighbourhood(code: $b) { initiatives(theme: $v) { id } } }",
        "query($b: String!) { neighbourhood(code: $b) { initiatives(theme: VALUE) { id } } }",
    ),
    (
        "Query.networks(municipality)",
        "query($v: String) { networks(municipality: $v) { id } }",
        "{ networks(municipality: VALUE) { id } }",
    ),
]


@pytest.mark.parametrize("control", ["\u0000", "\u0007", "\u001b", "\u007f"])
@pytest.mark.parametrize(("at", "query", "typed_in"), TEXT_ARGUMENTS)
async def test_control_characters_in_text_arguments_are_a_validation_problem(
    app: FastAPI,
    client: httpx.AsyncClient,
    networks: Networks,
    at: str,
    query: str,
    typed_in: str,
    control: str,
) -> None:
    value = f"BU0{control}0000001"
    literal = typed_in.replace("VALUE", json.dumps(value))  # JSON's string escapes are GraphQL's
    extra = {"b": networks.buurt_a} if "$b" in query else {}
    await networks.gql(client, "resident", "{ themes { code } }")  # the token's signing keys are cached
    for document, variables, named in ((query, {"v": value}, "$v"), (literal, {}, at)):
        with statements(app) as seen:
            body = await networks.gql(client, "resident", document, **variables, **extra)
        assert body["data"] is None, body
        [error] = body["errors"]
        assert error["message"] != "Unexpected error."
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "rule": "control_character",
            "argument": named,
        }
        assert error["message"].startswith(named) and "control characters" in error["message"]
        assert control not in error["message"]
        assert seen == []
    # Tabs and line breaks are text.
    assert "errors" not in await networks.gql(client, "resident", query, v="BU0\t\n\r1", **extra)


PROPOSE = "mutation($input: ProposeInitiativeInput!) { proposeInitiative(input: $input) { __typename } }"


async def test_control_characters_in_a_mutation_input_name_the_field_and_change_nothing(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    proposal = {
        "networkId": str(networks.a),
        "buurt": networks.buurt_a,
        "title": "Financieel\u0000 café",
        "summary": "Monthly coffee morning.",
        "initiator": {"name": "Ans\u0007", "email": "ans@example.org"},
    }
    body = await networks.gql(client, "resident", PROPOSE, input=proposal)
    assert body["data"] is None
    assert sorted(e["extensions"]["argument"] for e in body["errors"]) == [
        "$input.initiator.name",
        "$input.title",
    ]
    typed_in = (
        'mutation { proposeInitiative(input: {networkId: "NETWORK", buurt: "BUURT", '
        'title: "Financieel\\u0000 café", summary: "x", initiator: {name: "Ans"}}) { __typename } }'
    )
    typed_in = typed_in.replace("NETWORK", str(networks.a)).replace("BUURT", networks.buurt_a)
    body = await networks.gql(client, "resident", typed_in)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["argument"] == "Mutation.proposeInitiative(input.title)"
    mine = "query($id: ID!) { network(id: $id) { initiatives(status: [IDEA]) { id } } }"
    assert (await networks.gql(client, "resident", mine, id=str(networks.a)))["data"]["network"][
        "initiatives"
    ] == []


@pytest.mark.parametrize(
    "body",
    [b'{"query": "{ themes { code } ', b"not json at all", b'"a JSON string"', b"42", b"null"],
)
async def test_a_malformed_body_is_a_problem(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert problem["type"].startswith("urn:wijkwerk:problem:") and problem["detail"]
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "themes" not in response.text


async def test_requests_graphql_cannot_take_are_problems_too(client: httpx.AsyncClient) -> None:
    for body in (
        {"nope": 1},
        [{"query": "{ themes { code } }"}] * 2,
        {"query": "{ themes { code } }", "variables": 3},
    ):
        response = await client.post("/graphql", json=body)
        assert response.status_code == 400, body
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["x-request-id"]


UPDATE = """mutation($id: ID!, $input: UpdateInitiativeInput!) {
  updateInitiative(id: $id, expectedVersion: 1, input: $input) { __typename } }"""


async def test_an_anonymous_caller_is_told_to_send_a_token(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    [initiative] = await networks.initiatives("a", 1, status="idea")
    anonymous = await networks.gql(client, "anonymous", UPDATE, id=str(initiative), input={"title": "Mine"})
    [error] = anonymous["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "token" in error["message"] and "scope" not in error["message"]
    # With a token that lacks the scope, the answer is about the scope.
    analyst = await networks.gql(client, "analyst", UPDATE, id=str(initiative), input={"title": "Mine"})
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert analyst["errors"][0]["message"] == "The access token lacks a scope this field needs."
