"""The pure rules of the purge: terms from settings, cutoffs, the boundary, batches, the sync horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.domain.retention.rules import (
    HOUSEHOLD_BATCH_DIVISOR,
    Category,
    Terms,
    batch_limit,
    cursor_too_old,
    is_due,
)
from app.settings import Settings

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_default_terms_follow_the_documented_choices() -> None:
    terms = Terms.from_settings(Settings())
    assert terms.days[Category.closed_households] == 15 * 365 + 4  # 15 years, leap days included
    assert terms.days[Category.contact_notes] == 730
    assert terms.days[Category.network_people] == 365
    assert terms.days[Category.change_feed] == 90
    assert terms.days[Category.outbox_events] == 30
    # Rows that carry their own expiry are due as soon as it has passed.
    expiring = (Category.idempotency_keys, Category.client_assertions, Category.authorization_codes)
    for category in (*expiring, Category.refresh_tokens):
        assert terms.days[category] == 0
    # The access log is kept unless a term is set (its retention is the database owner's).
    assert terms.kept == {Category.access_log}
    assert set(terms.as_json()) == {str(c) for c in Category if c is not Category.access_log}


def test_partitioned_categories_go_by_whole_months() -> None:
    """The change feed and the access log go a partition (a UTC month) at a time: the cutoff is the
    start of the month holding ``now - term``, never later than ``now - term``."""
    terms = Terms.from_settings(Settings(retention_access_log_days=365))
    now = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    cutoffs = terms.cutoffs(now)
    assert cutoffs[Category.change_feed] == datetime(2026, 9, 1, tzinfo=UTC)  # 90 days: 8 September
    assert cutoffs[Category.access_log] == datetime(2025, 12, 1, tzinfo=UTC)
    assert cutoffs[Category.contact_notes] == now - timedelta(days=730)  # the others to the instant
    assert not terms.kept and terms.archive_access_log


def test_terms_are_configurable_within_safety_floors() -> None:
    terms = Terms.from_settings(
        Settings(retention_closed_household_days=7 * 365, retention_contact_note_days=90)
    )
    assert terms.term(Category.closed_households) == timedelta(days=7 * 365)
    assert terms.term(Category.contact_notes) == timedelta(days=90)
    with pytest.raises(ValidationError):
        Settings(retention_closed_household_days=30)  # a typo must not empty the archive
    with pytest.raises(ValidationError):
        Settings(retention_change_feed_days=1)  # phones offline for a weekend keep their cursor


def test_cutoffs_and_the_boundary() -> None:
    cutoffs = Terms.from_settings(Settings(retention_contact_note_days=30)).cutoffs(NOW)
    cutoff = cutoffs[Category.contact_notes]
    assert cutoff == NOW - timedelta(days=30)
    assert cutoffs[Category.idempotency_keys] == NOW
    assert not is_due(cutoff, cutoff)  # exactly one term old: kept until the next run
    assert is_due(cutoff - timedelta(microseconds=1), cutoff)
    assert not is_due(cutoff + timedelta(microseconds=1), cutoff)


def test_whole_households_go_in_smaller_batches() -> None:
    assert batch_limit(Category.contact_notes, 500) == 500
    assert batch_limit(Category.closed_households, 500) == 500 // HOUSEHOLD_BATCH_DIVISOR
    assert batch_limit(Category.closed_households, 3) == 1


def test_the_change_feed_is_purged_last() -> None:
    # The other categories write change rows (tombstones, blanked notes); they must not be purged first.
    assert list(Category)[-1] is Category.change_feed


def test_a_cursor_at_or_below_the_horizon_is_too_old() -> None:
    assert not cursor_too_old(100, None)  # nothing ever purged
    assert cursor_too_old(100, 100)  # a purged row with txid 100 may not have been seen
    assert cursor_too_old(99, 100)
    assert not cursor_too_old(101, 100)
