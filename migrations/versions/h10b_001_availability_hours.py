"""availability as hours offered: one row per 8-hour span (day, start hour) instead of a
shift kind, so a shift is only served in the hours the volunteer said they can serve

Every existing cell is kept as exactly the hours its grid showed when it was tapped: 夜班
00:00–08:00, 白班 08:00–16:00, 晚班 16:00–24:00 (the grid always labelled the kinds with the
default pattern, whatever hours the sites ran). Downgrading turns each span back into the shift
kind it falls in (two spans of one kind on one date become one cell).

Revision ID: h10b_001_availability_hours
Revises: aee36e0fba12
Create Date: 2026-12-06 01:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h10b_001_availability_hours'
down_revision = 'h10c_001_period_contact'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('availability_hours',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.CheckConstraint('start_hour BETWEEN 0 AND 23', name=op.f('ck_availability_hours_start_hour_range')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_availability_hours_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('volunteer_id', 'day', 'start_hour', name=op.f('pk_availability_hours'))
    )
    op.execute(
        "INSERT INTO availability_hours (volunteer_id, day, start_hour) "
        "SELECT volunteer_id, day, CASE shift WHEN 'night' THEN 0 WHEN 'day' THEN 8 ELSE 16 END "
        "FROM availability"
    )
    op.drop_table('availability')


def downgrade():
    op.create_table('availability',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('shift', sa.String(length=10), nullable=False),
    sa.CheckConstraint("shift IN ('night', 'day', 'evening')", name=op.f('ck_availability_shift_known')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_availability_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('volunteer_id', 'day', 'shift', name=op.f('pk_availability'))
    )
    # The kind a span belongs to: nights start 20:00–03:00, days 04:00–11:00, evenings
    # 12:00–19:00 (scheduler.services.availability.kind_of_start).
    op.execute(
        "INSERT INTO availability (volunteer_id, day, shift) "
        "SELECT DISTINCT volunteer_id, day, CASE "
        "WHEN start_hour BETWEEN 4 AND 11 THEN 'day' "
        "WHEN start_hour BETWEEN 12 AND 19 THEN 'evening' ELSE 'night' END "
        "FROM availability_hours"
    )
    op.drop_table('availability_hours')
