"""The SQL pieces every case-write statement (``case_write``) is built of: the parameters it binds,
the access check, the aggregate an object is part of, the change-feed row, the rows that hang from
the object, and the access-log outcome. Built once per kind of write, never per request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlmodel import SQLModel

from app.domain.base import table_of
from app.domain.households.access import HOUSEHOLD_MEMBER, StatementRule
from app.domain.households.models import Household, HouseholdStatus
from app.domain.unit_of_work.change_feed import CaseChange, ChangeOp

HOUSEHOLD = sa.bindparam("household_id", type_=sa.Uuid)
OBJECT = sa.bindparam("object_id", type_=sa.Uuid)
EXPECTED = sa.bindparam("expected_version", type_=sa.Integer)
PARENT = sa.bindparam("parent_id", type_=sa.Uuid)
VALID = sa.bindparam("valid", type_=sa.Boolean)
TOUCHED = sa.bindparam("touched_at", type_=sa.DateTime(timezone=True))
# The access-log outcome, from what the statement found: written, refused in a visible file, or
# nothing to see.
OUTCOME = (
    "CASE WHEN EXISTS (SELECT 1 FROM written) THEN 'allowed' "
    "WHEN EXISTS (SELECT 1 FROM target) THEN 'failed' ELSE 'denied' END"
)


def constant(text: str) -> Any:
    """A constant of this module's own SQL (an entity name, an op, a fact's name), never a caller's
    value."""
    return sa.literal_column(f"'{text}'")


def constant_int(number: int) -> Any:
    return sa.literal_column(str(number))


@dataclass(frozen=True)
class Child:
    """Rows of another table that hang from the written object (e.g. an assessment's scores): one per
    element of the arrays bound as ``c<index>_<column>``; ``parent`` names the column that takes the
    id. A change that carries them replaces the object's rows (matched by the rest of their key)."""

    model: type[SQLModel]
    parent: str
    columns: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Within:
    """The aggregate a case object is part of when that is not the household itself (a plan version
    for its goals and actions): the object's rows name it in ``column``; it is bound as ``parent_id``,
    must belong to the household (else 404 ``what``) and is locked while the statement runs, its
    named ``conditions`` (SQL on its row) must hold and are answered like checks. A write counts its
    version up (its ETag covers its parts) and the change feed names it, under the write's
    ``entity``, instead of the object."""

    model: type[SQLModel]
    column: str
    what: str
    conditions: Mapping[str, Any] = field(default_factory=dict)


def target_cte(rule: StatementRule) -> Any:
    """The household, when the caller may see it by ``rule`` (its parameters bound per request)."""
    households = table_of(Household)
    return (
        sa.select(households.c.id, households.c.status)
        .where(households.c.id == HOUSEHOLD, rule.condition())
        .cte("target")
    )


def visible(target: Any) -> Any:
    return sa.exists(sa.select(target.c.id))


def open_file(target: Any) -> Any:
    return sa.exists(sa.select(target.c.id).where(target.c.status != constant(str(HouseholdStatus.closed))))


def scope(table: sa.Table, within: Within | None, owner: str | None = None) -> Any:
    """The object's rows that belong to this household (or to its aggregate, checked apart); with
    ``owner`` (a rule of ``own_objects``), only those whose ``owner`` column names the caller."""
    rows = table.c.household_id == HOUSEHOLD if within is None else table.c[within.column] == PARENT
    return rows if owner is None else sa.and_(rows, table.c[owner] == HOUSEHOLD_MEMBER)


def parent_here(within: Within) -> Any:
    """The aggregate (``parent_id``) belongs to this household."""
    table = table_of(within.model)
    return sa.exists(sa.select(table.c.id).where(table.c.id == PARENT, table.c.household_id == HOUSEHOLD))


def locked_parent(within: Within, target: Any) -> Any:
    """The aggregate's row in this household, locked (as the write will change it), with its
    conditions: a concurrent change of the aggregate is waited for and then seen."""
    table = table_of(within.model)
    conditions = [sql.label(name) for name, sql in within.conditions.items()]
    return (
        sa.select(table.c.id, *conditions)
        .where(table.c.id == PARENT, table.c.household_id == HOUSEHOLD, visible(target))
        .with_for_update(of=table)
        .cte("parent")
    )


def change_row(written: Any, entity: str, op: ChangeOp) -> Any:
    changes = table_of(CaseChange)
    row = sa.select(HOUSEHOLD, constant(entity), written.c.id, constant(str(op)))
    return (
        sa.insert(changes)
        .from_select(["household_id", "entity", "entity_id", "op"], row, include_defaults=False)
        .returning(changes.c.seq)
        .cte("changed")
    )


def sent_rows(index: int, child: Child) -> Any:
    """The child rows sent, as a table: ``unnest`` of the bound arrays."""
    table = table_of(child.model)
    arrays = [sa.bindparam(f"c{index}_{c}", type_=ARRAY(table.c[c].type)) for c in child.columns]
    return sa.func.unnest(*arrays).table_valued(*child.columns).render_derived(name=f"rows{index}")


def child_rows(children: Sequence[Child], written: Any, *, replace: bool) -> list[Any]:
    """The child rows sent, for the written object; ``replace``: its other child rows go, and a row
    sent whose key is there already is written over (key: the child's primary key but the parent)."""
    made = []
    for index, child in enumerate(children):
        table = table_of(child.model)
        rows = sent_rows(index, child)
        values = sa.select(written.c.id, *(rows.c[c] for c in child.columns)).select_from(written, rows)
        if not replace:
            insert = sa.insert(table).from_select([child.parent, *child.columns], values)
            made.append(insert.cte(f"children{index}"))
            continue
        key = [c.name for c in table.primary_key.columns if c.name != child.parent]
        gone = sa.delete(table).where(
            table.c[child.parent].in_(sa.select(written.c.id)),
            sa.tuple_(*(table.c[k] for k in key)).not_in(sa.select(*(rows.c[k] for k in key))),
        )
        sent = upsert(table).from_select([child.parent, *child.columns], values)
        rest = {c: sent.excluded[c] for c in child.columns if c not in key}
        sent = sent.on_conflict_do_update(index_elements=[child.parent, *key], set_=rest)
        made += [gone.cte(f"gone{index}"), sent.cte(f"children{index}")]
    return made


def holds(column: Any, check: Any) -> Any:
    if isinstance(check.type, ARRAY):  # one boolean per item sent: every one must hold
        return sa.literal_column("true") == sa.all_(column)
    return column
