"""self-service: household members sign in (accounts bound to a member), switches per household and
member, activation codes; who recorded an agreement or a withdrawal (app/domain/self_service)

Revision ID: 0110
Revises: 0081
Create Date: 2026-12-07 03:19:39.936228

Hand-written beyond autogenerate: the CHECKs (roles now include household_member; an account is bound
to a member exactly when its role is household_member; who recorded an agreement or withdrawal is set
exactly when there is one) and the backfill of existing agreements and withdrawals (the team's).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0110"
down_revision: str | None = "0081"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = (
    "'generalist', 'team_lead', 'partner', 'analyst', 'resident', 'network_coordinator', "
    "'privacy_officer', 'admin'"
)
_ROLES_NOW = _ROLES + ", 'household_member'"
_RECORDED_BY = "'team', 'member'"


def _role_checks(roles: str) -> None:
    for table in ("users", "oauth_clients"):
        op.drop_constraint(op.f(f"ck_{table}_role_allowed"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_role_allowed"), table, f"role IN ({roles})")


def upgrade() -> None:
    op.create_table(
        "self_service_activation_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_worker_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_self_service_activation_codes_expires_after_creation")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_worker_id"],
            ["workers.id"],
            name=op.f("fk_self_service_activation_codes_created_by_worker_id_workers"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_self_service_activation_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_service_activation_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_self_service_activation_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_self_service_activation_codes_user_id"),
        "self_service_activation_codes",
        ["user_id"],
        unique=False,
    )

    # The switches: None is the default (households: on unless confidential; members: on for adults).
    op.add_column("households", sa.Column("self_service", sa.Boolean(), nullable=True))
    op.add_column("members", sa.Column("self_service", sa.Boolean(), nullable=True))

    # Accounts of household members, bound to (member, household) as one reference.
    op.create_unique_constraint("uq_members_id_household_id", "members", ["id", "household_id"])
    op.add_column("users", sa.Column("member_id", sa.Uuid(), nullable=True))
    op.add_column("users", sa.Column("household_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_users_household_id"), "users", ["household_id"], unique=False)
    op.create_unique_constraint(op.f("uq_users_member_id"), "users", ["member_id"])
    op.create_foreign_key(
        op.f("fk_users_member_id_members"),
        "users",
        "members",
        ["member_id", "household_id"],
        ["id", "household_id"],
        ondelete="CASCADE",
    )
    _role_checks(_ROLES_NOW)
    op.create_check_constraint(
        op.f("ck_users_member_link_whole"), "users", "(member_id IS NULL) = (household_id IS NULL)"
    )
    op.create_check_constraint(
        op.f("ck_users_member_link_role"),
        "users",
        "(member_id IS NOT NULL) = (role = 'household_member')",
    )

    # Who recorded an agreement or a withdrawal: every one so far was recorded by the team.
    op.add_column(
        "plans", sa.Column("agreement_recorded_by", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
    )
    op.execute("UPDATE plans SET agreement_recorded_by = 'team' WHERE agreed_at IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_plans_agreement_recorded_by_allowed"),
        "plans",
        f"agreement_recorded_by IS NULL OR agreement_recorded_by IN ({_RECORDED_BY})",
    )
    op.create_check_constraint(
        op.f("ck_plans_agreement_recorded_by_set"),
        "plans",
        "(agreed_at IS NULL) = (agreement_recorded_by IS NULL)",
    )
    op.add_column(
        "consents",
        sa.Column("withdrawal_recorded_by", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    )
    op.execute("UPDATE consents SET withdrawal_recorded_by = 'team' WHERE withdrawn_at IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_consents_withdrawal_recorded_by_allowed"),
        "consents",
        f"withdrawal_recorded_by IS NULL OR withdrawal_recorded_by IN ({_RECORDED_BY})",
    )
    op.create_check_constraint(
        op.f("ck_consents_withdrawal_recorded_by_set"),
        "consents",
        "(withdrawn_at IS NULL) = (withdrawal_recorded_by IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_consents_withdrawal_recorded_by_set"), "consents", type_="check")
    op.drop_constraint(op.f("ck_consents_withdrawal_recorded_by_allowed"), "consents", type_="check")
    op.drop_column("consents", "withdrawal_recorded_by")
    op.drop_constraint(op.f("ck_plans_agreement_recorded_by_set"), "plans", type_="check")
    op.drop_constraint(op.f("ck_plans_agreement_recorded_by_allowed"), "plans", type_="check")
    op.drop_column("plans", "agreement_recorded_by")

    op.drop_table("self_service_activation_codes")
    # Household members' accounts cannot exist without the role (their refresh tokens go with them).
    op.execute("DELETE FROM users WHERE role = 'household_member'")
    op.drop_constraint(op.f("ck_users_member_link_role"), "users", type_="check")
    op.drop_constraint(op.f("ck_users_member_link_whole"), "users", type_="check")
    _role_checks(_ROLES)
    op.drop_constraint(op.f("fk_users_member_id_members"), "users", type_="foreignkey")
    op.drop_constraint(op.f("uq_users_member_id"), "users", type_="unique")
    op.drop_index(op.f("ix_users_household_id"), table_name="users")
    op.drop_column("users", "household_id")
    op.drop_column("users", "member_id")
    op.drop_constraint("uq_members_id_household_id", "members", type_="unique")
    op.drop_column("members", "self_service")
    op.drop_column("households", "self_service")
