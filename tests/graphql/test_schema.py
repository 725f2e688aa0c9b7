"""Deny by default in the schema, no case data in it, and the committed SDL equals the served one."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import strawberry
from fastapi import FastAPI
from strawberry.permission import BasePermission

from app.contract import CONTRACT_DIR, CONTRACTS, REGENERATE_COMMAND
from app.graphql import permissions, served_sdl
from app.graphql.permissions import PUBLIC_FIELDS, IsNetworkMember, needs
from tests.graphql.support import permissions_of

# Words of formal case data (households, their members and everything of their case files): the
# schema serves the public side only, so none may name a type or field of it.
CASE_WORDS = re.compile(
    r"household|huishouden|person|assessment|referral|consent|bsn|contactmoment|casefile|caseload|"
    r"selfsufficiency|goal",
    re.IGNORECASE,
)


def unguarded(schema: strawberry.Schema, public: frozenset[str]) -> list[str]:
    return sorted(f for f, declared in permissions_of(schema).items() if not declared and f not in public)


def test_every_field_declares_a_permission_or_is_listed_public(app: FastAPI) -> None:
    found = unguarded(app.state.graphql_schema, PUBLIC_FIELDS)
    assert not found, (
        "These GraphQL fields declare no permission and are not in app/graphql/permissions.py "
        f"PUBLIC_FIELDS: {found}"
    )


def test_the_public_list_has_no_stale_entries(app: FastAPI) -> None:
    fields = permissions_of(app.state.graphql_schema)
    assert sorted(PUBLIC_FIELDS - set(fields)) == []
    contradictory = sorted(f for f in PUBLIC_FIELDS if fields[f])
    assert contradictory == [], "public fields that also declare permissions"


def test_every_mutation_and_private_field_is_guarded(app: FastAPI) -> None:
    fields = permissions_of(app.state.graphql_schema)
    mutations = {f: p for f, p in fields.items() if f.startswith("Mutation.")}
    assert mutations and all(mutations.values())
    for private in ("Initiative.initiator", "Initiative.report", "Grant.reason", "Network.members"):
        assert any(isinstance(p, IsNetworkMember) for p in fields[private]), private
    assert all(fields[f] for f in fields if f.startswith("NetworkMember."))


def test_every_permission_class_is_async(app: FastAPI) -> None:
    classes = {type(p) for declared in permissions_of(app.state.graphql_schema).values() for p in declared}
    classes |= {
        c for c in vars(permissions).values() if isinstance(c, type) and issubclass(c, BasePermission)
    } - {BasePermission}
    assert len(classes) >= 3
    for permission in classes:
        assert inspect.iscoroutinefunction(permission.has_permission), permission.__name__


@strawberry.type(name="Sample")
class _Sample:
    listed: str
    open_field: str
    guarded: str = strawberry.field(extensions=needs(IsNetworkMember()))


@strawberry.type(name="Query")
class _SampleQuery:
    @strawberry.field
    def sample(self) -> _Sample:
        return _Sample(listed="", open_field="", guarded="")


def test_the_walk_finds_an_unguarded_field() -> None:
    """The checker itself: a field without permission and off the list is reported."""
    schema = strawberry.Schema(query=_SampleQuery)
    found = unguarded(schema, frozenset({"Query.sample", "Sample.listed"}))
    assert found == ["Sample.openField"]


def test_the_schema_holds_no_case_data(app: FastAPI) -> None:
    sdl = served_sdl(app)
    names = re.findall(r"\b(?:type|input|interface|union|enum|scalar)\s+(\w+)", sdl)
    fields = re.findall(r"^\s+(\w+)\s*[(:]", sdl, flags=re.MULTILINE)
    assert names and fields
    offending = sorted({n for n in [*names, *fields] if CASE_WORDS.search(n)})
    assert offending == [], f"case data in the GraphQL schema: {offending}"
    # "Plan" and "Member" exist only as a network's year plan and a network's member.
    assert [n for n in names if n.endswith("Plan")] == ["YearPlan"]
    assert {n for n in names if "Member" in n} <= {
        "NetworkMember", "NetworkMemberResult", "MemberRemoved", "MemberRemovedResult",
        "AddMemberInput", "UpdateMemberInput",
    }  # fmt: skip


def test_the_committed_sdl_is_the_served_schema(app: FastAPI) -> None:
    assert "schema.graphql" in CONTRACTS
    committed = Path(CONTRACT_DIR / "schema.graphql")
    assert committed.exists(), f"openapi/schema.graphql is missing; run {REGENERATE_COMMAND}"
    assert committed.read_text(encoding="utf-8") == served_sdl(app), (
        f"openapi/schema.graphql differs from the served schema; run {REGENERATE_COMMAND}"
    )
