"""solve runs list the pins they dropped (their volunteer may no longer serve them)

A run that re-solves a site no longer keeps a pin whose volunteer left the period's unions
or lost the role's qualification: it records who, where and why (a JSON list, empty runs
NULL) so the coordinator sees it with the run's result. Existing runs dropped nothing.

Revision ID: htrust_001_dropped_pins
Revises: h13s2_001_audit_node
Create Date: 2026-12-06 08:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "htrust_001_dropped_pins"
down_revision = "h13s2_001_audit_node"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("solve_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dropped_pins", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("solve_runs", schema=None) as batch_op:
        batch_op.drop_column("dropped_pins")
