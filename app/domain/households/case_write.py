"""Case writes in one statement: the way every case object of a household is created, changed and
removed (contact moments, members, assessments, plans, the network map, consents).

One statement checks that the caller may see the household (``visible_to``, the worker a parameter)
and that its file is open, writes the object (and the rows that hang from it), its change-feed row
and its access-log entry with the right outcome (allowed, failed for a closed file, denied for a
household the caller may not see); an update also checks the version the caller edited. Outside a
transaction it is one round trip; inside the request's transaction (an Idempotency-Key was claimed
first) it takes its place there. The statement is compiled once per kind of write
(``app.db.RawStatement``): no ORM unit of work, no expression built per request.

What a write may not do is told by what it found (``Outcome``): the service turns a missing
household into 404, a closed file into the same 409 as ``rules.ensure_open``, a stale version into
412; the access-log entry already says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import SQLModel

from app.db import RawStatement
from app.domain.base import table_of
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import NotFound, PreconditionFailed
from app.domain.households.access import case_worker_rule, takes_case_worker_rule
from app.domain.households.models import Household, HouseholdStatus
from app.domain.households.rules import ensure_open
from app.domain.unit_of_work.access_log import AccessEntry, inline_cte
from app.domain.unit_of_work.change_feed import CaseChange, ChangeOp
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal

HOUSEHOLD = sa.bindparam("household_id", type_=sa.Uuid)
OBJECT = sa.bindparam("object_id", type_=sa.Uuid)
EXPECTED = sa.bindparam("expected_version", type_=sa.Integer)
# The access-log outcome, from what the statement found: written, a closed file, or nothing to see.
_OUTCOME = (
    "CASE WHEN EXISTS (SELECT 1 FROM written) THEN 'allowed' "
    "WHEN EXISTS (SELECT 1 FROM target) THEN 'failed' ELSE 'denied' END"
)


def _constant(text: str) -> Any:
    """A constant of this module's own SQL (an entity name, an op), never a caller's value."""
    return sa.literal_column(f"'{text}'")


def _constant_int(number: int) -> Any:
    return sa.literal_column(str(number))


@dataclass(frozen=True)
class Outcome:
    """What a case write found: the household's status (None: not visible or missing), whether it
    wrote, the object's version as it found it (None: no such object in the household) and, for a
    change, the object's row as written."""

    status: str | None
    written: bool
    found_version: int | None = None
    row: dict[str, Any] | None = None

    def raise_unless_written(
        self,
        what: str | None = None,
        expected: ExpectedVersion | None = None,
        object_id: uuid.UUID | None = None,
    ) -> None:
        """The refusal a write that wrote nothing answers with (its entry is already written), in the
        order the case file answers everywhere: 404 for a household the caller may not see, 404 for
        ``what`` (the object of a change) missing in the household, the closed-file 409, then for a
        change the If-Match answers (428 none, 412 stale or naming another object)."""
        if self.written:
            return
        if self.status is None:
            raise NotFound("household")
        if what is not None and self.found_version is None:
            raise NotFound(what)
        ensure_open(self.status)
        if expected is not None and object_id is not None and self.found_version is not None:
            expected.check(object_id, self.found_version)
        raise PreconditionFailed(
            "The object changed since you read it; fetch it again and reapply your edit."
        )


@dataclass(frozen=True)
class Child:
    """Rows of another table that hang from the written object (e.g. an assessment's scores): one per
    element of the arrays bound as ``c_<column>``; ``parent`` names the column that takes the id."""

    model: type[SQLModel]
    parent: str
    columns: tuple[str, ...]


def _target() -> Any:
    households = table_of(Household)
    return (
        sa.select(households.c.id, households.c.status)
        .where(households.c.id == HOUSEHOLD, case_worker_rule())
        .cte("target")
    )


def _open(target: Any) -> Any:
    return sa.exists(sa.select(target.c.id).where(target.c.status != _constant(str(HouseholdStatus.closed))))


def _changed(written: Any, entity: str, op: ChangeOp) -> Any:
    changes = table_of(CaseChange)
    row = sa.select(HOUSEHOLD, _constant(entity), written.c.id, _constant(str(op)))
    return (
        sa.insert(changes)
        .from_select(["household_id", "entity", "entity_id", "op"], row, include_defaults=False)
        .returning(changes.c.seq)
        .cte("changed")
    )


def _children(children: Sequence[Child], written: Any) -> list[Any]:
    made = []
    for index, child in enumerate(children):
        table = table_of(child.model)
        arrays = [sa.bindparam(f"c{index}_{c}", type_=ARRAY(table.c[c].type)) for c in child.columns]
        rows = sa.func.unnest(*arrays).table_valued(*child.columns).alias(f"rows{index}")
        values = sa.select(written.c.id, *(rows.c[c] for c in child.columns)).select_from(written, rows)
        made.append(
            sa.insert(table).from_select([child.parent, *child.columns], values).cte(f"children{index}")
        )
    return made


def _current(table: sa.Table) -> Any:
    """The object as it is, before the write: its version (none: not in this household)."""
    return (
        sa.select(table.c.id, table.c.version)
        .where(table.c.id == OBJECT, table.c.household_id == HOUSEHOLD)
        .cte("current")
    )


def _answer(target: Any, written: Any, logged: Any, *ctes: Any, row: bool = False) -> RawStatement:
    columns = [
        sa.select(target.c.status).scalar_subquery().label("status"),
        sa.exists(sa.select(written.c.id)).label("written"),
        sa.select(logged.c.outcome).scalar_subquery().label("outcome"),
    ]
    current = next((c for c in ctes if c.name == "current"), None)
    if current is not None:
        columns.append(sa.select(current.c.version).scalar_subquery().label("version"))
    if row:  # the row as written, as JSON text (timestamps as PostgreSQL writes them)
        columns.append(sa.select(sa.func.row_to_json(written.table_valued())).scalar_subquery().label("row"))
    statement = sa.select(*columns)
    for cte in (target, written, *ctes, logged):
        statement = statement.add_cte(cte)
    return RawStatement.of(statement)


class CaseInsert:
    """Creating one kind of case object: ``model``'s row from ``columns`` (bound as ``v_<column>``),
    its ``children``, its change-feed row (``entity``) and the access-log entry."""

    def __init__(
        self, model: type[SQLModel], columns: Sequence[str], *, entity: str, children: Sequence[Child] = ()
    ) -> None:
        self.model, self.columns, self.entity, self.children = model, tuple(columns), entity, tuple(children)

    @cached_property
    def statement(self) -> RawStatement:
        target = _target()
        table = table_of(self.model)
        values = [sa.bindparam(f"v_{c}", type_=table.c[c].type) for c in self.columns]
        written = (
            sa.insert(table)
            .from_select(list(self.columns), sa.select(*values).where(_open(target)), include_defaults=False)
            .returning(table.c.id)
            .cte("written")
        )
        changed = _changed(written, self.entity, ChangeOp.upsert)
        logged = inline_cte(outcome=_OUTCOME)
        return _answer(target, written, logged, changed, *_children(self.children, written))

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        row: Mapping[str, Any],
        children: Sequence[Mapping[str, Sequence[Any]]] = (),
    ) -> Outcome:
        """Write ``row`` (and the ``children`` arrays, one mapping per ``Child``) for the household in
        ``row["household_id"]``; ``entry`` (queued with ``uow.log``) is written by the statement."""
        values = {f"v_{c}": row[c] for c in self.columns}
        for index, (child, arrays) in enumerate(zip(self.children, children, strict=True)):
            values |= {f"c{index}_{c}": list(arrays[c]) for c in child.columns}
        return await _run(uow, principal, entry, self.statement, row["household_id"], values)


class CaseUpdate:
    """Changing one kind of case object in place (``columns`` bound as ``v_<column>``, the version
    counted up): written only in the household, only in its open file, and only when the version the
    caller edited (``expected_version``) is the current one. Answers the row as written."""

    def __init__(self, model: type[SQLModel], columns: Sequence[str], *, entity: str) -> None:
        self.model, self.columns, self.entity = model, tuple(columns), entity

    @cached_property
    def statement(self) -> RawStatement:
        target = _target()
        table = table_of(self.model)
        values = {c: sa.bindparam(f"v_{c}", type_=table.c[c].type) for c in self.columns}
        current = _current(table)
        written = (
            sa.update(table)
            .where(
                table.c.id == OBJECT,
                table.c.household_id == HOUSEHOLD,
                table.c.version == EXPECTED,
                _open(target),
            )
            .values({**values, "version": table.c.version + _constant_int(1)})
            .returning(*table.c)
            .cte("written")
        )
        changed = _changed(written, self.entity, ChangeOp.upsert)
        logged = inline_cte(outcome=_OUTCOME)
        return _answer(target, written, logged, current, changed, row=True)

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        household_id: uuid.UUID,
        object_id: uuid.UUID,
        expected: ExpectedVersion,
        changes: Mapping[str, Any],
    ) -> Outcome:
        values = {f"v_{c}": changes[c] for c in self.columns}
        values |= {"object_id": object_id, "expected_version": _version(expected, object_id)}
        return await _run(uow, principal, entry, self.statement, household_id, values)


class CaseRemoval:
    """Removing one case object (and what the database cascades): the same checks as ``CaseUpdate``,
    a change-feed ``delete``."""

    def __init__(self, model: type[SQLModel], *, entity: str) -> None:
        self.model, self.entity = model, entity

    @cached_property
    def statement(self) -> RawStatement:
        target = _target()
        table = table_of(self.model)
        current = _current(table)
        written = (
            sa.delete(table)
            .where(
                table.c.id == OBJECT,
                table.c.household_id == HOUSEHOLD,
                table.c.version == EXPECTED,
                _open(target),
            )
            .returning(table.c.id)
            .cte("written")
        )
        changed = _changed(written, self.entity, ChangeOp.delete)
        logged = inline_cte(outcome=_OUTCOME)
        return _answer(target, written, logged, current, changed)

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        household_id: uuid.UUID,
        object_id: uuid.UUID,
        expected: ExpectedVersion,
    ) -> Outcome:
        values = {"object_id": object_id, "expected_version": _version(expected, object_id)}
        return await _run(uow, principal, entry, self.statement, household_id, values)


def _version(expected: ExpectedVersion, object_id: uuid.UUID) -> int | None:
    """The version to write on: none (so nothing is written) unless the caller named this object."""
    named = expected.object_id is None or expected.object_id == object_id
    return expected.version if named and not expected.malformed else None


async def _run(
    uow: UnitOfWork,
    principal: Principal,
    entry: AccessEntry,
    statement: RawStatement,
    household_id: uuid.UUID,
    values: dict[str, Any],
) -> Outcome:
    if not takes_case_worker_rule(principal):  # visible_to is false for anyone else: a denial
        entry.outcome = "denied"
        return Outcome(None, False)
    values |= {"household_id": household_id, "worker_id": principal.worker_id, **entry.params()}
    found = await uow.fetch_one(statement, values)
    uow.written_by_statement(entry)
    if found["written"]:
        uow.case_written(household_id)  # for the administrative burden of this request
    entry.outcome = str(found["outcome"])
    row = found["row"] if "row" in found.keys() else None  # noqa: SIM118 - a driver record, not a dict
    version = found["version"] if "version" in found.keys() else None  # noqa: SIM118
    return Outcome(found["status"], bool(found["written"]), version, orjson.loads(row) if row else None)
