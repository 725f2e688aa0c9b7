"""The compiled read path answers exactly as the resolvers do: every query below, and a generated
set (hypothesis over the dashboard's selections, arguments, fragments, aliases and @skip/@include),
for each kind of caller, through both paths: the same data and the same errors."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
import strawberry
from fastapi import FastAPI
from graphql import parse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.domain.initiatives import json_reads
from app.domain.initiatives.models import Initiative
from app.domain.unit_of_work.work import UnitOfWork, Wiring
from app.graphql.compiled import FIELDS, ROOTS, NotCompiled, Plan, Plans, mirror_of
from app.graphql.context import GraphQLContext
from app.graphql.permissions import PUBLIC_FIELDS
from app.graphql.schema import build_schema
from app.security.principal import Principal
from app.settings import Settings
from tests.graphql.compiled_queries import ACTORS, FIXED, PERSISTED, filled, variables_for
from tests.initiatives.factories import Networks
from tests.support.statements import counting_statements


@pytest.fixture(scope="module")
def resolvers_only(settings: Settings) -> strawberry.Schema:
    return build_schema(settings, compiled=False)


async def principal_of(app: FastAPI, networks: Networks, actor: str) -> Principal | None:
    if actor == "anonymous":
        return None
    principal: Principal = await app.state.token_verifier.verify(await networks.world.token(actor))
    return principal


async def both(
    app: FastAPI, resolvers_only: strawberry.Schema, principal: Principal | None, query: str, variables: Any
) -> tuple[Any, Any]:
    db, settings = app.state.db, app.state.settings

    def context() -> GraphQLContext:
        return GraphQLContext(db, UnitOfWork(db, Wiring()), principal, settings)

    used = {name: variables[name] for name in variables if f"${name}" in query}
    compiled = await app.state.graphql_schema.execute(query, variable_values=used, context_value=context())
    plain = await resolvers_only.execute(query, variable_values=used, context_value=context())
    return compiled, plain


def decoded(data: Any) -> Any:
    """Data as a client reads it: the compiled fields are PostgreSQL's JSON text (orjson Fragments)."""
    return orjson.loads(orjson.dumps(data))


def same(compiled: Any, plain: Any, query: str, actor: str) -> None:
    where = f"{actor}: {query}"
    assert decoded(compiled.data) == plain.data, where
    assert json.dumps(decoded(compiled.data)) == json.dumps(plain.data), where  # the same key order too
    formatted = [[e.formatted for e in r.errors or []] for r in (compiled, plain)]
    assert formatted[0] == formatted[1], where


async def test_the_suites_queries_answer_the_same_on_both_paths(
    app: FastAPI, resolvers_only: strawberry.Schema, networks: Networks
) -> None:
    await filled(networks)
    variables = variables_for(networks)
    for actor in ACTORS:
        principal = await principal_of(app, networks, actor)
        for query in FIXED:
            same(*await both(app, resolvers_only, principal, query, variables), query, actor)


async def test_a_compiled_dashboard_is_one_statement(app: FastAPI, networks: Networks) -> None:
    await filled(networks)
    dashboard = (PERSISTED / "neighbourhood_dashboard.graphql").read_text()
    context = GraphQLContext(app.state.db, UnitOfWork(app.state.db, Wiring()), None, app.state.settings)
    with counting_statements(app.state.db) as seen:
        result = await app.state.graphql_schema.execute(
            dashboard, variable_values={"code": networks.buurt_a}, context_value=context
        )
    data = decoded(result.data)
    assert result.errors is None and len(data["neighbourhood"]["initiatives"]) == 7  # ideas hidden
    assert len(seen) == 1, seen


async def test_a_mixed_operation_compiles_what_maps_and_resolves_the_rest(
    app: FastAPI, networks: Networks
) -> None:
    await filled(networks)
    query = """query($code: String!, $m: String!) { networks(municipality: $m) { name }
        neighbourhood(code: $code) { code initiatives { id grant { decision } } } }"""
    context = GraphQLContext(app.state.db, UnitOfWork(app.state.db, Wiring()), None, app.state.settings)
    with counting_statements(app.state.db) as seen:
        result = await app.state.graphql_schema.execute(
            query,
            variable_values={"code": networks.buurt_a, "m": networks.world.municipality.code},
            context_value=context,
        )
    data = decoded(result.data)
    assert result.errors is None and list(data) == ["networks", "neighbourhood"]
    assert len(data["neighbourhood"]["initiatives"]) == 7 and len(data["networks"]) == 2
    # The neighbourhood in one statement; the networks through their resolver, which reads no initiative.
    compiled = [statement for statement in seen if "json_build_object" in statement]
    resolved = [statement for statement in seen if "json_build_object" not in statement]
    assert len(compiled) == 1 and resolved, seen
    assert not any("FROM initiatives" in statement for statement in resolved), resolved


async def test_a_repeated_operation_is_planned_once(app: FastAPI, networks: Networks) -> None:
    await filled(networks)
    mirror = mirror_of(app.state.graphql_schema)
    plans = Plans()
    dashboard = (PERSISTED / "neighbourhood_dashboard.graphql").read_text()
    first = plans.plan_of(mirror, dashboard, parse(dashboard), None, {"code": networks.buurt_a})
    again = plans.plan_of(mirror, dashboard, parse(dashboard), None, {"code": networks.buurt_a})
    other = plans.plan_of(mirror, dashboard, parse(dashboard), None, {"code": networks.buurt_b})
    assert first is not None and again is first and other is not first


async def test_a_mutation_is_neither_planned_nor_kept(app: FastAPI, networks: Networks) -> None:
    # A mutation's variables carry what people typed (names, phone numbers): the plan cache, keyed by
    # the variables, must never hold them.
    mirror = mirror_of(app.state.graphql_schema)
    plans = Plans()
    mutation = "mutation ($id: ID!) { archiveInitiative(id: $id) { id } }"
    assert plans.plan_of(mirror, mutation, parse(mutation), None, {"id": "Jan Jansen 0612345678"}) is None
    assert len(plans) == 0


def test_the_compiled_path_maps_public_fields_only() -> None:
    # The compiled path answers without the field permissions (visibility is in its SQL): a field that
    # needs a permission must never get a mapping, or anonymous callers would read it.
    mapped = {f"{type_name}.{field}" for type_name, fields in FIELDS.items() for field in fields}
    mapped = {name for name in mapped if not name.endswith(".__typename")} | {
        f"Query.{root}" for root in ROOTS
    }
    assert mapped <= PUBLIC_FIELDS, sorted(mapped - PUBLIC_FIELDS)


# -- generated queries --------------------------------------------------------------------------------

SCALARS = [
    "id", "title", "summary", "status", "requestedAmountCents", "grantedAmountCents", "spentAmountCents",
    "startsOn", "endsOn", "participantsReached", "year", "version", "createdAt", "updatedAt", "__typename",
]  # fmt: skip
OBJECTS = {
    "themes": ["code", "labelNl", "labelEn", "__typename"],
    "grant": ["id", "decision", "amountCents", "decidedAt", "year", "__typename"],
    "network": ["id", "name", "__typename"],
    "neighbourhood": ["code", "name", "wijkCode", "wijkName", "__typename"],
}
# Now and then a field outside the mapping: that query must take the resolver path and still agree.
UNMAPPED = ["report", "initiator { name }", "grant { reason }", "network { members { id } }"]
NAMES = st.sampled_from(["a", "b", "x1", "item", "other"])


@st.composite
def field_of(draw: st.DrawFn, fields: list[str]) -> str:
    name = draw(st.sampled_from(fields))
    alias = f"{draw(NAMES)}_{draw(st.integers(0, 9))}: " if draw(st.booleans()) else ""
    directive = draw(
        st.sampled_from(["", "", " @skip(if: $flag)", " @include(if: $flag)", " @include(if: true)"])
    )
    return f"{alias}{name}{directive}"


@st.composite
def initiative_selection(draw: st.DrawFn) -> str:
    parts = draw(st.lists(field_of(SCALARS), min_size=1, max_size=6))
    for name, fields in OBJECTS.items():
        if draw(st.booleans()):
            parts.append(f"{name} {{ {' '.join(draw(st.lists(field_of(fields), min_size=1, max_size=3)))} }}")
    if draw(st.integers(0, 9)) == 0:
        parts.append(draw(st.sampled_from(UNMAPPED)))
    wrap = draw(st.sampled_from(["plain", "inline", "fragment"]))
    if wrap == "inline":
        return f"id ... on Initiative {{ {' '.join(parts)} }}"
    if wrap == "fragment":
        return "id ...F"  # the fragment's text goes with the document
    return " ".join(parts)


@st.composite
def document(draw: st.DrawFn) -> str:
    selection = draw(initiative_selection())
    fragment = ""
    if selection.endswith("...F"):
        fields = " ".join(draw(st.lists(field_of(SCALARS), min_size=1, max_size=4)))
        fragment = f" fragment F on Initiative {{ {fields} }}"
    first = draw(st.integers(1, 6))
    status = draw(
        st.sampled_from(
            ["", "status: [REQUESTED]", "status: [GRANTED, RUNNING, COMPLETED]", "status: [IDEA]"]
        )
    )
    if draw(st.booleans()):
        filters = ", ".join(f for f in ("municipality: $m", status) if f)
        page = draw(st.sampled_from(["pageInfo { hasNextPage }", "", "__typename"]))
        root = f"initiatives(filter: {{{filters}}}, first: {first}) {{ nodes {{ {selection} }} {page} }}"
    else:
        arguments = ", ".join(
            a for a in (f"first: {first}", status, draw(st.sampled_from(["", 'theme: "youth"']))) if a
        )
        root = f"neighbourhood(code: $code) {{ code initiatives({arguments}) {{ {selection} }} }}"
    # Now and then a second root field the resolvers answer: a mixed operation.
    other = draw(st.sampled_from(["", "", "", "themes { code }", "networks(municipality: $m) { name }"]))
    roots = [root, other] if draw(st.booleans()) else [other, root]
    return f"query($m: String!, $code: String!, $flag: Boolean!) {{ {' '.join(roots)} }}{fragment}"


def compiles(mirror: Any, query: str, variables: dict[str, Any]) -> bool:
    try:
        Plan.of(mirror, parse(query), None, {**variables, "flag": True})
    except NotCompiled:
        return False
    return True


def generated(count: int) -> list[str]:
    found: list[str] = []

    @given(document())
    @hypothesis_settings(
        max_examples=count, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return found


async def test_generated_queries_answer_the_same_on_both_paths(
    app: FastAPI, resolvers_only: strawberry.Schema, networks: Networks
) -> None:
    await filled(networks)
    queries = generated(60)
    mirror = mirror_of(app.state.graphql_schema)
    compiled = [q for q in queries if compiles(mirror, q, variables_for(networks))]
    assert len(compiled) >= len(queries) // 2  # most take the compiled path, the rest the resolvers
    for n, actor in enumerate(ACTORS):
        principal = await principal_of(app, networks, actor)
        for flag in (True, False):
            variables = {**variables_for(networks), "flag": flag}
            for query in queries[n % 3 :: 3]:  # each actor a third of them, both ways of the flag
                same(*await both(app, resolvers_only, principal, query, variables), query, actor)


async def test_a_compiled_read_is_one_raw_statement_with_an_array_per_in_list(
    app: FastAPI, networks: Networks
) -> None:
    # A raw statement's text is fixed, while IN (...) takes a parameter per item: each list becomes
    # one array parameter, and every value bound in the built statement a named parameter.
    await filled(networks)
    i = Initiative.__table__.c  # type: ignore[attr-defined]
    built = sa.select(sa.func.count().label(json_reads.JSON)).where(
        i.network_id.in_([networks.a, networks.b]), i.status.not_in(["idea"]), i.title != "-"
    )
    prepared = json_reads.Prepared.of(built)
    sql = prepared.statement.sql
    assert "= ANY (" in sql and "!= ALL (" in sql and "POSTCOMPILE" not in sql, sql
    assert sorted(prepared.values.values(), key=str) == sorted(
        [[networks.a, networks.b], ["idea"], "-"], key=str
    )
    row = await app.state.db.read_one(prepared.statement, prepared.values)
    assert row[json_reads.JSON] == 9  # what filled() made in networks a (7) and b (2), ideas left out
