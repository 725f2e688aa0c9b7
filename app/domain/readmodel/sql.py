"""SQL pieces every read-model statement shares: the case worker's access rule as a parameterised
condition, constants of our own SQL, the one timestamp format, and the one way a document leaves."""

from __future__ import annotations

import uuid
from typing import Any, cast

import orjson
import sqlalchemy as sa

from app.domain.households.access import CASE_ROLES, visible_to
from app.security.principal import Principal
from app.security.scopes import Role

CASE_WORKER = sa.bindparam("worker_id", type_=sa.Uuid)


def takes_case_worker_rule(principal: Principal) -> bool:
    """Case workers, for whom ``visible_to`` is the worker rule; anyone else sees no household."""
    return principal.role in CASE_ROLES and principal.worker_id is not None


def case_worker_rule() -> sa.ColumnElement[bool]:
    """``access.visible_to`` of any case worker, with the worker id as the parameter ``worker_id``."""
    template = Principal(
        subject="",
        role=Role.generalist,
        scopes=frozenset(),
        client_id="",
        worker_id=cast(uuid.UUID, CASE_WORKER),
    )
    return visible_to(template)


def constant(literal: str) -> Any:
    """A constant of the read model's own SQL (never a caller's value), written into the statement."""
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


def api_json(document: str) -> bytes:
    """A JSON document made by PostgreSQL as the API sends JSON: compact, as pydantic writes it.
    PostgreSQL writes ``json_build_object`` as ``{"key" : value}`` and ``json_agg`` with ``", "``
    between elements (its text format, with no setting to change it); one pass of orjson makes the
    bytes the same as every other answer's (a 50-household page: well under a tenth of a millisecond)."""
    return orjson.dumps(orjson.loads(document))
