"""audit rows carry the node of the union tree they concern (who may read them)

Existing rows get the node of their period, else their site, else their volunteer, else
their district (as services.audit.record derives it for new rows); rows concerning none of
these (the catalogue, accounts) stay city-wide.

Revision ID: h13s2_001_audit_node
Revises: h13o_001_organisation_tree
Create Date: 2026-12-06 06:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "h13s2_001_audit_node"
down_revision = 'h13rf_001_reinforcement'
branch_labels = None
depends_on = None

SOURCES = (
    ("planning_periods", "period_id"),
    ("sites", "site_id"),
    ("volunteers", "volunteer_id"),
    ("districts", "district_id"),
)


def upgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_audit_entries_organisation_id", ["organisation_id"], unique=False)
    for table, column in SOURCES:
        op.execute(
            f"UPDATE audit_entries SET organisation_id = "
            f"(SELECT t.organisation_id FROM {table} t WHERE t.id = audit_entries.{column}) "
            f"WHERE organisation_id IS NULL AND {column} IS NOT NULL"
        )


def downgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_organisation_id")
        batch_op.drop_column("organisation_id")
