"""draft revision: a counter bumped on every change of a draft roster

Revision ID: h9a_001_draft_revision
Revises: aee36e0fba12
Create Date: 2026-12-06 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h9a_001_draft_revision'
down_revision = 'aee36e0fba12'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rosters', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('revision', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade():
    with op.batch_alter_table('rosters', schema=None) as batch_op:
        batch_op.drop_column('revision')
