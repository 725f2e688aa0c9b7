"""``UnitOfWork``: one request's (or one job step's) work, committed once, with its records.

Services take the unit of work and never commit; the one who made it (the request's dependency in
``app.web``, a job, a test) commits it or fails it:

* ``session`` opens the work's session (and its transaction) on first use;
* ``log`` queues an access-log entry, ``record_change`` a change-feed row, ``publish`` runs the
  handlers wired for a domain event at once, in the transaction;
* ``fetch_one`` runs a pre-compiled raw statement (``app.db.RawStatement``): inside the transaction
  when one is open, otherwise on its own (a single statement needs no BEGIN/COMMIT: the hot reads
  answer in one round trip, writing their access-log row in the same statement);
* ``commit`` writes the queued entries and changes and commits; ``fail`` rolls back and writes every
  entry again as ``failed`` (or ``denied``), in a transaction of its own, so an attempt that changed
  nothing is still on record. Entries a standalone statement already wrote stand as they are.
* ``count_writes`` (said by the face of a worker's write request) makes ``commit`` count the
  request and the fields it carried for every household it changed, and ``close_intake`` (said by
  the service that records a household's first agreed plan) ends that household's intake count
  with this request: the administrative burden, measured as a side effect of use (``burden``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Required, TypedDict, Unpack

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, RawStatement, fetch_all, fetch_one
from app.domain.base import utcnow
from app.domain.unit_of_work import burden
from app.domain.unit_of_work.access_log import AccessEntry, AccessLogEntry, AccessOutcome, Shown, Written
from app.domain.unit_of_work.change_feed import CaseChange, ChangeRecord
from app.domain.unit_of_work.events import Event
from app.domain.unit_of_work.registries import ExportRegistry, SyncRegistry
from app.security.principal import Principal

log = logging.getLogger(__name__)

Handler = Callable[["UnitOfWork", Any], Awaitable[None]]


@dataclass(frozen=True)
class Wiring:
    """What the contexts contribute to each other, put together once by ``app.bootstrap``."""

    sync: SyncRegistry = field(default_factory=lambda: SyncRegistry(()))
    exports: ExportRegistry = field(default_factory=lambda: ExportRegistry(()))
    handlers: Mapping[type[Event], Sequence[Handler]] = field(default_factory=dict)


class EntryFields(TypedDict, total=False):
    """What an access-log entry says beyond who asked (``resource`` and ``action`` are required)."""

    resource: Required[str]
    action: Required[str]
    outcome: str
    purpose: str
    household_id: uuid.UUID | None
    person_id: uuid.UUID | None
    resource_id: uuid.UUID | None
    reason: str | None


class UnitOfWork:
    def __init__(self, database: Database, wiring: Wiring, *, request_id: str | None = None) -> None:
        self.database = database
        self.wiring = wiring
        self.request_id = request_id
        self._session: AsyncSession | None = None
        self._ended = False  # closed: committed or failed, its connection returned
        self.entries: list[AccessEntry] = []
        # What the request set out to do, for the record when it fails before logging anything: the
        # caller and the entry's fields, made into an entry only then (most requests succeed).
        self._attempt: tuple[Principal, EntryFields] | None = None
        self._changes: list[ChangeRecord] = []
        # The administrative burden (``count_writes``, ``close_intake``): households changed so far.
        self._fields_entered: int | None = None
        self._changed_households: set[uuid.UUID] = set()
        self._intake_closed: set[uuid.UUID] = set()
        self._counted_households: set[uuid.UUID] = set()  # counted by a case write's own statement

    # -- the session -------------------------------------------------------------------------------

    @property
    def session(self) -> AsyncSession:
        """The work's session; its transaction begins with its first statement. None after the work
        ended: a session opened then would never be committed or closed (a connection lost to the
        pool), so code that runs after the end (a dependency's clean-up, say) fails loudly instead."""
        if self._ended:
            raise RuntimeError("this unit of work has ended (committed or failed); it opens no session")
        if self._session is None:
            self._session = self.database.sessionmaker()
        return self._session

    def reading(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session of its own for reads that write nothing and need not see this work's writes
        (statistics): on a streaming replica when one is configured and close enough behind, else
        on the primary (``Database.reading``). Case data is never read here: its reads log."""
        return self.database.reading()

    @property
    def in_transaction(self) -> bool:
        return self._session is not None and self._session.in_transaction()

    async def begin(self) -> None:
        """Open the work's transaction now (its statements then run in it, not on their own): for a
        write of several statements that must stand or fall together."""
        await self.session.connection()

    async def fetch_one(self, statement: RawStatement, values: Mapping[str, Any]) -> Any:
        """The one row (or None) of a raw statement: in the work's transaction when one is open,
        else on its own, without a transaction."""
        if self.in_transaction:
            return await fetch_one(await self.session.connection(), statement, values)
        return await self.database.fetch_one(statement, values)

    async def fetch_all(self, statement: RawStatement, values: Mapping[str, Any]) -> list[Any]:
        """Every row of a raw statement, in the work's transaction when one is open, like ``fetch_one``."""
        if self.in_transaction:
            return await fetch_all(await self.session.connection(), statement, values)
        return await self.database.fetch_all(statement, values)

    async def read_one(self, statement: RawStatement, values: Mapping[str, Any]) -> Any:
        """The one row (or None) of a raw read that writes nothing and may lag a few seconds, as
        ``reading()``: on a replica when one is usable, else on the primary without a session."""
        return await self.database.read_one(statement, values)

    # -- what the work leaves behind -----------------------------------------------------------------

    def log(self, principal: Principal, **fields: Unpack[EntryFields]) -> AccessEntry:
        """Queue one access-log entry (outcome ``allowed`` and purpose ``casework`` unless given) and
        return it, to be amended as the work goes on (e.g. with the id of what a create made)."""
        entry = self.entry(principal, **fields)
        self.entries.append(entry)
        return entry

    def log_each(
        self, principal: Principal, shown: Sequence[Shown], **fields: Unpack[EntryFields]
    ) -> list[AccessEntry]:
        """One entry per object shown (its household, person and id), so that each household's log
        lists the answer; one entry without them when the answer showed nothing."""
        if not shown:
            return [self.log(principal, **fields)]
        entries = []
        for item in shown:
            entry = self.log(principal, **fields)
            entry.household_id, entry.person_id = item.household_id, item.person_id
            entry.resource_id = item.resource_id
            entries.append(entry)
        return entries

    @property
    def last_entry(self) -> AccessEntry:
        """The entry queued last: the one of the access check that opened this work, to complete
        with what only the work finds out (the id of what a create made, a sharper purpose)."""
        return self.entries[-1]

    def entry(self, principal: Principal, **fields: Unpack[EntryFields]) -> AccessEntry:
        """An entry of this work's caller and request, not queued yet (``log`` queues it; a statement
        that writes it inline queues it with ``written_by_statement``)."""
        return AccessEntry(
            actor_subject=principal.subject,
            actor_role=str(principal.role),
            actor_worker_id=principal.worker_id,
            client_id=principal.client_id,
            organisation_id=principal.organisation_id,
            request_id=self.request_id,
            resource=fields["resource"],
            action=str(fields["action"]),
            purpose=str(fields.get("purpose", "casework")),
            outcome=str(fields.get("outcome", AccessOutcome.allowed)),
            household_id=fields.get("household_id"),
            person_id=fields.get("person_id"),
            resource_id=fields.get("resource_id"),
            reason=fields.get("reason"),
        )

    def attempting(self, principal: Principal, **fields: Unpack[EntryFields]) -> None:
        """Note what the work sets out to do (a route of case data, before any rule or input check),
        so that an attempt that fails before its service logged anything (an invalid body, a broken
        rule, a database error) is still on record, as ``failed``. Superseded by the service's own
        entries as soon as it logs one."""
        self._attempt = (principal, fields)

    def written_by_statement(self, entry: AccessEntry) -> None:
        """``entry`` (queued with ``log`` before the statement ran, so a failed statement still leaves
        it on record) was written by a statement of this work that succeeded (``inline_sql``): in the
        transaction when one is open (it then stands or falls with it), else on its own."""
        entry.written = Written.in_transaction if self.in_transaction else Written.alone
        if entry not in self.entries:
            self.entries.append(entry)

    def discard(self, entry: AccessEntry) -> None:
        """Take back an entry queued for a statement that, as it turned out, did nothing a log entry
        should record (e.g. a write refused by a rule checked inside the statement, which then
        answers as a refusal before any statement would)."""
        self.entries.remove(entry)

    def record_change(self, change: ChangeRecord) -> None:
        """A change-feed row, written with the work (see ``change_feed``)."""
        self._changes.append(change)

    def count_writes(self, fields_entered: int) -> None:
        """This work is a worker's request that writes case data, with ``fields_entered`` fields: when
        it commits, it is counted for every household it changed (its change records)."""
        self._fields_entered = fields_entered

    def burden_params(self, household_id: uuid.UUID) -> dict[str, Any]:
        """The values of ``burden.counted_ctes`` for a one-statement case write of the household: the
        statement counts this request for it (once per work) when it writes."""
        counted = self._fields_entered is not None and household_id not in self._counted_households
        now = utcnow()
        return {
            "b_counted": counted,
            "b_month": burden.local_month(now),
            "b_fields": self._fields_entered or 0,
        }

    def counted_by_statement(self, household_id: uuid.UUID) -> None:
        """A one-statement case write counted this request's burden for the household itself
        (``burden_params`` said to): the work does not count it again."""
        self._counted_households.add(household_id)

    def close_intake(self, household_id: uuid.UUID) -> None:
        """The household agreed to its first plan in this work: its intake count ends with this work
        (which still counts)."""
        self._intake_closed.add(household_id)

    async def publish(self, event: Event) -> None:
        """Run the handlers wired for this event, now, in this work's transaction."""
        for handler in self.wiring.handlers.get(type(event), ()):
            await handler(self, event)

    # -- the end -----------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write the queued changes and access-log entries in the work's transaction (``commit`` does;
        call it earlier only when the work itself must read them back)."""
        session = self.session
        if self._changes:
            await session.execute(insert(CaseChange), [c.row() for c in self._changes])
            self._changed_households.update(c.household_id for c in self._changes)
            self._changes.clear()
        pending = [e for e in self.entries if e.written is None]
        if pending:
            await session.execute(insert(AccessLogEntry), [e.row() for e in pending])
            for entry in pending:
                entry.written = Written.in_transaction

    async def commit(self) -> None:
        if self._session is None and all(e.written is not None for e in self.entries) and not self._changes:
            # Nothing was opened (a hot read that logged itself, a one-statement case write): nothing
            # to commit; the burden of a write is then one statement on its own.
            await self._record_burden()
            return
        await self.flush()
        await self._record_burden()
        await self.session.commit()

    async def _record_burden(self) -> None:
        if self._fields_entered is None and not self._intake_closed:
            return
        now = utcnow()
        await burden.record(
            self.fetch_one,
            changed=self._changed_households - self._counted_households,
            agreed=self._intake_closed,
            fields=self._fields_entered,
            now=now,
            month=burden.local_month(now),
        )

    async def fail(self) -> None:
        """Roll back, then write every entry that did not stand on its own again, as failed (an
        allowed attempt that changed nothing) or as it was (denied), in a transaction of its own."""
        if self._session is not None:
            await self._session.rollback()
        self._changes.clear()
        self._changed_households.clear()
        self._intake_closed.clear()
        self._counted_households.clear()
        if not self.entries and self._attempt is not None:
            principal, fields = self._attempt  # the attempt failed before its service logged it
            self.entries.append(self.entry(principal, **fields))
        again = [e for e in self.entries if e.written is not Written.alone]
        if not again:
            return
        for entry in again:
            if entry.outcome == AccessOutcome.allowed:
                entry.outcome = AccessOutcome.failed
            entry.written = None
        session = self.session
        await session.execute(insert(AccessLogEntry), [e.row() for e in again])
        await session.commit()
        for entry in again:
            entry.written = Written.in_transaction

    async def close(self) -> None:
        self._ended = True
        if self._session is not None:
            await self._session.close()
            self._session = None


@asynccontextmanager
async def unit_of_work(
    database: Database, wiring: Wiring, *, request_id: str | None = None
) -> AsyncIterator[UnitOfWork]:
    """A unit of work for the block: committed when it ends, failed when it raises (its access-log
    entries then written as failed, the error raised as it was). Requests (``app.web``), jobs and
    tests all work this way."""
    uow = UnitOfWork(database, wiring, request_id=request_id)
    error: BaseException | None = None
    try:
        yield uow
    except BaseException as raised:
        error = raised
        raise
    finally:
        await finish(uow, error)


async def finish(uow: UnitOfWork, error: BaseException | None) -> None:
    """Commit ``uow`` (no error) or fail it (``error``, left to the caller to raise); a commit that
    fails fails the work too. Closed either way."""
    try:
        if error is not None:
            await _fail_quietly(uow)
            return
        try:
            await uow.commit()
        except BaseException:
            await _fail_quietly(uow)
            raise
    finally:
        await uow.close()


async def _fail_quietly(uow: UnitOfWork) -> None:
    try:
        await uow.fail()
    except Exception as failure:  # the database is gone too: the original error is what counts
        log.warning("failed work's access-log entries not written", extra={"error": type(failure).__name__})
