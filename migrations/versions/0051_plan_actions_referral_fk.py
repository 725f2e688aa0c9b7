"""plan actions link to referrals

The plans context (0030) left plan_actions.referral_id without a foreign key because referrals did
not exist yet; this revision comes after both and adds it. A referral is never deleted while a plan
action points at it (the plan keeps the lead over what was referred).

Revision ID: 0051
Revises: 0050
Create Date: 2026-11-22 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0051"
down_revision: str | Sequence[str] | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_foreign_key(
        op.f("fk_plan_actions_referral_id_referrals"),
        "plan_actions",
        "referrals",
        ["referral_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_plan_actions_referral_id_referrals"), "plan_actions", type_="foreignkey")
