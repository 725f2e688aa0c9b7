"""plan actions and outbound referrals name an offer: a service of the sociale kaart or a running
resident initiative

``plan_actions.service_id`` / ``plan_actions.initiative_id`` (one of them at most) and
``referrals.service_id`` (the receiving organisation's service that was asked for). An entry that is
removed from the directory, or an initiative that is deleted, leaves the action or referral standing.

Revision ID: 0155
Revises: 0140
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0155"
down_revision: str | None = "0140"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINKS = (
    ("plan_actions", "service_id", "directory_services"),
    ("plan_actions", "initiative_id", "initiatives"),
    ("referrals", "service_id", "directory_services"),
)


def upgrade() -> None:
    for table, column, target in LINKS:
        op.add_column(table, sa.Column(column, sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_{column}_{target}"), table, target, [column], ["id"], ondelete="SET NULL"
        )
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
    op.create_check_constraint(
        op.f("ck_plan_actions_one_offer"), "plan_actions", "service_id IS NULL OR initiative_id IS NULL"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_plan_actions_one_offer"), "plan_actions", type_="check")
    for table, column, target in reversed(LINKS):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_constraint(op.f(f"fk_{table}_{column}_{target}"), table, type_="foreignkey")
        op.drop_column(table, column)
