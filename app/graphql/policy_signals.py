"""The municipality's dashboard of policy signals in GraphQL (``Query.policySignalStats``).

The figures come from ``app.domain.signals.dashboard``; they count signals, never people. Public when
the municipality publishes them (``settings.policy_signal_stats_public``); otherwise for BI
(``stats:read``) and the policy staff (``signals:answer``, which only they hold) only.
"""

from __future__ import annotations

import strawberry

from app.domain.signals.dashboard import SignalDashboard


@strawberry.type(description="Signals of one theme in one status.")
class SignalThemeStatus:
    theme: str
    status: str
    signals: int


@strawberry.type(description="Answers given in one quarter (local time), per kind of answer.")
class SignalOutcome:
    quarter: str = strawberry.field(description="YYYY-Qn of the answer.")
    answer: str = strawberry.field(description="exemption_granted, policy_will_change or no_change.")
    signals: int


@strawberry.type(description="Policy signals of a municipality past draft; a bundle counts once.")
class PolicySignalStats:
    municipality: str
    by_theme_and_status: list[SignalThemeStatus]
    answered: int = strawberry.field(description="Signals answered so far.")
    median_days_to_answer: float | None = strawberry.field(
        description="Median days from submission to answer; null before the first answer."
    )
    outcomes: list[SignalOutcome]

    @classmethod
    def of(cls, municipality: str, found: SignalDashboard) -> PolicySignalStats:
        return cls(
            municipality=municipality,
            by_theme_and_status=[
                SignalThemeStatus(theme=r.theme, status=r.status, signals=r.signals)
                for r in found.by_theme_and_status
            ],
            answered=found.answered,
            median_days_to_answer=found.median_days_to_answer,
            outcomes=[
                SignalOutcome(quarter=o.quarter, answer=o.answer, signals=o.signals) for o in found.outcomes
            ],
        )
