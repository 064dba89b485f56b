"""one-time codes: password resets, and phone checks of registrations and claims

Revision ID: h12pw_001_one_time_codes
Revises: h10b_001_availability_hours
Create Date: 2026-12-06 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h12pw_001_one_time_codes'
down_revision = 'h10b_001_availability_hours'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'one_time_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('reset', 'register', 'claim')",
            name=op.f('ck_one_time_codes_purpose_known'),
        ),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_one_time_codes_attempts_non_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_codes')),
    )
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_one_time_codes_expires_at'), ['expires_at'], unique=False
        )
        batch_op.create_index('ix_one_time_codes_phone_purpose', ['phone', 'purpose'], unique=False)


def downgrade():
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_one_time_codes_phone_purpose')
        batch_op.drop_index(batch_op.f('ix_one_time_codes_expires_at'))
    op.drop_table('one_time_codes')
