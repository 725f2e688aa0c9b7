"""The run itself: recorded every time, dry runs change nothing, one purge at a time, nothing personal
in the log, the access log untouched, and the record of a run cannot be deleted."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, select

from app.domain.households.models import Household
from app.domain.idempotency.models import IdempotencyKey
from app.domain.identity.models import RefreshToken
from app.domain.plans.models import Plan, PlanAction
from app.domain.referrals.models import Referral
from app.domain.retention.models import RetentionRun, RunOutcome
from app.domain.retention.repository import LOCK_KEY
from app.domain.retention.rules import Category
from app.domain.retention.service import RunReport, purge
from app.domain.support_network.models import NetworkPerson
from app.domain.unit_of_work.access_log import AccessLogEntry
from app.domain.webhooks.models import WebhookEvent
from tests.retention.support import MARGIN, Estate

# Their rows expire on their own (codes after a minute, sign-ins after a day or when revoked), so other
# tests' leftovers may join any count.
VOLATILE = {Category.authorization_codes, Category.client_assertions, Category.refresh_tokens}


async def stored_run(estate: Estate, run_id: uuid.UUID) -> RetentionRun:
    async with estate.db.transaction() as session:
        return (
            await session.execute(select(RetentionRun).where(col(RetentionRun.id) == run_id))
        ).scalar_one()


async def one_of_each(estate: Estate) -> dict[str, uuid.UUID | str]:
    """One row just past its term in every category but the change feed (tested with sync)."""
    now = await estate.now()
    closed = await estate.close(
        await estate.household(), await estate.cutoff(Category.closed_households) - MARGIN
    )
    closed_a_while = await estate.close(
        await estate.household(), await estate.cutoff(Category.network_people) - MARGIN
    )
    return {
        "household": closed,
        "person": await estate.network_person(closed_a_while),
        "contact": await estate.contact(
            closed_a_while, await estate.cutoff(Category.contact_notes) - MARGIN, "x"
        ),
        "referral": await estate.unlinked_referral(
            "cancelled", await estate.cutoff(Category.unlinked_referrals) - MARGIN
        ),
        "event": await estate.outbox_event(await estate.cutoff(Category.outbox_events) - MARGIN, "succeeded"),
        "key": await estate.idempotency_key(now - MARGIN),
        "jti": await estate.client_assertion(now - MARGIN),
        "code": await estate.authorization_code(now - MARGIN),
        "refresh": await estate.refresh_token(now - MARGIN),
    }


def exact(report: RunReport) -> dict[Category, int]:
    return {c: n for c, n in report.counts.items() if c not in VOLATILE}


async def test_a_dry_run_counts_and_changes_nothing(estate: Estate) -> None:
    await purge(estate.db, estate.settings, estate.wiring, actor="test")  # start from nothing due
    rows = await one_of_each(estate)

    dry = await purge(estate.db, estate.settings, estate.wiring, actor="test", dry_run=True)
    assert dry.dry_run and dry.outcome is RunOutcome.completed
    assert exact(dry) == {
        Category.closed_households: 1,
        Category.network_people: 1,
        Category.contact_notes: 1,
        Category.unlinked_referrals: 1,
        Category.outbox_events: 1,
        Category.idempotency_keys: 1,
        Category.change_feed: 0,
    }
    assert all(dry.counts[c] >= 1 for c in VOLATILE)
    assert await estate.exists(Household, rows["household"])
    assert await estate.exists(NetworkPerson, rows["person"])
    assert await estate.note_of(uuid.UUID(str(rows["contact"]))) == ("x", 45)
    assert await estate.exists(WebhookEvent, rows["event"])
    assert await estate.count(IdempotencyKey, col(IdempotencyKey.key) == rows["key"]) == 1
    assert await estate.exists(RefreshToken, rows["refresh"])
    stored = await stored_run(estate, dry.run_id)
    assert stored.dry_run and stored.outcome == "completed" and stored.change_feed_horizon is None
    assert stored.counts == {str(c): n for c, n in dry.counts.items()}

    real = await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert exact(real) == exact(dry)  # the dry run told the truth
    assert not await estate.exists(Household, rows["household"])
    assert not await estate.exists(RefreshToken, rows["refresh"])
    # Idempotent: nothing left to do.
    again = await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert set(exact(again).values()) == {0}


async def test_every_run_is_recorded_and_logged_without_personal_data(
    estate: Estate, caplog: pytest.LogCaptureFixture
) -> None:
    home = await estate.household()
    contact = await estate.contact(home.id, await estate.cutoff(Category.contact_notes) - MARGIN, "Geheim")
    with caplog.at_level(logging.INFO, logger="app.retention"):
        report = await purge(estate.db, estate.settings, estate.wiring, actor="cli:ops")
    assert await estate.note_of(contact) == (None, 45)

    stored = await stored_run(estate, report.run_id)
    assert (stored.actor, stored.dry_run, stored.outcome) == ("cli:ops", False, "completed")
    assert stored.finished_at is not None and stored.finished_at >= stored.started_at
    assert stored.counts == {str(c): n for c, n in report.counts.items()}
    assert stored.counts[Category.contact_notes] >= 1
    assert stored.terms_days[Category.closed_households] == estate.settings.retention_closed_household_days

    [record] = [r for r in caplog.records if r.name == "app.retention"]
    line = json.dumps({k: str(v) for k, v in record.__dict__.items()})
    assert record.__dict__["run_id"] == str(report.run_id) and record.__dict__["counts"] == stored.counts
    assert "Geheim" not in line and str(home.id) not in line and str(contact) not in line


async def test_the_access_log_is_untouched(estate: Estate) -> None:
    doomed = await estate.full_file()  # its API calls wrote access-log rows for the household
    await estate.close(doomed["home"], await estate.cutoff(Category.closed_households) - MARGIN)
    household = col(AccessLogEntry.household_id) == doomed["home"].id
    before_all, before_file = (
        await estate.count(AccessLogEntry),
        await estate.count(AccessLogEntry, household),
    )
    assert before_file > 0

    await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert not await estate.exists(Household, doomed["home"].id)
    # The purge neither removes the file's access history nor writes to the log itself.
    assert await estate.count(AccessLogEntry) == before_all
    assert await estate.count(AccessLogEntry, household) == before_file


async def test_one_purge_at_a_time(estate: Estate) -> None:
    closed = await estate.close(
        await estate.household(), await estate.cutoff(Category.closed_households) - MARGIN
    )
    async with estate.db.engine.connect() as other:  # another purge holds the lock
        other = await other.execution_options(isolation_level="AUTOCOMMIT")
        await other.execute(sa.select(sa.func.pg_advisory_lock(LOCK_KEY)))
        try:
            skipped = await purge(estate.db, estate.settings, estate.wiring, actor="test")
        finally:
            await other.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
    assert skipped.outcome is RunOutcome.skipped and skipped.counts == {}
    assert await estate.exists(Household, closed)
    stored = await stored_run(estate, skipped.run_id)
    assert stored.outcome == "skipped" and stored.finished_at is not None

    done = await purge(estate.db, estate.settings, estate.wiring, actor="test")  # the lock was given back
    assert done.outcome is RunOutcome.completed
    assert not await estate.exists(Household, closed)


async def test_the_record_of_a_run_cannot_be_deleted(estate: Estate) -> None:
    report = await purge(estate.db, estate.settings, estate.wiring, actor="test", dry_run=True)
    with pytest.raises(DBAPIError, match="append-only"):
        async with estate.db.transaction() as session:
            await session.execute(sa.delete(RetentionRun).where(col(RetentionRun.id) == report.run_id))
    assert await estate.exists(RetentionRun, report.run_id)


async def test_a_failing_run_is_recorded_and_leaves_its_batch_whole(estate: Estate) -> None:
    """A referral of the doomed file that another file's plan action points at (inconsistent data no
    route makes) blocks the deletion: the batch rolls back whole and the run says it failed."""
    doomed = await estate.household()
    referral = Referral(
        direction="outbound",
        organisation_id=estate.world.organisations["a"].id,
        team_id=estate.world.teams["a"].id,
        household_id=doomed.id,
        given_name="Anna",
        reason_domain="finances",
        legal_basis="legal_duty",
    )
    other_plan = Plan(household_id=(await estate.household()).id, revision=1)
    await estate.add(referral, other_plan)
    action = PlanAction(
        plan_id=other_plan.id, description="x", performer_kind="partner", referral_id=referral.id
    )
    await estate.add(action)
    await estate.close(doomed, await estate.cutoff(Category.closed_households) - MARGIN)
    try:
        with pytest.raises(IntegrityError):
            await purge(estate.db, estate.settings, estate.wiring, actor="test")
        async with estate.db.transaction() as session:
            failed = (
                (
                    await session.execute(
                        select(RetentionRun)
                        .where(col(RetentionRun.actor) == "test")
                        .order_by(col(RetentionRun.started_at).desc())
                    )
                )
                .scalars()
                .first()
            )
        assert failed is not None and (failed.outcome, failed.error) == ("failed", "IntegrityError")
        assert failed.finished_at is not None
        assert await estate.exists(Household, doomed.id) and await estate.exists(Referral, referral.id)
    finally:  # later tests purge this database too: take the blocker away
        await estate.update(PlanAction, action.id, referral_id=None)
    after = await purge(estate.db, estate.settings, estate.wiring, actor="test")
    assert after.outcome is RunOutcome.completed
    assert not await estate.exists(Household, doomed.id)
