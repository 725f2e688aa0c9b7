"""Queries read without a transaction, mutations keep theirs; enum leaves coerced from a dict agree
with Strawberry's own coercion."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.graphql.execution import _coercion
from app.graphql.types import GrantDecision, InitiativeStatus, NetworkRole
from tests.graphql.test_mutations import PROPOSE, proposal
from tests.initiatives.factories import Networks

LIST = """query($code: String!) {
  initiatives(filter: {neighbourhood: $code}) { nodes { title status themes { code } grant { decision } } }
}"""


@contextmanager
def autocommit_per_statement(app: FastAPI) -> Iterator[list[bool]]:
    """For every statement the app sends: did its connection run without a transaction?"""
    seen: list[bool] = []
    target = (app.state.db.engine.sync_engine, "before_cursor_execute", _looker(seen))
    event.listen(*target)
    yield seen
    event.remove(*target)


def _looker(seen: list[bool]) -> Any:
    return lambda conn, *_: seen.append(bool(conn.connection.dbapi_connection.autocommit))


async def test_a_query_reads_without_a_transaction_and_a_mutation_writes_in_one(
    app: FastAPI, client: httpx.AsyncClient, networks: Networks
) -> None:
    await networks.initiatives("a", 3)
    for actor in ("anonymous", "resident"):
        with autocommit_per_statement(app) as reads:
            body = await networks.gql(client, actor, LIST, code=networks.buurt_a)
        assert "errors" not in body, body
        assert len(body["data"]["initiatives"]["nodes"]) == 3
        assert reads and all(reads), (actor, reads)
    # The connections went back to the pool with their isolation level reset: a mutation right
    # after the queries runs every statement in its transaction.
    with autocommit_per_statement(app) as writes:
        body = await networks.gql(client, "resident", PROPOSE, input=proposal(networks))
    assert body["data"]["proposeInitiative"]["__typename"] == "Initiative", body
    assert writes and not any(writes), writes


@pytest.mark.parametrize("enum", [InitiativeStatus, GrantDecision, NetworkRole])
def test_enum_leaves_coerce_as_strawberry_does(app: FastAPI, enum: Any) -> None:
    schema = app.state.graphql_schema._schema
    graphql_type = schema.get_type(enum.__name__)
    fast = _coercion(graphql_type)
    for member in enum:
        assert fast(member) == graphql_type.coerce_output_value(member)
        # a raw value (not a member) takes the type's own path, with its own answer or error
        assert fast(member.value) == graphql_type.coerce_output_value(member.value)
    with pytest.raises(Exception) as slow_error:
        graphql_type.coerce_output_value("no-such-value")
    with pytest.raises(type(slow_error.value)):
        fast("no-such-value")
