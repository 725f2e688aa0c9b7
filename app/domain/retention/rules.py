"""What the purge removes and when, without a database: the categories, their terms and cutoffs.

A row is due when its moment lies strictly before the cutoff (``now - term``): a contact exactly one
term old keeps its note until the next run. Categories that carry their own expiry (idempotency keys,
client assertions, authorization codes, refresh-token families) are due once that moment has passed (term 0).

The change feed and the access log are partitioned by month and go a whole month at a time (a
partition detached and dropped, not rows deleted): their cutoff is the start of the month that holds
``now - term``, so a row stays up to a month past its term, never less than its term.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.unit_of_work.partitions import month_start
from app.settings import Settings


class Category(StrEnum):
    """What one run purges, in the order it runs (the change feed last: the others add to it)."""

    closed_households = "closed_households"  # the whole file, everything under it
    network_people = "network_people"  # of files closed for a while
    contact_notes = "contact_notes"  # note text blanked; the contact stays for statistics
    unlinked_referrals = "unlinked_referrals"  # finished inbound referrals that never joined a file
    outbox_events = "outbox_events"  # webhook events with nothing left to deliver
    idempotency_keys = "idempotency_keys"  # stored answers past their replay window
    client_assertions = "client_assertions"  # jti of used private_key_jwt assertions, expired
    authorization_codes = "authorization_codes"  # expired one-time codes (a used one: once its sign-in ended)
    refresh_tokens = "refresh_tokens"  # every token of a sign-in family that has ended
    access_log = "access_log"  # whole months of the log, archived or dropped (only with a term set)
    change_feed = "change_feed"  # sync change rows older than the horizon


# Kept in monthly partitions: due a whole month at a time.
BY_MONTH = frozenset({Category.access_log, Category.change_feed})

# Whole households cascade into many rows each: a smaller batch keeps their transactions short.
HOUSEHOLD_BATCH_DIVISOR = 20


@dataclass(frozen=True)
class Terms:
    """How long each category is kept (days); 0 for those that expire by their own timestamp."""

    days: dict[Category, int]
    # Never purged: the access log unless a term is set (its retention is then the database owner's).
    kept: frozenset[Category] = frozenset()
    # The access log's months past their term are moved to the ``archive`` schema, not dropped.
    archive_access_log: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Terms:
        days = dict.fromkeys(Category, 0)
        log_days = settings.retention_access_log_days
        days.update(
            {
                Category.closed_households: settings.retention_closed_household_days,
                Category.network_people: settings.retention_network_person_days,
                Category.contact_notes: settings.retention_contact_note_days,
                Category.unlinked_referrals: settings.retention_unlinked_referral_days,
                Category.outbox_events: settings.retention_outbox_days,
                Category.change_feed: settings.retention_change_feed_days,
                Category.access_log: log_days or 0,
            }
        )
        kept = frozenset({Category.access_log}) if log_days is None else frozenset()
        return cls(days, kept, settings.retention_access_log_archive)

    def term(self, category: Category) -> timedelta:
        return timedelta(days=self.days[category])

    def cutoffs(self, now: datetime) -> dict[Category, datetime]:
        """Per category, the moment before which a row is due (fixed for the whole run)."""
        return {
            category: month_start(now - self.term(category))
            if category in BY_MONTH
            else now - self.term(category)
            for category in Category
        }

    def as_json(self) -> dict[str, int]:
        return {str(category): days for category, days in self.days.items() if category not in self.kept}


def is_due(moment: datetime, cutoff: datetime) -> bool:
    """The boundary rule every purge query applies in SQL (``moment < cutoff``)."""
    return moment < cutoff


def batch_limit(category: Category, batch_size: int) -> int:
    if category is Category.closed_households:
        return max(1, batch_size // HOUSEHOLD_BATCH_DIVISOR)
    return batch_size


def cursor_too_old(watermark: int, horizon: int | None) -> bool:
    """A sync position whose watermark is at or below the purged horizon may have missed purged
    changes (rows with txid in [watermark, horizon]); it must start afresh (``reset: true``)."""
    return horizon is not None and watermark <= horizon
