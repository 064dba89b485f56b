"""a site's group chat robot (WeCom or DingTalk webhook URL, DingTalk signing secret) and the
robot_messages outbox that posts the site's shift list to it when a version is published

Revision ID: h12ch_001_robot_messages
Revises: h10b_001_availability_hours
Create Date: 2026-12-06 05:00:00

Existing sites get no robot (NULL): nothing is posted anywhere, as before.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "h12ch_001_robot_messages"
down_revision = 'h13audit_001_audit_log_retention'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("robot_kind", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("robot_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("robot_secret", sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_sites_robot_kind_known"),
            "robot_kind IS NULL OR robot_kind IN ('wecom', 'dingtalk')",
        )
    op.create_table(
        "robot_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivery_status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "delivery_status IN ('pending', 'sent', 'failed')",
            name=op.f("ck_robot_messages_delivery_known"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_robot_messages_attempts_non_negative")),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["rosters.id"],
            name=op.f("fk_robot_messages_roster_id_rosters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_robot_messages_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robot_messages")),
    )
    with op.batch_alter_table("robot_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_robot_messages_outbox", ["delivery_status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_robot_messages_roster_id"), ["roster_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_robot_messages_site_id"), ["site_id"], unique=False)


def downgrade():
    with op.batch_alter_table("robot_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_robot_messages_site_id"))
        batch_op.drop_index(batch_op.f("ix_robot_messages_roster_id"))
        batch_op.drop_index("ix_robot_messages_outbox")
    op.drop_table("robot_messages")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sites_robot_kind_known"), type_="check")
        batch_op.drop_column("robot_secret")
        batch_op.drop_column("robot_url")
        batch_op.drop_column("robot_kind")
