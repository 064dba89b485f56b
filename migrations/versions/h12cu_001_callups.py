"""call-ups (集结号): the sent message and its audience, one row per recipient (with the outbox
row that carries it), and the events of the public page's funnel

Revision ID: h12cu_001_callups
Revises: h10b_001_availability_hours
Create Date: 2026-12-06 04:40:00

New tables only: nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

import scheduler.models.base


# revision identifiers, used by Alembic.
revision = 'h12cu_001_callups'
down_revision = 'h12rem_001_reminders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'callups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('audience', sa.JSON(), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', scheduler.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint('length(message) > 0', name=op.f('ck_callups_message_not_empty')),
        sa.CheckConstraint('length(token) >= 16', name=op.f('ck_callups_token_long_enough')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_callups_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['period_id'], ['planning_periods.id'], name=op.f('fk_callups_period_id_planning_periods'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_callups')),
        sa.UniqueConstraint('token', name=op.f('uq_callups_token')),
    )
    with op.batch_alter_table('callups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callups_period_id'), ['period_id'], unique=False)

    op.create_table(
        'callup_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('callup_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('had_availability', sa.Boolean(), nullable=False),
        sa.Column('at', scheduler.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('opened', 'registered', 'logged_in')", name=op.f('ck_callup_events_kind_known')),
        sa.ForeignKeyConstraint(['callup_id'], ['callups.id'], name=op.f('fk_callup_events_callup_id_callups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_callup_events_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_callup_events')),
    )
    with op.batch_alter_table('callup_events', schema=None) as batch_op:
        batch_op.create_index('ix_callup_events_callup_kind', ['callup_id', 'kind'], unique=False)

    op.create_table(
        'callup_recipients',
        sa.Column('callup_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.Column('had_availability', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['callup_id'], ['callups.id'], name=op.f('fk_callup_recipients_callup_id_callups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_callup_recipients_notification_id_notifications'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_callup_recipients_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('callup_id', 'user_id', name=op.f('pk_callup_recipients')),
    )


def downgrade():
    op.drop_table('callup_recipients')
    with op.batch_alter_table('callup_events', schema=None) as batch_op:
        batch_op.drop_index('ix_callup_events_callup_kind')
    op.drop_table('callup_events')
    with op.batch_alter_table('callups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callups_period_id'))
    op.drop_table('callups')
