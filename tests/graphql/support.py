"""Reading the served GraphQL schema in tests."""

from __future__ import annotations

import strawberry
from graphql import GraphQLInterfaceType, GraphQLObjectType, build_schema
from strawberry.permission import BasePermission, PermissionExtension


def permissions_of(schema: strawberry.Schema) -> dict[str, list[BasePermission]]:
    """``Type.field`` -> the permissions it declares, for every field of every object and interface."""
    found: dict[str, list[BasePermission]] = {}
    served = build_schema(schema.as_str())  # the names of the served types and fields
    for name, graphql_type in served.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name in graphql_type.fields:
            definition = schema.get_field_for_type(field_name, name)
            extensions = definition.extensions if definition is not None else []
            found[f"{name}.{field_name}"] = [
                p for e in extensions if isinstance(e, PermissionExtension) for p in e.permissions
            ]
    return found
