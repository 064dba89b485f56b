"""claim codes for imported accounts

Imported volunteers claim their account with a one-time code instead of the phone number
alone; only a keyed digest of the code and its expiry are stored. Existing rows get NULL
(no code): imported volunteers who have not claimed yet need a code issued by a coordinator.

Revision ID: h9b_001_claim_codes
Revises: aee36e0fba12
Create Date: 2026-12-06 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h9b_001_claim_codes'
down_revision = 'h9a_001_draft_revision'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claim_code_expires_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('claim_code_expires_at')
        batch_op.drop_column('claim_code_hash')
