"""The queries both GraphQL paths are held to (the compiled one and the resolvers'): the suite's fixed
queries, the callers that ask them, and the networks they are asked of. Shared by the differential
tests (test_compiled.py) and the repeated answers' tests (test_compiled_answers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.initiatives.factories import Networks

PERSISTED = Path(__file__).parents[2] / "app/graphql/persisted"
ACTORS = (
    "anonymous",
    "resident",
    "resident_b",
    "network_coordinator",
    "generalist_a",
    "analyst",
    "partner_a",
)

FIXED = [
    *(p.read_text() for p in sorted(PERSISTED.glob("*.graphql"))),
    """query($code: String!) { neighbourhood(code: $code) { __typename code name wijkCode
         requested: initiatives(status: [REQUESTED], first: 2) { id status createdAt updatedAt }
         youth: initiatives(theme: "youth") { title themes { code labelEn __typename } }
         initiatives { id grant { id decision amountCents decidedAt year } network { id name } } } }""",
    """query($code: String!) { neighbourhood(code: $code) { ...N } }
       fragment N on Neighbourhood { code initiatives(first: 3) { ...I ... on Initiative { title } } }
       fragment I on Initiative { id neighbourhood { code name wijkCode } startsOn endsOn year version }""",
    """query($m: String!, $skip: Boolean!) { all: initiatives(filter: {municipality: $m}, first: 3) {
         __typename pageInfo { hasNextPage __typename } nodes { id title @skip(if: $skip) status } }
       funded: initiatives(filter: {municipality: $m, status: [GRANTED, COMPLETED, RUNNING]}, first: 50) {
         nodes { id grantedAmountCents spentAmountCents participantsReached summary }
         pageInfo { hasNextPage } } }""",
    """query($n: ID!) {
         initiatives(filter: {networkId: $n}, first: 1) { nodes { id } pageInfo { hasNextPage } } }""",
    """{ initiatives(filter: {networkId: "not-a-uuid"}) { nodes { id } } }""",
    """{ initiatives(first: 0) { nodes { id } } }""",
    """{ initiatives(first: 501) { nodes { id } } }""",
    """{ neighbourhood(code: "BU00000000") { code initiatives { id } } }""",
    # Outside the mapping: the resolvers answer (cursors, private fields, a mix of both paths).
    """query($m: String!) {
         initiatives(filter: {municipality: $m}, first: 2) { edges { cursor node { id } } } }""",
    """query($code: String!) { neighbourhood(code: $code) { initiatives { id report grant { reason } } } }""",
    """query($code: String!) { themes { code } neighbourhood(code: $code) { code initiatives { id } } }""",
    # Mixed: the compiled root fields and the resolvers' in one answer, in the selection's order.
    """query($code: String!, $m: String!) {
         a: neighbourhood(code: $code) { code initiatives(first: 2) { id title grant { decision } } }
         networks(municipality: $m) { id name }
         b: initiatives(filter: {municipality: $m}, first: 2) { edges { cursor node { id } } }
         c: initiatives(filter: {municipality: $m}, first: 2) { nodes { id } pageInfo { hasNextPage } }
         __typename
         d: neighbourhood(code: $code) { initiatives { id report } } }""",
    """query($code: String!, $m: String!, $skip: Boolean!) { ...Roots
         themes @skip(if: $skip) { code } n: neighbourhood(code: $code) { name } }
       fragment Roots on Query { initiatives(filter: {municipality: $m}, first: 3) { nodes { ...I } }
         neighbourhoods(municipality: $m) { code } n: neighbourhood(code: $code) { code } }
       fragment I on Initiative { id status network { name } }""",
    # Mixed with errors from the resolvers' part (a page size outside the rule, an unknown id).
    """query($m: String!, $n: ID!) { initiatives(filter: {municipality: $m}, first: 0) { nodes { id } }
         ok: initiatives(filter: {networkId: $n}, first: 2) { nodes { id title } } }""",
    """query($code: String!) { initiative(id: "not-a-uuid") { id }
         neighbourhood(code: $code) { code initiatives(first: 1) { id } } }""",
]


def variables_for(networks: Networks) -> dict[str, Any]:
    return {
        "code": networks.buurt_a,
        "m": networks.world.municipality.code,
        "n": str(networks.a),
        "skip": True,
    }


async def filled(networks: Networks) -> Networks:
    await networks.initiatives("a", 3)
    await networks.initiatives("a", 2, status="idea")
    await networks.initiatives("a", 1, themes=["youth", "debts"])
    await networks.funded("a", 2)
    await networks.funded("a", 1, status="running")
    await networks.initiatives("b", 2, status="idea")
    await networks.funded("b", 2)
    return networks
