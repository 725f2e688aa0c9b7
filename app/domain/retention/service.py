"""The purge job (``wijkwerk purge``): removes or blanks what has outlived its retention term.

* Every run, dry or not, writes one ``retention_runs`` row (started, counts per category as it goes,
  outcome) and one structured log line with counts only: that is how the job logs that it did.
* One purge at a time: a session-level advisory lock; a run that finds it taken is recorded as
  ``skipped`` and does nothing. Running again is harmless (what is gone stays gone).
* Work goes in batches, each its own short transaction, so no lock is held for long. This is a job,
  not a request: unlike the request services it takes the Database and commits per batch.
* Cutoffs are fixed at the start of the run from the database clock. The outbox and idempotency keys
  are purged by their own contexts' functions, which compare with the clock of each batch.
* Closed files are deleted whole, not anonymised: see docs/privacy.md. Phones are told through the
  change feed (a household tombstone; blanked notes and removed network people as changes).
* The access log is not touched (it is append-only; its retention is the database owner's).
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
from app.domain.unit_of_work.change_feed import ChangeOp
from app.domain.unit_of_work.legacy import record_change
from app.domain.webhooks import outbox
from app.settings import Settings

log = logging.getLogger("app.retention")

Counter = Callable[[AsyncSession, datetime], Awaitable[int]]

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


async def purge(db: Database, settings: Settings, *, actor: str, dry_run: bool = False) -> RunReport:
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
        return await _run(db, settings, terms, actor)


async def _dry_run(db: Database, terms: Terms, actor: str) -> RunReport:
    async with db.transaction() as session:
        run_id = await repo.start_run(session, actor=actor, dry_run=True, terms_days=terms.as_json())
        cutoffs = terms.cutoffs(await repo.database_now(session))
        counts = {category: await COUNTERS[category](session, cutoffs[category]) for category in Category}
        await repo.update_run(session, run_id, counts=_json(counts), outcome=RunOutcome.completed)
    return _logged(RunReport(run_id, True, RunOutcome.completed, counts, terms.days))


async def _run(db: Database, settings: Settings, terms: Terms, actor: str) -> RunReport:
    async with db.transaction() as session:
        run_id = await repo.start_run(session, actor=actor, dry_run=False, terms_days=terms.as_json())
        cutoffs = terms.cutoffs(await repo.database_now(session))
    report = RunReport(run_id, False, RunOutcome.running, terms_days=terms.days)
    try:
        for category in Category:
            limit = batch_limit(category, settings.retention_batch_size)
            report.counts[category] = await _purge(db, report, category, cutoffs[category], terms, limit)
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
    db: Database, report: RunReport, category: Category, cutoff: datetime, terms: Terms, limit: int
) -> int:
    if category is Category.change_feed:
        return await _purge_change_feed(db, report, cutoff, limit)
    steps: dict[Category, Callable[[AsyncSession], Awaitable[int]]] = {
        Category.closed_households: lambda s: _delete_households(s, cutoff, limit),
        Category.network_people: lambda s: repo.delete_network_people(
            s, cutoff, limit, support_network.ENTITY
        ),
        Category.contact_notes: lambda s: repo.blank_contact_notes(s, cutoff, limit, contacts.RESOURCE),
        Category.unlinked_referrals: lambda s: repo.delete_unlinked_referrals(s, cutoff, limit),
        Category.outbox_events: lambda s: outbox.purge_finished(
            s, older_than=terms.term(Category.outbox_events), limit=limit
        ),
        Category.idempotency_keys: lambda s: idempotency.purge_expired(s, limit=limit),
        Category.client_assertions: lambda s: repo.delete_client_assertions(s, cutoff, limit),
        Category.authorization_codes: lambda s: repo.delete_authorization_codes(s, cutoff, limit),
        Category.refresh_tokens: lambda s: repo.delete_refresh_tokens(s, cutoff, limit),
    }
    return await _in_batches(db, steps[category], limit)


async def _in_batches(db: Database, step: Callable[[AsyncSession], Awaitable[int]], limit: int) -> int:
    """Repeat ``step`` (one transaction each) until a batch comes back short."""
    total = 0
    while True:
        async with db.transaction() as session:
            done = await step(session)
        total += done
        if done < limit:
            return total


async def _delete_households(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """One batch of closed files: a household tombstone in the change feed for everyone who could see
    it (so phones drop their copy), then the file itself."""
    batch = await repo.lock_closed_households(session, cutoff, limit)
    for household in batch:
        team_id, workers = await households.former_audience(session, household)
        await record_change(
            session,
            household_id=household.id,
            entity=households.RESOURCE,
            entity_id=household.id,
            op=ChangeOp.delete,
            former_team_id=team_id,
            former_worker_ids=workers,
        )
    return await repo.delete_households(session, [h.id for h in batch])


async def _purge_change_feed(db: Database, report: RunReport, cutoff: datetime, limit: int) -> int:
    """Record the horizon first (committed), then delete up to it: a phone whose cursor is at or
    below the horizon gets ``reset: true`` rather than silently missing a tombstone."""
    async with db.transaction() as session:
        horizon = await repo.change_feed_last_txid(session, cutoff)
        if horizon is None:
            return 0
        await repo.update_run(session, report.run_id, change_feed_horizon=horizon)
    report.change_feed_horizon = horizon
    return await _in_batches(db, lambda s: repo.delete_change_feed(s, cutoff, horizon, limit), limit)


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
