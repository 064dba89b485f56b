"""the union tree: organisations (city -> district/county -> grassroots union), the node each
volunteer, site, period and coordinator belongs to, and the liaison role

Today's data is mapped without loss: one city union as the root; each district becomes a
district node; each work unit a grassroots node under the district most of its volunteers are
in (else under the city). Volunteers belong to their work unit's node, else their district's,
else the city's; sites to their district's node, else the city's; a period to the one node all
its sites share, else the city's. Existing coordinators become coordinators of the city union.
Downgrading drops the tree (liaisons become volunteers).

Revision ID: h13o_001_organisation_tree
Revises: h10b_001_availability_hours
Create Date: 2026-12-06 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h13o_001_organisation_tree'
down_revision = 'h12ch_001_robot_messages'
branch_labels = None
depends_on = None

CITY_NAME = '市总工会'
OLD_ROLES = "role IN ('volunteer', 'site_lead', 'coordinator', 'admin')"
NEW_ROLES = "role IN ('volunteer', 'site_lead', 'coordinator', 'admin', 'liaison')"
NODE_TABLES = ('volunteers', 'sites', 'planning_periods', 'users')


def _add_node_column(table: str, unique: bool) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        if unique:
            batch_op.create_unique_constraint(
                batch_op.f(f'uq_{table}_organisation_id'), ['organisation_id']
            )
        else:
            batch_op.create_index(
                batch_op.f(f'ix_{table}_organisation_id'), ['organisation_id'], unique=False
            )
        batch_op.create_foreign_key(
            batch_op.f(f'fk_{table}_organisation_id_organisations'),
            'organisations',
            ['organisation_id'],
            ['id'],
            ondelete='SET NULL',
        )


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('city', 'district', 'grassroots')", name=op.f('ck_organisations_kind_known')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_organisations_name_not_empty')),
    sa.ForeignKeyConstraint(['parent_id'], ['organisations.id'], name=op.f('fk_organisations_parent_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_index(op.f('ix_organisations_parent_id'), 'organisations', ['parent_id'], unique=False)
    for table in ('districts', 'work_units'):
        _add_node_column(table, unique=True)
    for table in NODE_TABLES:
        _add_node_column(table, unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_users_role_known'), NEW_ROLES)
    _map_existing_rows()


def _new_node(conn: sa.Connection, kind: str, name: str, parent: int | None) -> int:
    conn.execute(
        sa.text('INSERT INTO organisations (kind, name, parent_id) VALUES (:k, :n, :p)'),
        {'k': kind, 'n': name, 'p': parent},
    )
    return conn.execute(sa.text('SELECT max(id) FROM organisations')).scalar_one()


def _map_existing_rows() -> None:
    conn = op.get_bind()
    root = _new_node(conn, 'city', CITY_NAME, None)
    district_nodes: dict[int, int] = {}
    for district_id, name in conn.execute(sa.text('SELECT id, name FROM districts ORDER BY id')):
        node = _new_node(conn, 'district', name, root)
        district_nodes[district_id] = node
        conn.execute(
            sa.text('UPDATE districts SET organisation_id = :o WHERE id = :i'),
            {'o': node, 'i': district_id},
        )
    units = conn.execute(sa.text('SELECT id, name FROM work_units ORDER BY id')).all()
    for unit_id, name in units:
        # The district most of its volunteers are in (ties: the lower district id).
        home = conn.execute(
            sa.text(
                'SELECT district_id FROM volunteers WHERE work_unit_id = :u'
                ' AND district_id IS NOT NULL GROUP BY district_id'
                ' ORDER BY count(*) DESC, district_id LIMIT 1'
            ),
            {'u': unit_id},
        ).scalar()
        node = _new_node(conn, 'grassroots', name, district_nodes.get(home, root))
        conn.execute(
            sa.text('UPDATE work_units SET organisation_id = :o WHERE id = :i'),
            {'o': node, 'i': unit_id},
        )
    conn.execute(
        sa.text(
            'UPDATE volunteers SET organisation_id = coalesce('
            '(SELECT w.organisation_id FROM work_units w WHERE w.id = volunteers.work_unit_id),'
            '(SELECT d.organisation_id FROM districts d WHERE d.id = volunteers.district_id),'
            ' :root)'
        ),
        {'root': root},
    )
    conn.execute(
        sa.text(
            'UPDATE sites SET organisation_id = coalesce('
            '(SELECT d.organisation_id FROM districts d WHERE d.id = sites.district_id), :root)'
        ),
        {'root': root},
    )
    periods = conn.execute(sa.text('SELECT id FROM planning_periods')).scalars().all()
    for period_id in periods:
        nodes = conn.execute(
            sa.text(
                'SELECT DISTINCT s.organisation_id FROM period_sites ps'
                ' JOIN sites s ON s.id = ps.site_id WHERE ps.period_id = :p'
            ),
            {'p': period_id},
        ).scalars().all()
        conn.execute(
            sa.text('UPDATE planning_periods SET organisation_id = :o WHERE id = :p'),
            {'o': nodes[0] if len(nodes) == 1 else root, 'p': period_id},
        )
    conn.execute(
        sa.text("UPDATE users SET organisation_id = :root WHERE role = 'coordinator'"),
        {'root': root},
    )


def downgrade():
    op.execute("UPDATE users SET role = 'volunteer' WHERE role = 'liaison'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_users_role_known'), OLD_ROLES)
    for table in (*NODE_TABLES, 'districts', 'work_units'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f'fk_{table}_organisation_id_organisations'), type_='foreignkey'
            )
            if table in NODE_TABLES:
                batch_op.drop_index(batch_op.f(f'ix_{table}_organisation_id'))
            else:
                batch_op.drop_constraint(batch_op.f(f'uq_{table}_organisation_id'), type_='unique')
            batch_op.drop_column('organisation_id')
    op.drop_index(op.f('ix_organisations_parent_id'), table_name='organisations')
    op.drop_table('organisations')
