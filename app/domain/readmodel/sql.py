"""SQL pieces every read-model statement shares: constants of our own SQL and the one timestamp format
(the case worker's access rule as a parameterised condition is ``households.access.case_worker_rule``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


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
