"""reinforcement across districts: the other unions a period is open to, whether the city lets
a district open its periods itself, and urgent requests sent up one level

Existing periods stay closed to other districts, no district may open its own, and no urgent
request is escalated: nothing changes until a coordinator opens a period or escalates.

Revision ID: h13rf_001_reinforcement
Revises: h13o_001_organisation_tree
Create Date: 2026-12-06 05:50:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "h13rf_001_reinforcement"
down_revision = "h13o_001_organisation_tree"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "period_reinforcements",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_period_reinforcements_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["planning_periods.id"],
            name=op.f("fk_period_reinforcements_period_id_planning_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "period_id", "organisation_id", name=op.f("pk_period_reinforcements")
        ),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("may_reinforce", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("urgent_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("escalated_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_urgent_requests_escalated_by_id_users"),
            "users",
            ["escalated_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("urgent_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_urgent_requests_escalated_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("escalated_by_id")
        batch_op.drop_column("escalated_at")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("may_reinforce")
    op.drop_table("period_reinforcements")
