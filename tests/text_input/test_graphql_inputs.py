"""GraphQL input objects follow the same rule as REST: they are the same pydantic models."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.initiatives.factories import YEAR, Networks

PROPOSE = """mutation($input: ProposeInitiativeInput!) { proposeInitiative(input: $input) {
  __typename
  ... on Initiative { title summary }
  ... on InvalidInputProblem { fields { path rule message } }
} }"""
ADD_MEMBER = """mutation($network: ID!, $input: AddMemberInput!) {
  addNetworkMember(networkId: $network, input: $input) {
    __typename
    ... on InvalidInputProblem { fields { path rule } }
  }
}"""


def _proposal(networks: Networks, **overrides: Any) -> dict[str, Any]:
    return {
        "networkId": str(networks.a),
        "buurt": networks.buurt_a,
        "title": "Financieel café",
        "summary": "Monthly coffee morning.",
        "themes": ["debts"],
        "initiator": {"name": "Fatima El Amrani"},
        "startsOn": f"{YEAR}-09-01",
        **overrides,
    }


async def test_control_characters_refuse_the_request_naming_each_variable(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    """Characters no text may hold refuse the whole request before execution (nothing is written),
    each error naming the variable's path and the rule, never the value."""
    bad = _proposal(networks, title="Financieel\x00café", summary="Koffie\x07ochtend", themes=["de\x1bbts"])
    response = await client.post(
        "/graphql",
        json={"query": PROPOSE, "variables": {"input": bad}},
        headers=await networks.world.headers("resident"),
    )
    answer = response.json()
    assert answer.get("data") is None
    assert {(e["extensions"]["argument"], e["extensions"]["rule"]) for e in answer["errors"]} == {
        ("$input.title", "control_character"),
        ("$input.summary", "control_character"),
        ("$input.themes[0]", "control_character"),
    }
    for character in ("\x00", "\x07", "\x1b"):
        assert character not in response.text and json.dumps(character)[1:-1] not in response.text

    member = {"displayName": "Jan\x00Jansen", "isResident": True}
    added = await networks.gql(
        client, "network_coordinator", ADD_MEMBER, network=str(networks.a), input=member
    )
    assert [e["extensions"]["argument"] for e in added["errors"]] == ["$input.displayName"]


async def test_a_one_line_field_refuses_a_tab_naming_the_field(
    client: httpx.AsyncClient, networks: Networks
) -> None:
    """A tab may stand in a note but not in a name: the field's own type says so, as a problem."""
    bad = _proposal(networks, initiator={"name": "Fatima\tEl Amrani"})
    answer = await networks.gql(client, "resident", PROPOSE, input=bad)
    result = answer["data"]["proposeInitiative"]
    assert result["__typename"] == "InvalidInputProblem"
    assert [(f["path"], f["rule"]) for f in result["fields"]] == [
        (["input", "initiator", "name"], "control_character")
    ]


async def test_a_summary_keeps_its_line_breaks(client: httpx.AsyncClient, networks: Networks) -> None:
    summary = "Elke maand:\n\t- koffie\r\n\t- hulp bij brieven"
    answer = await networks.gql(client, "resident", PROPOSE, input=_proposal(networks, summary=summary))
    assert answer["data"]["proposeInitiative"] == {
        "__typename": "Initiative",
        "title": "Financieel café",
        "summary": summary,
    }
