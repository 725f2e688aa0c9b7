"""GraphQL documents (and their inputs) that more than one test module sends."""

from __future__ import annotations

from typing import Any

from tests.initiatives.factories import YEAR, Networks

# -- initiatives -------------------------------------------------------------------------------------

RESULT = """
  __typename
  ... on Initiative { id status version requestedAmountCents grantedAmountCents year initiator { name }
                      participantsReached report grant { decision amountCents reason } }
  ... on Problem { rule message }
  ... on InvalidInputProblem { fields { path rule message } }
"""

PROPOSE = (
    """mutation($input: ProposeInitiativeInput!) { proposeInitiative(input: $input) { """
    + RESULT
    + """ } }"""
)
UPDATE = (
    """mutation($id: ID!, $v: Int!, $input: UpdateInitiativeInput!) {
  updateInitiative(id: $id, expectedVersion: $v, input: $input) { """
    + RESULT
    + """ } }"""
)
REQUEST = (
    """mutation($id: ID!, $v: Int!, $amount: Int!, $year: Int!) {
  requestGrant(id: $id, expectedVersion: $v, amountCents: $amount, year: $year) { """
    + RESULT
    + """ } }"""
)
DECIDE = (
    """mutation($id: ID!, $v: Int!, $input: GrantDecisionInput!) {
  decideGrant(id: $id, expectedVersion: $v, input: $input) { """
    + RESULT
    + """ } }"""
)
START = (
    """mutation($id: ID!, $v: Int!) { startInitiative(id: $id, expectedVersion: $v) { """
    + RESULT
    + """ } }"""
)
REPORT = (
    """mutation($id: ID!, $v: Int!, $input: ReportInput!) {
  reportInitiative(id: $id, expectedVersion: $v, input: $input) { """
    + RESULT
    + """ } }"""
)


def proposal(networks: Networks, **overrides: Any) -> dict[str, Any]:
    return {
        "networkId": str(networks.a),
        "buurt": networks.buurt_a,
        "title": "Financieel café",
        "summary": "Monthly coffee morning with volunteers who help with letters and bills.",
        "themes": ["debts", "poverty"],
        "initiator": {"name": "Fatima El Amrani", "email": "fatima@example.org"},
        "startsOn": f"{YEAR}-09-01",
        **overrides,
    }


# -- network members ---------------------------------------------------------------------------------

MEMBER = """
  __typename
  ... on NetworkMember { id displayName isResident role hasAccount version contact { email } }
  ... on Problem { rule message }
  ... on InvalidInputProblem { fields { path rule } }
"""
ADD = (
    """mutation($network: ID!, $input: AddMemberInput!) {
  addNetworkMember(networkId: $network, input: $input) { """
    + MEMBER
    + """ } }"""
)


def partner(name: str) -> dict[str, Any]:
    return {"displayName": name, "isResident": False, "email": "partner@example.org"}
