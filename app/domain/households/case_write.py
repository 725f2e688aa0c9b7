"""Case writes in one statement: the way every case object of a household is created, changed and
removed (contact moments, members, assessments, plans and their goals and actions, the network map,
consents).

One statement checks that the caller may see the household (``visible_to``, the worker a parameter;
or, for the few writes a household member makes themself, the member's own rule of self-service,
``households.access.HOUSEHOLD_MEMBER_RULE``, which lets them change only objects that name them)
and that its file is open, writes the object (and the rows that hang from it), its change-feed row
and its access-log entry with the right outcome (allowed, failed for a closed file or a broken rule,
denied for a household the caller may not see); a change also checks the version the caller edited.
Outside a transaction it is one round trip; inside the request's transaction (an Idempotency-Key
was claimed first, or the service opened it with ``uow.begin()`` because event handlers must run
with the write) it takes its place there. The statement is compiled once per kind of write and
access rule (``app.db.RawStatement``): no ORM unit of work, no expression built per request.

What else a kind of write needs from the database is said once, as SQL the statement evaluates
*after* the access check, so that a caller who may not see the household learns nothing of it:

* ``checks``: named facts the write requires (the member is of this household; each scored life
  domain is active, as an array of booleans, one per item sent). The write happens only when all
  hold; the answer says which did not, and the service turns those into the field errors or
  conflicts it always answered.
* ``conditions``: named conditions on the changed object's own row (a consent not yet withdrawn),
  checked on the row as it is written, so a concurrent change is seen; answered like checks.
* ``reads``: named values the answer needs (the database's date, the scores in the configured order).
* ``within``: the aggregate the object is part of when that is not the household itself (a plan
  version for its goals and actions): locked, its own conditions checked on it, its version counted
  up; it is what the change feed names.
* ``valid`` (a parameter of ``run``): the rules the service checked in Python before the statement
  (a date in the future, a domain scored twice). When one broke, the statement writes nothing but
  still says what it found, so the refusals keep their order: 404, then 409 or 412, then 422.

What a write may not do is told by what it found (``case_outcome.Outcome``): the service turns a
missing household into 404, a closed file into the same 409 as ``rules.ensure_open``, a stale
version into 412 and failed checks into its own answers; the access-log entry already says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, TypedDict, Unpack

import orjson
import sqlalchemy as sa
from sqlmodel import SQLModel

from app.db import RawStatement
from app.domain.base import table_of, utcnow
from app.domain.concurrency import ExpectedVersion
from app.domain.households.access import (
    CASE_WORKER_RULE,
    HOUSEHOLD_MEMBER,
    HOUSEHOLD_MEMBER_RULE,
    StatementRule,
)
from app.domain.households.case_outcome import Outcome
from app.domain.households.case_sql import (
    EXPECTED,
    HOUSEHOLD,
    OBJECT,
    OUTCOME,
    TOUCHED,
    VALID,
    Child,
    Within,
    change_row,
    child_rows,
    constant,
    constant_int,
    holds,
    locked_parent,
    open_file,
    parent_here,
    scope,
    target_cte,
    visible,
)
from app.domain.unit_of_work import burden
from app.domain.unit_of_work.access_log import AccessEntry, AccessOutcome, inline_cte
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.work import UnitOfWork
from app.security.principal import Principal


class Options(TypedDict, total=False):
    """What a kind of write needs beyond its object (see the module's text)."""

    checks: Mapping[str, Any]
    reads: Mapping[str, Any]
    within: Within
    open_file: bool  # False: the write is allowed in a closed file too (consents)
    # The column naming the member an object is of: household members may make this write too, on
    # objects that name them only (their own consent; a row they add names them).
    members_own: str


class _CaseWrite:
    """What every kind of case write shares: the access check (CTE ``target``), the named checks
    and reads (``facts``), the aggregate (``parent``), what a write needs, the change-feed row, the
    access-log entry and the answer. A subclass writes the object."""

    op = ChangeOp.upsert
    answers_row = False
    versioned = False
    changes_an_object = False  # a change or removal: the answer says whether the object was found

    def __init__(
        self,
        model: type[SQLModel],
        *,
        entity: str,
        conditions: Mapping[str, Any] | None = None,
        **options: Unpack[Options],
    ) -> None:
        self.model, self.entity = model, entity
        self.conditions = dict(conditions or {})
        self.checks, self.reads = dict(options.get("checks", {})), dict(options.get("reads", {}))
        self.within, self.open_file = options.get("within"), options.get("open_file", True)
        self.owner = options.get("members_own")
        self.rules = (CASE_WORKER_RULE, HOUSEHOLD_MEMBER_RULE) if self.owner else (CASE_WORKER_RULE,)
        self._statements: dict[str, RawStatement] = {}

    def rule_for(self, principal: Principal) -> StatementRule | None:
        """The access rule this write takes for the caller (None: it may not make it, a denial)."""
        return next((rule for rule in self.rules if rule.applies(principal)), None)

    def _owner(self, rule: StatementRule) -> str | None:
        return self.owner if rule.own_objects else None

    # -- the SQL -------------------------------------------------------------------------------------

    def _written(self, allowed: Any, rule: StatementRule) -> tuple[Any, list[Any]]:
        """The CTE ``written`` (the object's rows it wrote) and the CTEs that go with it."""
        raise NotImplementedError

    def _current(self, target: Any, rule: StatementRule, *, lock: bool = False) -> Any:
        """The object as it is before a change or removal: its id, version and conditions."""
        table = table_of(self.model)
        found = [table.c.id, table.c.version] if self.versioned else [table.c.id]
        found += [sql.label(name) for name, sql in self.conditions.items()]
        current = sa.select(*found).where(table.c.id == OBJECT, scope(table, self.within, self._owner(rule)))
        if lock:  # only in a visible household: a caller who may not see it locks nothing
            current = current.where(visible(target)).with_for_update(of=table)
        return current.cte("current")

    def _object_where(self, allowed: Any, rule: StatementRule) -> list[Any]:
        """Which row a change or removal writes: this object, of this household (and of the caller,
        for a rule of their own objects), at the version the caller edited, its conditions holding,
        and whatever else the write needs."""
        table = table_of(self.model)
        owned = scope(table, self.within, self._owner(rule))
        where = [table.c.id == OBJECT, owned, *self.conditions.values(), allowed]
        return [*where, table.c.version == EXPECTED] if self.versioned else where

    def _facts(self, target: Any) -> Any:
        """The CTE ``facts``: the checks and reads, evaluated once the household is visible (no row
        otherwise: nothing is looked at for a caller who may not see it)."""
        named = {**self.checks, **self.reads}
        if not named:
            return None
        return sa.select(*(sql.label(name) for name, sql in named.items())).select_from(target).cte("facts")

    def _allowed(self, target: Any, facts: Any, parent: Any) -> Any:
        """What the write needs: the household visible (and its file open), the service's own rules
        kept, the aggregate there with its conditions holding, every check holding."""
        needs = [VALID, open_file(target) if self.open_file else visible(target)]
        if parent is not None:
            holding = [parent.c[name] for name in self.within.conditions] if self.within else []
            needs.append(sa.exists(sa.select(parent.c.id).where(*holding)))
        if self.checks:
            passed = [holds(facts.c[name], sql) for name, sql in self.checks.items()]
            needs.append(sa.exists(sa.select(facts.c[next(iter(self.checks))]).where(*passed)))
        return sa.and_(*needs)

    def _answer(self, target: Any, facts: Any, current: Any, parent: Any, **found: Any) -> sa.Select[Any]:
        """The one row a case statement answers: the household's status, ``found`` (what the
        statement did), the object and the aggregate as found, and the named facts as JSON."""
        columns = [sa.select(target.c.status).scalar_subquery().label("status")]
        columns += [sql.label(name) for name, sql in found.items()]
        if current is not None:
            columns.append(sa.exists(sa.select(current.c.id)).label("found"))
            if self.versioned:
                columns.append(sa.select(current.c.version).scalar_subquery().label("version"))
        if parent is not None:
            columns.append(sa.exists(sa.select(parent.c.id)).label("parent"))
        named = [(facts, name) for name in {**self.checks, **self.reads}]
        named += [(current, name) for name in self.conditions]
        named += [(parent, name) for name in (self.within.conditions if self.within else {})]
        if named:  # each on its own: NULL where its CTE found no row
            values = [sa.select(cte.c[name]).scalar_subquery() for cte, name in named]
            pairs = [
                part
                for (_, name), value in zip(named, values, strict=True)
                for part in (constant(name), value)
            ]
            columns.append(sa.func.json_build_object(*pairs).label("facts"))
        return sa.select(*columns)

    @property
    def statement(self) -> RawStatement:
        """The statement of a case worker's write."""
        return self.statement_for(CASE_WORKER_RULE)

    def statement_for(self, rule: StatementRule) -> RawStatement:
        """The statement of a write by a caller of ``rule``, compiled on first use."""
        if rule.name not in self._statements:
            self._statements[rule.name] = self._compile(rule)
        return self._statements[rule.name]

    def _compile(self, rule: StatementRule) -> RawStatement:
        target = target_cte(rule)
        facts = self._facts(target)
        parent = locked_parent(self.within, target) if self.within else None
        current = self._current(target, rule) if self.changes_an_object else None
        written, with_it = self._written(self._allowed(target, facts, parent), rule)
        if self.within is None or parent is None:
            changed = [change_row(written, self.entity, self.op)]
        else:  # the aggregate changed: its version counts up, the phones reload it as a whole
            table = table_of(self.within.model)
            bumped = (
                sa.update(table)
                .where(table.c.id.in_(sa.select(parent.c.id)), sa.exists(sa.select(written.c.id)))
                .values(version=table.c.version + constant_int(1), updated_at=TOUCHED)
                .returning(table.c.id)
                .cte("bumped")
            )
            changed = [bumped, change_row(bumped, self.entity, ChangeOp.upsert)]
        logged = inline_cte(outcome=OUTCOME)
        counted = burden.counted_ctes(written, HOUSEHOLD)
        found = {
            "written": sa.exists(sa.select(written.c.id)),
            "outcome": sa.select(logged.c.outcome).scalar_subquery(),
        }
        if self.answers_row:  # the row as written, as JSON text (timestamps as PostgreSQL writes them)
            found["row"] = sa.select(sa.func.row_to_json(written.table_valued())).scalar_subquery()
        statement = self._answer(target, facts, current, parent, **found)
        for cte in (target, facts, parent, current, written, *with_it, *changed, logged, *counted):
            if cte is not None:
                statement = statement.add_cte(cte)
        return RawStatement.of(statement)

    # -- running it ----------------------------------------------------------------------------------

    async def _run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        household_id: uuid.UUID,
        values: dict[str, Any],
        *,
        valid: bool,
        parent_id: uuid.UUID | None,
        params: Mapping[str, Any] | None,
    ) -> Outcome:
        rule = self.rule_for(principal)
        if rule is None:  # no household is visible to anyone else: a denial
            entry.outcome = AccessOutcome.denied
            return Outcome(None, False)
        values |= {"household_id": household_id, **rule.values(principal), "valid": valid}
        values |= {"parent_id": parent_id, "touched_at": utcnow(), **(params or {}), **entry.params()}
        values |= uow.burden_params(household_id)
        found = await uow.fetch_one(self.statement_for(rule), values)
        uow.written_by_statement(entry)
        if found["written"] and values["b_counted"]:  # this request's burden: counted by the statement
            uow.counted_by_statement(household_id)
        entry.outcome = str(found["outcome"])
        return self._outcome(found, row=self.answers_row, hidden=rule.hidden)

    def _outcome(self, found: Any, *, row: bool = False, hidden: str = "household") -> Outcome:
        checks = [*self.checks, *self.conditions, *(self.within.conditions if self.within else ())]
        facts = _json(found["facts"]) if checks or self.reads else {}
        return Outcome(
            found["status"],
            bool(found["written"]),
            found=bool(found["found"]) if self.changes_an_object else False,
            found_version=found["version"] if self.changes_an_object and self.versioned else None,
            row=_json(found["row"]) if row and found["row"] else None,
            checks={name: facts[name] for name in checks},
            reads={name: facts[name] for name in self.reads},
            missing_parent=self.within.what if self.within and not found["parent"] else None,
            open_file_needed=self.open_file,
            hidden=hidden,
        )


class CaseInsert(_CaseWrite):
    """Creating one kind of case object: ``model``'s row from ``columns`` (bound as ``v_<column>``)
    and ``computed`` (column: SQL of the statement's own, e.g. the next position), its ``children``,
    its change-feed row (``entity``) and the access-log entry; with ``row``, the answer carries the
    row as written (for what the database fills in)."""

    def __init__(
        self,
        model: type[SQLModel],
        columns: Sequence[str],
        *,
        entity: str,
        children: Sequence[Child] = (),
        computed: Mapping[str, Any] | None = None,
        row: bool = False,
        **options: Unpack[Options],
    ) -> None:
        super().__init__(model, entity=entity, **options)
        self.columns, self.children = tuple(columns), tuple(children)
        self.computed, self.answers_row = dict(computed or {}), row

    def _written(self, allowed: Any, rule: StatementRule) -> tuple[Any, list[Any]]:
        table = table_of(self.model)
        owner = self._owner(rule)
        if owner is not None:  # the row a member adds names them
            allowed = sa.and_(
                allowed, sa.bindparam(f"v_{owner}", type_=table.c[owner].type) == HOUSEHOLD_MEMBER
            )
        values = [sa.bindparam(f"v_{c}", type_=table.c[c].type) for c in self.columns]
        values += [sql.label(c) for c, sql in self.computed.items()]
        returning = [*table.c] if self.answers_row else [table.c.id]
        written = (
            sa.insert(table)
            .from_select(
                [*self.columns, *self.computed], sa.select(*values).where(allowed), include_defaults=False
            )
            .returning(*returning)
            .cte("written")
        )
        return written, child_rows(self.children, written, replace=False)

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        row: Mapping[str, Any],
        children: Sequence[Mapping[str, Sequence[Any]]] = (),
        *,
        household_id: uuid.UUID | None = None,
        valid: bool = True,
        parent_id: uuid.UUID | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Write ``row`` (and the ``children`` arrays, one mapping per ``Child``) for the household in
        ``row["household_id"]`` (or ``household_id``, for an object of an aggregate); ``entry``
        (queued with ``uow.log``) is written by the statement. ``params`` binds what the checks, reads
        and computed columns name beyond the row."""
        values = {f"v_{c}": row[c] for c in self.columns} | _child_values(self.children, children)
        return await self._run(
            uow,
            principal,
            entry,
            household_id if household_id is not None else row["household_id"],
            values,
            valid=valid,
            parent_id=parent_id,
            params=params,
        )


class CaseUpdate(_CaseWrite):
    """Changing one kind of case object in place (``columns`` bound as ``v_<column>``, ``computed``
    as SQL, the version counted up): written only in the household, only in its open file, only with
    its ``conditions`` holding, and only when the version the caller edited (``expected_version``) is
    the current one (``versioned=False``: an object without versions, e.g. a consent). ``children``
    replace the object's child rows. Answers the row as written."""

    answers_row = True
    changes_an_object = True

    def __init__(
        self,
        model: type[SQLModel],
        columns: Sequence[str],
        *,
        entity: str,
        children: Sequence[Child] = (),
        computed: Mapping[str, Any] | None = None,
        conditions: Mapping[str, Any] | None = None,
        versioned: bool = True,
        **options: Unpack[Options],
    ) -> None:
        super().__init__(model, entity=entity, conditions=conditions, **options)
        self.columns, self.children = tuple(columns), tuple(children)
        self.computed, self.versioned = dict(computed or {}), versioned

    def _written(self, allowed: Any, rule: StatementRule) -> tuple[Any, list[Any]]:
        table = table_of(self.model)
        values: dict[str, Any] = {c: sa.bindparam(f"v_{c}", type_=table.c[c].type) for c in self.columns}
        values |= self.computed
        if self.versioned:
            values["version"] = table.c.version + constant_int(1)
        update = sa.update(table).where(*self._object_where(allowed, rule)).values(values)
        written = update.returning(*table.c).cte("written")
        return written, child_rows(self.children, written, replace=True)

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        household_id: uuid.UUID,
        object_id: uuid.UUID,
        expected: ExpectedVersion | None,
        changes: Mapping[str, Any],
        children: Sequence[Mapping[str, Sequence[Any]]] = (),
        *,
        valid: bool = True,
        parent_id: uuid.UUID | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Outcome:
        values = {f"v_{c}": changes[c] for c in self.columns} | _child_values(self.children, children)
        values |= {"object_id": object_id, "expected_version": _version(expected, object_id)}
        return await self._run(
            uow, principal, entry, household_id, values, valid=valid, parent_id=parent_id, params=params
        )


class CaseRemoval(_CaseWrite):
    """Removing one case object (and what the database cascades): the same checks as ``CaseUpdate``,
    a change-feed ``delete`` (with ``within``: an ``upsert`` of the aggregate)."""

    op = ChangeOp.delete
    versioned = True
    changes_an_object = True

    def __init__(
        self,
        model: type[SQLModel],
        *,
        entity: str,
        conditions: Mapping[str, Any] | None = None,
        **options: Unpack[Options],
    ) -> None:
        super().__init__(model, entity=entity, conditions=conditions, **options)

    def _written(self, allowed: Any, rule: StatementRule) -> tuple[Any, list[Any]]:
        table = table_of(self.model)
        where = self._object_where(allowed, rule)
        written = sa.delete(table).where(*where).returning(table.c.id).cte("written")
        return written, []

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        household_id: uuid.UUID,
        object_id: uuid.UUID,
        expected: ExpectedVersion,
        *,
        valid: bool = True,
        parent_id: uuid.UUID | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Outcome:
        values = {"object_id": object_id, "expected_version": _version(expected, object_id)}
        return await self._run(
            uow, principal, entry, household_id, values, valid=valid, parent_id=parent_id, params=params
        )

    @cached_property
    def lock_statement(self) -> RawStatement:
        """A case worker's lock (no removal is a household member's)."""
        rule = CASE_WORKER_RULE
        target = target_cte(rule)
        facts = self._facts(target)
        parent = locked_parent(self.within, target) if self.within else None
        current = self._current(target, rule, lock=True)
        as_it_stands = sa.select(current.c.id).where(current.c.version == EXPECTED, *self.conditions.values())
        may = sa.and_(self._allowed(target, facts, parent), sa.exists(as_it_stands))
        statement = self._answer(target, facts, current, parent, written=may)
        for cte in (target, facts, parent, current):
            if cte is not None:
                statement = statement.add_cte(cte)
        return RawStatement.of(statement)

    async def lock(
        self,
        uow: UnitOfWork,
        principal: Principal,
        entry: AccessEntry,
        household_id: uuid.UUID,
        object_id: uuid.UUID,
        expected: ExpectedVersion,
        *,
        parent_id: uuid.UUID | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """For a removal that others must hear of first (handlers that may refuse), in the work's
        transaction (``uow.begin()``) before ``run``: the object locked, and what the removal would
        find (``written``: it may go ahead), written nowhere. ``entry`` is marked denied for a
        household the caller may not see, so that the work's failure logs it as such."""
        if not CASE_WORKER_RULE.applies(principal):
            entry.outcome = AccessOutcome.denied
            return Outcome(None, False)
        values: dict[str, Any] = {"household_id": household_id, "worker_id": principal.worker_id}
        values |= {"valid": True, "object_id": object_id, "expected_version": _version(expected, object_id)}
        found = await uow.fetch_one(self.lock_statement, values | {"parent_id": parent_id, **(params or {})})
        if found["status"] is None:
            entry.outcome = AccessOutcome.denied
        return self._outcome(found)


class CaseRead:
    """The object's row as it is now, for a change whose values depend on it (a new performer of a
    plan action drops the links it does not restate): one statement, nothing written or logged (the
    change that follows checks access again, on the version read, and logs), no row for a household
    the caller may not see."""

    def __init__(self, model: type[SQLModel], *, within: Within | None = None) -> None:
        self.model, self.within = model, within

    @cached_property
    def statement(self) -> RawStatement:
        target = target_cte(CASE_WORKER_RULE)
        table = table_of(self.model)
        where = [table.c.id == OBJECT, scope(table, self.within), visible(target)]
        if self.within is not None:
            where.append(parent_here(self.within))
        row = sa.select(sa.func.row_to_json(table.table_valued())).where(*where).scalar_subquery()
        return RawStatement.of(sa.select(row.label("row")).add_cte(target))

    async def run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        household_id: uuid.UUID,
        object_id: uuid.UUID,
        *,
        parent_id: uuid.UUID | None = None,
    ) -> dict[str, Any] | None:
        if not CASE_WORKER_RULE.applies(principal):
            return None
        values = {"household_id": household_id, "worker_id": principal.worker_id, "object_id": object_id}
        found = await uow.fetch_one(self.statement, values | {"parent_id": parent_id})
        return _json(found["row"]) if found["row"] else None


def _json(value: Any) -> Any:
    """A JSON value of the answer: text from the statements' own pool, decoded already when it ran in
    the work's transaction (SQLAlchemy's driver connection decodes JSON)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _child_values(
    children: Sequence[Child], sent: Sequence[Mapping[str, Sequence[Any]]]
) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for index, (child, arrays) in enumerate(zip(children, sent, strict=True)):
        values |= {f"c{index}_{c}": list(arrays[c]) for c in child.columns}
    return values


def _version(expected: ExpectedVersion | None, object_id: uuid.UUID) -> int | None:
    """The version to write on: none (so nothing is written) unless the caller named this object."""
    if expected is None:
        return None
    named = expected.object_id is None or expected.object_id == object_id
    return expected.version if named and not expected.malformed else None
