"""One catalogue for the Image API v1 and v2 (v2 spec §21.1).

Images get ``visibility`` in place of ``is_public``, ``os_hidden`` and the
multihash (``os_hash_algo``, ``os_hash_value``), and ``size`` becomes
nullable (a v2 image has no size until its data arrives); memberships get
the member's ``status``; tags get a table of their own.

Existing rows are migrated by v2 spec §21.1 (decisions X-1 and X-2):
``is_public`` true becomes ``public``; false becomes ``shared`` when the
image has a live membership, else ``private``. Live memberships become
``accepted``: v1 members already listed the image, so they had accepted it
in all but name. Sizes keep their values (images reserved before this
revision keep 0). No hash is backfilled: that would read every image.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# As in the models of this revision (a migration must not change with
# later code).
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                       'mariadb')


def _nopad_collation(bind):
    # As revision 0002: exact, NO PAD comparison of tag values.
    if bind.dialect.name == 'mariadb' or getattr(bind.dialect, 'is_mariadb',
                                                 False):
        return 'utf8mb4_nopad_bin'
    return 'utf8mb4_0900_bin'


def _migrate_rows():
    images = sa.table('images', sa.column('id'), sa.column('is_public'),
                      sa.column('visibility'))
    members = sa.table('image_members', sa.column('image_id'),
                       sa.column('deleted'), sa.column('status'))
    has_members = sa.select(sa.literal(1)).where(
        members.c.image_id == images.c.id,
        members.c.deleted == sa.false()).exists()
    op.execute(images.update().values(visibility=sa.case(
        (images.c.is_public == sa.true(), 'public'),
        (has_members, 'shared'),
        else_='private')))
    op.execute(members.update().where(members.c.deleted == sa.false())
               .values(status='accepted'))


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('images') as batch:
        batch.add_column(sa.Column('visibility', sa.String(20)))
        batch.add_column(sa.Column('os_hidden', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('os_hash_algo', sa.String(64)))
        batch.add_column(sa.Column('os_hash_value', sa.String(128)))
    with op.batch_alter_table('image_members') as batch:
        batch.add_column(sa.Column('status', sa.String(20), nullable=False,
                                   server_default='pending'))

    _migrate_rows()

    with op.batch_alter_table('images') as batch:
        batch.alter_column('visibility', existing_type=sa.String(20),
                           nullable=False)
        batch.alter_column('size', existing_type=sa.BigInteger(),
                           nullable=True)
        batch.drop_index('ix_images_is_public')
        batch.drop_column('is_public')
        batch.create_index('ix_images_visibility', ['visibility'])
        batch.create_index('ix_images_os_hash_value', ['os_hash_value'])

    table_args = {}
    value_type = sa.String(255)
    if bind.dialect.name in ('mysql', 'mariadb'):
        # The table's collation is the one images.id has (a foreign key
        # needs the same); tag values compare exactly.
        table_args = {'mysql_charset': 'utf8mb4',
                      'mysql_collate': 'utf8mb4_bin',
                      'mysql_engine': 'InnoDB'}
        value_type = mysql.VARCHAR(255, collation=_nopad_collation(bind))
    op.create_table(
        'image_tags',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('value', value_type, nullable=False),
        sa.Column('created_at', Timestamp, nullable=False),
        sa.Column('updated_at', Timestamp, nullable=False),
        sa.UniqueConstraint('image_id', 'value',
                            name='uq_image_tags_image_id_value'),
        **table_args)
    op.create_index('ix_image_tags_value', 'image_tags', ['value'])
