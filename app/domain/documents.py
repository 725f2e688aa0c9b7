"""JSON documents built by PostgreSQL in the shape of a read model.

The hot reads (the household list and overview, the sync page) have PostgreSQL write the JSON their
answers carry, instead of a Python object per row validated and dumped by pydantic. What they write
must be what the read model's own path writes (``Model.model_validate(row).model_dump(mode="json")``):
``json_object`` takes the model's fields in their order and one SQL value per field, and refuses a
model field without a value or a value without a field, so a field added to a read model cannot go
missing from a document unnoticed. Timestamps are written as pydantic writes them (UTC, ``Z``,
microseconds only when there are any); dates, UUIDs, numbers, booleans and text arrays PostgreSQL
already writes the same way. Tests compare each document with the model path.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import aggregate_order_by


def constant(literal: str) -> Any:
    """A constant of our own SQL (never a caller's value), written into the statement."""
    return sa.literal_column(literal)


ISO_WHOLE = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''
ISO_FRACTION = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''


def iso_utc(column: Any) -> Any:
    """A timestamp as pydantic writes it: UTC, ``Z``, microseconds only when there are any."""
    utc = sa.func.timezone(constant("'UTC'"), column)
    whole = sa.func.to_char(utc, constant(ISO_WHOLE))
    fraction = sa.func.to_char(utc, constant(ISO_FRACTION))
    return sa.case(
        (sa.extract("microseconds", column) % constant("1000000") == constant("0"), whole), else_=fraction
    )


def iso_utc_sql(column: str) -> str:
    """``iso_utc`` for statements written as SQL text (the same format, the same rule)."""
    utc = f"timezone('UTC', {column})"
    return (
        f"CASE WHEN extract(microseconds FROM {column}) % 1000000 = 0 "
        f"THEN to_char({utc}, {ISO_WHOLE}) ELSE to_char({utc}, {ISO_FRACTION}) END"
    )


def _is_timestamp(annotation: Any) -> bool:
    """A ``datetime`` field, optional or annotated (``AwareDatetime``) as it may be."""
    if annotation is datetime:
        return True
    origin = typing.get_origin(annotation)
    if isinstance(annotation, types.UnionType) or origin is typing.Union:
        return any(_is_timestamp(arg) for arg in typing.get_args(annotation))
    return origin is typing.Annotated and _is_timestamp(typing.get_args(annotation)[0])


def _check_fields(model: type[BaseModel], values: Mapping[str, Any]) -> None:
    """A value for every field of ``model`` and a field for every value."""
    fields = model.model_fields
    missing, unknown = fields.keys() - values.keys(), values.keys() - fields.keys()
    if missing or unknown:
        raise ValueError(
            f"{model.__name__} document: no value for {sorted(missing)}, no field for {sorted(unknown)}"
        )


def json_object(model: type[BaseModel], values: Mapping[str, Any]) -> Any:
    """``model``'s JSON object built by PostgreSQL: its fields in their order, each from ``values``
    (a column or SQL expression per field name; a nested document for a nested model or list)."""
    _check_fields(model, values)
    pairs: list[Any] = []
    for name, field in model.model_fields.items():
        value = values[name]
        pairs += [constant(f"'{name}'"), iso_utc(value) if _is_timestamp(field.annotation) else value]
    return sa.func.json_build_object(*pairs)


def json_object_sql(model: type[BaseModel], values: Mapping[str, str]) -> str:
    """``json_object`` for statements written as SQL text: ``values`` holds an SQL expression per
    field name; the same fields, the same order, the same refusal, the same timestamp format."""
    _check_fields(model, values)
    pairs = [
        f"'{name}', {iso_utc_sql(values[name]) if _is_timestamp(field.annotation) else values[name]}"
        for name, field in model.model_fields.items()
    ]
    return f"json_build_object({', '.join(pairs)})"


def json_list(document: Any, *order_by: Any) -> Any:
    """The documents of an aggregate's rows as a JSON array, in ``order_by`` (``[]`` when none);
    decoded to Python when SQLAlchemy reads it."""
    aggregated = sa.func.json_agg(aggregate_order_by(document, *order_by) if order_by else document)
    return sa.type_coerce(sa.func.coalesce(aggregated, sa.text("'[]'::json")), sa.JSON)


def api_json(document: str) -> bytes:
    """A JSON document made by PostgreSQL as the API sends JSON: compact, as pydantic writes it.
    PostgreSQL writes ``json_build_object`` as ``{"key" : value}`` and ``json_agg`` with ``", "``
    between elements (its text format, with no setting to change it); one pass of orjson makes the
    bytes the same as every other answer's (a 50-household page: well under a tenth of a millisecond)."""
    return orjson.dumps(orjson.loads(document))
