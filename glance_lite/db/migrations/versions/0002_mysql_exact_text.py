"""MySQL/MariaDB: exact string comparison and unbounded property values.

``utf8mb4_bin`` is a PAD SPACE collation: it compares 'foo' equal to
'foo ', so a ``name=foo`` filter also listed 'foo ', and property names or
member ids differing only in trailing spaces collided on the unique keys.
Those columns move to a NO PAD binary collation (``utf8mb4_nopad_bin``
on MariaDB, ``utf8mb4_0900_bin`` on MySQL 8). Property values become
LONGTEXT: TEXT holds only 64 KiB and values are unbounded (spec §5.6).
Other engines are already exact and unbounded; nothing changes there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Every text column a request can match on or that must be unique, as
# its full MySQL definition. Ids are UUIDs and keep their collation (they
# are foreign keys, which MySQL will not re-collate in place).
COLUMNS = {
    'images': [
        ('name', 'VARCHAR(255) NULL'),
        ('disk_format', 'VARCHAR(20) NULL'),
        ('container_format', 'VARCHAR(20) NULL'),
        ('checksum', 'VARCHAR(32) NULL'),
        ('status', 'VARCHAR(30) NOT NULL'),
        ('owner', 'VARCHAR(255) NULL'),
    ],
    'image_properties': [
        ('name', 'VARCHAR(255) NOT NULL'),
        ('value', 'LONGTEXT NULL'),
    ],
    'image_members': [
        ('member', 'VARCHAR(255) NOT NULL'),
    ],
    'image_locations': [],
}


def _nopad_collation(bind):
    if bind.dialect.name == 'mariadb' or getattr(bind.dialect, 'is_mariadb',
                                                 False):
        return 'utf8mb4_nopad_bin'
    return 'utf8mb4_0900_bin'


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name not in ('mysql', 'mariadb'):
        return
    collation = _nopad_collation(bind)
    for table, columns in COLUMNS.items():
        # One statement per table: MySQL copies the table for each ALTER.
        # The new default collation also applies to columns added later.
        clauses = ['DEFAULT CHARACTER SET utf8mb4 COLLATE %s' % collation]
        for column, definition in columns:
            kind, nullable = definition.split(' ', 1)
            clauses.append('MODIFY %s %s CHARACTER SET utf8mb4 COLLATE %s %s'
                           % (column, kind, collation, nullable))
        op.execute('ALTER TABLE %s %s' % (table, ', '.join(clauses)))
