"""the coordinator on duty for a planning period (whom volunteers call when a shift has no
lead); how many posts a solve run could fill at most (shown instead of the objective value)

Revision ID: h10c_001_period_contact
Revises: aee36e0fba12
Create Date: 2026-12-06 02:10:00

Existing periods get no contact (NULL): volunteers are then shown every active coordinator,
as before, so nothing is lost. Existing runs get no bound (NULL): the status shows filled of
total, as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h10c_001_period_contact'
down_revision = 'h9b_001_claim_codes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('planning_periods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_planning_periods_contact_id_users'), 'users', ['contact_id'], ['id'],
            ondelete='SET NULL',
        )
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posts_fillable', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('solve_runs', schema=None) as batch_op:
        batch_op.drop_column('posts_fillable')
    with op.batch_alter_table('planning_periods', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_planning_periods_contact_id_users'), type_='foreignkey')
        batch_op.drop_column('contact_id')
