"""the public-data version also follows year plans, meetings, ballots, the ledger and policy signals

Revision ID: 0191
Revises: 0190
Create Date: 2026-12-07 14:20:00

The dashboards read these tables anonymously (a year plan's budget and ledger, a network's meetings
and decisions, the signal aggregates when a municipality publishes them), so a write to any of them
must raise the version that anonymous GraphQL answers are kept under (0190), or a kept answer would
show the old figures until it expires.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0191"
down_revision: str | None = "0190"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as they are at this revision (app.domain.unit_of_work.public_data.PUBLIC_TABLES may grow).
TABLES = (
    "year_plans",
    "year_plan_ledger",
    "network_meetings",
    "meeting_attendance",
    "grant_ballots",
    "policy_signals",
    "policy_signal_transitions",
)


def upgrade() -> None:
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER public_data_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public_data_changed()"
        )
        op.execute(
            f"CREATE TRIGGER public_data_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION public_data_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER public_data_truncated ON {table}")
        op.execute(f"DROP TRIGGER public_data_changed ON {table}")
