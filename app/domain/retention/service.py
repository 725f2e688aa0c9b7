"""The purge job (``wijkwerk purge``): removes or blanks what has outlived its retention term.

* Every run, dry or not, writes one ``retention_runs`` row (started, counts per category as it goes,
  outcome) and one structured log line with counts only: that is how the job logs that it did.
* One purge at a time: a session-level advisory lock; a run that finds it taken is recorded as
  ``skipped`` and does nothing. Running again is harmless (what is gone stays gone).
* Work goes in batches, each its own short unit of work (one transaction), so no lock is held for
  long. This is a job, not a request: it takes the Database and the wiring (from the command that
  runs it) and commits per batch.
* Cutoffs are fixed at the start of the run from the database clock. The outbox and idempotency keys
  are purged by their own contexts' functions, which compare with the clock of each batch.
* Closed files are deleted whole, not anonymised: see docs/privacy.md. Phones are told through the
  change feed, recorded with each batch's unit of work (a household tombstone; blanked notes and
  removed network people as changes).
* The access log and the change feed are partitioned by month (``unit_of_work.partitions``): their
  months wholly past the term are detached and dropped (the access log's archived instead, unless
  ``retention_access_log_archive`` is off), one DDL statement per month instead of a large DELETE.
  Change rows that sit in the default partition (partition maintenance ran late) are deleted in
  batches as before. The access log is only purged with ``retention_access_log_days`` set; otherwise
  its retention is the database owner's, and rows in its default partition are never removed (the
  log is append-only).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.domain.households import contacts
from app.domain.households import service as households
from app.domain.idempotency import repository as idempotency
from app.domain.retention import repository as repo
from app.domain.retention.models import RunOutcome
from app.domain.retention.rules import Category, Terms, batch_limit
from app.domain.support_network import sync_and_export as support_network
from app.domain.unit_of_work import partitions
from app.domain.unit_of_work.change_feed import ChangeOp, ChangeRecord
from app.domain.unit_of_work.work import UnitOfWork, Wiring, unit_of_work
from app.domain.webhooks import outbox
from app.settings import Settings

log = logging.getLogger("app.retention")

Counter = Callable[[AsyncSession, datetime], Awaitable[int]]
Step = Callable[[UnitOfWork], Awaitable[int]]  # one batch; returns how many it removed or blanked

COUNTERS: dict[Category, Counter] = {
    Category.closed_households: repo.count_closed_households,
    Category.network_people: repo.count_network_people,
    Category.contact_notes: repo.count_contact_notes,
    Category.unlinked_referrals: repo.count_unlinked_referrals,
    Category.outbox_events: repo.count_outbox_events,
    Category.idempotency_keys: repo.count_idempotency_keys,
    Category.client_assertions: repo.count_client_assertions,
    Category.authorization_codes: repo.count_authorization_codes,
    Category.refresh_tokens: repo.count_refresh_tokens,
    Category.access_log: repo.count_access_log_months,
    Category.change_feed: repo.count_change_feed,
}


@dataclass
class RunReport:
    run_id: uuid.UUID
    dry_run: bool
    outcome: RunOutcome
    counts: dict[Category, int] = field(default_factory=dict)
    terms_days: dict[Category, int] = field(default_factory=dict)
    change_feed_horizon: int | None = None


async def purge(
    db: Database, settings: Settings, wiring: Wiring, *, actor: str, dry_run: bool = False
) -> RunReport:
    """One purge run (or, with ``dry_run``, what one would remove now, changing nothing else)."""
    terms = Terms.from_settings(settings)
    if dry_run:
        return await _dry_run(db, terms, actor)
    async with repo.advisory_lock(db.engine) as held:
        if not held:
            async with db.transaction() as session:
                run_id = await repo.start_run(
                    session,
                    actor=actor,
                    dry_run=False,
                    terms_days=terms.as_json(),
                    outcome=RunOutcome.skipped,
                )
            return _logged(RunReport(run_id, False, RunOutcome.skipped, terms_days=terms.days))
        return await _run(Batches(db, wiring), settings, terms, actor)


async def _dry_run(db: Database, terms: Terms, actor: str) -> RunReport:
    async with db.transaction() as session:
        run_id = await repo.start_run(session, actor=actor, dry_run=True, terms_days=terms.as_json())
        cutoffs = terms.cutoffs(await repo.database_now(session))
        counts = {
            category: await COUNTERS[category](session, cutoffs[category])
            for category in Category
            if category not in terms.kept
        }
        await repo.update_run(session, run_id, counts=_json(counts), outcome=RunOutcome.completed)
    return _logged(RunReport(run_id, True, RunOutcome.completed, counts, terms.days))


@dataclass(frozen=True)
class Batches:
    """Where the purge's batches run: each in a unit of work of its own on ``db``."""

    db: Database
    wiring: Wiring

    async def repeat(self, step: Step, limit: int) -> int:
        """Repeat ``step`` (one unit of work each) until a batch comes back short."""
        total = 0
        while True:
            async with unit_of_work(self.db, self.wiring) as uow:
                done = await step(uow)
            total += done
            if done < limit:
                return total


async def _run(batches: Batches, settings: Settings, terms: Terms, actor: str) -> RunReport:
    db = batches.db
    async with db.transaction() as session:
        run_id = await repo.start_run(session, actor=actor, dry_run=False, terms_days=terms.as_json())
        cutoffs = terms.cutoffs(await repo.database_now(session))
    report = RunReport(run_id, False, RunOutcome.running, terms_days=terms.days)
    try:
        for category in Category:
            if category in terms.kept:
                continue
            limit = batch_limit(category, settings.retention_batch_size)
            report.counts[category] = await _purge(batches, report, category, cutoffs[category], terms, limit)
            async with db.transaction() as session:
                await repo.update_run(session, run_id, counts=_json(report.counts))
    except Exception as error:
        report.outcome = RunOutcome.failed
        async with db.transaction() as session:
            await repo.update_run(session, run_id, outcome=report.outcome, error=type(error).__name__)
        _logged(report)
        raise
    report.outcome = RunOutcome.completed
    async with db.transaction() as session:
        await repo.update_run(session, run_id, outcome=report.outcome)
    return _logged(report)


async def _purge(
    batches: Batches, report: RunReport, category: Category, cutoff: datetime, terms: Terms, limit: int
) -> int:
    if category is Category.change_feed:
        return await _purge_change_feed(batches, report, cutoff, limit)
    if category is Category.access_log:
        async with batches.db.transaction() as session:
            months = await partitions.remove_before(
                session, partitions.ACCESS_LOG, cutoff, archive=terms.archive_access_log
            )
        return sum(months.values())
    steps: dict[Category, Step] = {
        Category.closed_households: lambda uow: _delete_households(uow, cutoff, limit),
        Category.network_people: lambda uow: _delete_network_people(uow, cutoff, limit),
        Category.contact_notes: lambda uow: _blank_contact_notes(uow, cutoff, limit),
        Category.unlinked_referrals: lambda uow: repo.delete_unlinked_referrals(uow.session, cutoff, limit),
        Category.outbox_events: lambda uow: outbox.purge_finished(
            uow.session, older_than=terms.term(Category.outbox_events), limit=limit
        ),
        Category.idempotency_keys: lambda uow: idempotency.purge_expired(uow.session, limit=limit),
        Category.client_assertions: lambda uow: repo.delete_client_assertions(uow.session, cutoff, limit),
        Category.authorization_codes: lambda uow: repo.delete_authorization_codes(uow.session, cutoff, limit),
        Category.refresh_tokens: lambda uow: repo.delete_refresh_tokens(uow.session, cutoff, limit),
    }
    return await batches.repeat(steps[category], limit)


async def _delete_households(uow: UnitOfWork, cutoff: datetime, limit: int) -> int:
    """One batch of closed files: a household tombstone in the change feed for everyone who could see
    it (so phones drop their copy), then the file itself."""
    batch = await repo.lock_closed_households(uow.session, cutoff, limit)
    for household in batch:
        team_id, workers = await households.former_audience(uow.session, household)
        uow.record_change(
            ChangeRecord(household.id, households.RESOURCE, household.id, ChangeOp.delete, team_id, workers)
        )
    return await repo.delete_households(uow.session, [h.id for h in batch])


async def _delete_network_people(uow: UnitOfWork, cutoff: datetime, limit: int) -> int:
    """One batch of the network people of closed files, each a deletion in the change feed."""
    gone = await repo.delete_network_people(uow.session, cutoff, limit)
    for person_id, household_id in gone:
        uow.record_change(ChangeRecord(household_id, support_network.ENTITY, person_id, ChangeOp.delete))
    return len(gone)


async def _blank_contact_notes(uow: UnitOfWork, cutoff: datetime, limit: int) -> int:
    """One batch of contact notes past their term, blanked; each contact a change in the feed."""
    blanked = await repo.blank_contact_notes(uow.session, cutoff, limit)
    for contact_id, household_id in blanked:
        uow.record_change(ChangeRecord(household_id, contacts.RESOURCE, contact_id, ChangeOp.upsert))
    return len(blanked)


async def _purge_change_feed(batches: Batches, report: RunReport, cutoff: datetime, limit: int) -> int:
    """Record the horizon first (committed), then remove up to it: a phone whose cursor is at or
    below the horizon gets ``reset: true`` rather than silently missing a tombstone. The months
    before the cutoff (a month start) are dropped whole; what is left before it can only be in the
    default partition, deleted in batches."""
    async with batches.db.transaction() as session:
        horizon = await repo.change_feed_last_txid(session, cutoff)
        if horizon is not None:
            await repo.update_run(session, report.run_id, change_feed_horizon=horizon)
    report.change_feed_horizon = horizon
    async with batches.db.transaction() as session:
        months = await partitions.remove_before(session, partitions.CHANGE_FEED, cutoff)
    if horizon is None:  # the months removed were empty
        return 0

    async def step(uow: UnitOfWork) -> int:
        return await repo.delete_change_feed(uow.session, cutoff, horizon, limit)

    return sum(months.values()) + await batches.repeat(step, limit)


def _json(counts: dict[Category, int]) -> dict[str, int]:
    return {str(category): n for category, n in counts.items()}


def _logged(report: RunReport) -> RunReport:
    """One structured line: ids, outcome and counts only (nothing about any person)."""
    log.info(
        "retention purge",
        extra={
            "run_id": str(report.run_id),
            "dry_run": report.dry_run,
            "outcome": str(report.outcome),
            "counts": _json(report.counts),
        },
    )
    return report
