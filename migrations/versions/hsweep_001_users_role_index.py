"""users.role is indexed: the active staff accounts (a handful) are read on every rostered
volunteer's /me, and without an index SQLite scans every user for them (0.070 -> 0.028 ms
for that statement at 341 users, growing with registrations; PostgreSQL 0.171 -> 0.140 ms)

Revision ID: hsweep_001_users_role_index
Revises: hui_001_audit_summary_key
Create Date: 2026-12-06 20:10:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "hsweep_001_users_role_index"
down_revision = "hui_001_audit_summary_key"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_role"), ["role"], unique=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_role"))
