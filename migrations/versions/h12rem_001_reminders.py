"""reminders before every published shift: per-period reminder times, notifications linked to
the post they remind of, and two new outbox states (withdrawn, expired)

Revision ID: h12rem_001_reminders
Revises: h10b_001_availability_hours
Create Date: 2026-12-06 05:00:00

Existing periods get the defaults (the evening before at 18:00, and 2 hours before); existing
notifications link to no post (NULL) and keep their states.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h12rem_001_reminders'
down_revision = 'h12pw_001_one_time_codes'
branch_labels = None
depends_on = None

OLD = "delivery_status IN ('pending', 'sent', 'failed')"
NEW = "delivery_status IN ('pending', 'sent', 'failed', 'withdrawn', 'expired')"


def upgrade():
    with op.batch_alter_table('planning_periods', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reminder_evening_at', sa.String(length=5), server_default='18:00',
                      nullable=True)
        )
        batch_op.add_column(
            sa.Column('reminder_hours_before', sa.Integer(), server_default='2', nullable=True)
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_planning_periods_reminder_hours_range'), 'reminder_hours_before BETWEEN 1 AND 48'
        )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignment_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_notifications_assignment_id'), ['assignment_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_notifications_assignment_id_assignments'), 'assignments',
            ['assignment_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.drop_constraint(batch_op.f('ck_notifications_delivery_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notifications_delivery_known'), NEW)


def downgrade():
    op.execute(
        "UPDATE notifications SET delivery_status = 'failed' "
        "WHERE delivery_status IN ('withdrawn', 'expired')"
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_delivery_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notifications_delivery_known'), OLD)
        batch_op.drop_constraint(
            batch_op.f('fk_notifications_assignment_id_assignments'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_notifications_assignment_id'))
        batch_op.drop_column('assignment_id')
    with op.batch_alter_table('planning_periods', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_planning_periods_reminder_hours_range'), type_='check')
        batch_op.drop_column('reminder_hours_before')
        batch_op.drop_column('reminder_evening_at')
