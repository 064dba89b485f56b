"""audit rows can name their summary's message (a key and its arguments), shown in the
reader's language; the English text stays in `summary`, and older rows keep only that

Revision ID: hui_001_audit_summary_key
Revises: htrust_001_dropped_pins
Create Date: 2026-12-06 08:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "hui_001_audit_summary_key"
down_revision = "htrust_001_dropped_pins"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_key", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("summary_args", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("summary_args")
        batch_op.drop_column("summary_key")
