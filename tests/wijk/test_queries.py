"""The pages' persisted queries: valid against the committed schema, one operation per file, and only
fields an anonymous caller may read (no field carrying a permission directive)."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    FieldNode,
    GraphQLSchema,
    TypeInfo,
    Visitor,
    build_schema,
    parse,
    validate,
    visit,
)
from graphql.utilities import TypeInfoVisitor

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "app" / "graphql" / "persisted"
PAGE_QUERIES = ["wijk_buurt.graphql", "wijk_initiative.graphql", "wijk_overview.graphql"]
# Guarded fields a page may ask for: anonymous callers get them only when the municipality publishes
# them (null otherwise, which the page shows as "niet gepubliceerd").
PUBLISHED_WHEN_CHOSEN = {"topThemes"}


def committed_schema() -> GraphQLSchema:
    return build_schema((ROOT / "openapi" / "schema.graphql").read_text())


class GuardedFields(Visitor):
    """Collects the fields whose definition carries a directive (the schema's permission marks)."""

    def __init__(self, types: TypeInfo) -> None:
        super().__init__()
        self.types = types
        self.found: list[str] = []

    def enter_field(self, node: FieldNode, *_: object) -> None:
        definition = self.types.get_field_def()
        if definition is not None and definition.ast_node is not None and definition.ast_node.directives:
            self.found.append(node.name.value)


def test_the_page_queries_are_one_valid_operation_each() -> None:
    assert sorted(p.name for p in QUERIES.glob("wijk_*.graphql")) == PAGE_QUERIES
    schema = committed_schema()
    for name in PAGE_QUERIES:
        document = parse((QUERIES / name).read_text())
        assert validate(schema, document) == [], name
        operations = [d for d in document.definitions if d.kind == "operation_definition"]
        assert len(operations) == 1, name


def test_the_page_queries_read_public_fields_only() -> None:
    schema = committed_schema()
    for name in PAGE_QUERIES:
        types = TypeInfo(schema)
        guarded = GuardedFields(types)
        visit(parse((QUERIES / name).read_text()), TypeInfoVisitor(types, guarded))
        unpublished = [f for f in guarded.found if f not in PUBLISHED_WHEN_CHOSEN]
        assert unpublished == [], f"{name} selects non-public fields: {unpublished}"
