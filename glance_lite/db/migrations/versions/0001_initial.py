"""The initial catalogue: images, properties, locations, members.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                       'mariadb')
TABLE_ARGS = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_bin',
              'mysql_engine': 'InnoDB'}


def upgrade():
    op.create_table(
        'images',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255)),
        sa.Column('disk_format', sa.String(20)),
        sa.Column('container_format', sa.String(20)),
        sa.Column('size', sa.BigInteger, nullable=False),
        sa.Column('virtual_size', sa.BigInteger),
        sa.Column('checksum', sa.String(32)),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('is_public', sa.Boolean, nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('min_disk', sa.Integer, nullable=False),
        sa.Column('min_ram', sa.Integer, nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('updated_at', TIMESTAMP, nullable=False),
        sa.Column('deleted_at', TIMESTAMP),
        sa.Column('deleted', sa.Boolean, nullable=False),
        **TABLE_ARGS)
    op.create_index('ix_images_deleted_created_at', 'images',
                    ['deleted', 'created_at', 'id'])
    op.create_index('ix_images_owner', 'images', ['owner'])
    op.create_index('ix_images_is_public', 'images', ['is_public'])
    op.create_index('ix_images_updated_at', 'images', ['updated_at'])
    op.create_index('ix_images_name', 'images', ['name'])
    op.create_index('ix_images_status', 'images', ['status'])

    op.create_table(
        'image_properties',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('value', sa.Text),
        sa.UniqueConstraint('image_id', 'name',
                            name='uq_image_properties_image_id_name'),
        **TABLE_ARGS)
    op.create_index('ix_image_properties_name', 'image_properties', ['name'])

    op.create_table(
        'image_locations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('url', sa.Text, nullable=False),
        sa.Column('meta_data', sa.Text),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        **TABLE_ARGS)
    op.create_index('ix_image_locations_image_id', 'image_locations',
                    ['image_id'])

    op.create_table(
        'image_members',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('member', sa.String(255), nullable=False),
        sa.Column('can_share', sa.Boolean, nullable=False),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('updated_at', TIMESTAMP, nullable=False),
        sa.Column('deleted_at', TIMESTAMP),
        sa.Column('deleted', sa.Boolean, nullable=False),
        sa.UniqueConstraint('image_id', 'member',
                            name='uq_image_members_image_id_member'),
        **TABLE_ARGS)
    op.create_index('ix_image_members_member', 'image_members',
                    ['member', 'deleted'])
