"""The texts a transition needs, and what a sender is told when one is missing."""

from __future__ import annotations

import pytest

from app.domain.errors import FieldError, ValidationFailed
from app.domain.referrals.models import ReferralStatus
from app.domain.referrals.rules import check_texts


@pytest.mark.parametrize(
    ("target", "field", "message"),
    [
        (ReferralStatus.completed, "outcome", "An outcome is required for completed."),
        (ReferralStatus.declined, "reason", "A reason is required for declined."),
        (ReferralStatus.cancelled, "reason", "A reason is required for cancelled."),
    ],
)
def test_a_missing_text_is_named_in_plain_words(target: ReferralStatus, field: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_texts(target, reason=None, outcome="  " if target is ReferralStatus.completed else None)
    assert raised.value.errors == [FieldError(("body", field), message, f"{field}_required")]
