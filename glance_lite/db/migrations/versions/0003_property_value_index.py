"""Property filters use an index on (name, value) instead of every row with
that property name.

``property-NAME=VALUE`` list filters looked up ``image_properties`` by name
only, then compared the value of every image having that property: with
10^6 images, a rare value meant reading 10^6 rows. The new index is on the
name and the first ``PROPERTY_VALUE_PREFIX`` characters of the value
(values are unbounded, spec §5.6, and PostgreSQL refuses index entries over
about 2.7 kB, MySQL key parts over 3072 bytes): an expression index on
SQLite and PostgreSQL, which the query matches with the same
``substr(value, 1, 200)``, a prefix index on MySQL/MariaDB. It starts
with the name, so it replaces the name-only index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Keep equal to glance_lite.db.api.PROPERTY_VALUE_PREFIX (a migration must
# not change with later code).
PROPERTY_VALUE_PREFIX = 200
INDEX = 'ix_image_properties_name_value'


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name in ('mysql', 'mariadb'):
        op.create_index(INDEX, 'image_properties', ['name', 'value'],
                        mysql_length={'value': PROPERTY_VALUE_PREFIX})
    else:
        op.create_index(INDEX, 'image_properties', [
            'name', sa.text('substr(value, 1, %d)' % PROPERTY_VALUE_PREFIX)])
    op.drop_index('ix_image_properties_name', 'image_properties')
