"""What `wijkwerk relay --once` reports: each claimed delivery counted by what became of it, and
"nothing could be delivered" only when attempts were made and none arrived (no database needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.domain.webhooks.models import DeliveryStatus
from app.domain.webhooks.relay import Tally
from app.domain.webhooks.relay_repository import Result

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def result(status: DeliveryStatus, error: str | None = None) -> Result:
    attempted = status is not DeliveryStatus.cancelled
    return Result(uuid.uuid4(), status, 1, attempted, NOW, NOW, None, error, 5)


def test_each_delivery_is_counted_by_its_outcome_and_failures_by_cause() -> None:
    tally = Tally.of(
        [
            result(DeliveryStatus.succeeded),
            result(DeliveryStatus.pending, "url_address_forbidden"),
            result(DeliveryStatus.pending, "url_address_forbidden"),
            result(DeliveryStatus.dead, "http_status"),
            result(DeliveryStatus.cancelled, "consent_withdrawn"),
        ]
    )
    assert (tally.delivered, tally.retried, tally.dead, tally.cancelled) == (1, 2, 1, 1)
    # Cancelled deliveries were never tried: their reason is not a failure.
    assert dict(tally.failures) == {"url_address_forbidden": 2, "http_status": 1}
    assert not tally.nothing_delivered


def test_rounds_add_up() -> None:
    first = Tally.of([result(DeliveryStatus.pending, "timeout")])
    second = Tally.of([result(DeliveryStatus.succeeded), result(DeliveryStatus.pending, "timeout")])
    total = first + second
    assert (total.delivered, total.retried) == (1, 2) and dict(total.failures) == {"timeout": 2}


def test_nothing_delivered_means_attempts_that_all_failed() -> None:
    assert Tally.of([result(DeliveryStatus.pending, "url_address_forbidden")]).nothing_delivered
    assert Tally.of([result(DeliveryStatus.dead, "connect_error")]).nothing_delivered
    assert not Tally().nothing_delivered  # nothing was due: not a failure
    assert not Tally.of([result(DeliveryStatus.cancelled, "subscription_paused")]).nothing_delivered
