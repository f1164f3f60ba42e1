"""The catalogue's tables (v1 spec §5.7, v2 spec §21.1): one catalogue
that both APIs read and write.

Deletion is soft for images (their ids are never reused and admins can
still read them), so rows stay with ``deleted`` set. Custom properties
are hard-deleted when purged, and tags when removed: no API can read a
removed one.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm

# Microsecond timestamps everywhere (MySQL's DATETIME drops them otherwise).
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                       'mariadb')
# Exact, case-sensitive matching and ordering on MySQL/MariaDB as on the
# other engines: v1 filters are exact matches. Migration 0002 moves the
# matched text columns to a NO PAD binary collation ('foo' != 'foo ').
TABLE_ARGS = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_bin',
              'mysql_engine': 'InnoDB'}


class Base(orm.DeclarativeBase):
    pass


class Image(Base):
    __tablename__ = 'images'
    __table_args__ = (
        # Lists: live images in creation order (the default sort), and the
        # per-owner / public scoping that every non-admin list applies.
        sa.Index('ix_images_deleted_created_at', 'deleted', 'created_at',
                 'id'),
        sa.Index('ix_images_owner', 'owner'),
        sa.Index('ix_images_visibility', 'visibility'),
        sa.Index('ix_images_os_hash_value', 'os_hash_value'),
        sa.Index('ix_images_updated_at', 'updated_at'),
        sa.Index('ix_images_name', 'name'),
        sa.Index('ix_images_status', 'status'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255))
    disk_format = sa.Column(sa.String(20))
    container_format = sa.Column(sa.String(20))
    # Null until the size is known (a v2 image before its data; v1
    # shows it as 0).
    size = sa.Column(sa.BigInteger)
    virtual_size = sa.Column(sa.BigInteger)
    checksum = sa.Column(sa.String(32))
    status = sa.Column(sa.String(30), nullable=False)
    # While saving: the status the upload's failure leaves the image in
    # (killed through v1, queued through v2), for the stale-upload cleaner
    # to end a dead upload as its API would have. Null: killed.
    upload_failure_status = sa.Column(sa.String(30))
    # public, community, shared or private (v2 spec §4.2); v1's is_public
    # is "visibility is public" (§21.2).
    visibility = sa.Column(sa.String(20), nullable=False, default='private')
    protected = sa.Column(sa.Boolean, nullable=False, default=False)
    min_disk = sa.Column(sa.Integer, nullable=False, default=0)
    min_ram = sa.Column(sa.Integer, nullable=False, default=0)
    owner = sa.Column(sa.String(255))
    os_hidden = sa.Column(sa.Boolean, nullable=False, default=False)
    os_hash_algo = sa.Column(sa.String(64))
    os_hash_value = sa.Column(sa.String(128))
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp, nullable=False)
    deleted_at = sa.Column(Timestamp)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False)

    properties = orm.relationship(
        'ImageProperty', back_populates='image', lazy='selectin',
        cascade='all, delete-orphan', order_by='ImageProperty.id')
    locations = orm.relationship(
        'ImageLocation', back_populates='image', lazy='selectin',
        cascade='all, delete-orphan', order_by='ImageLocation.id')
    tags = orm.relationship(
        'ImageTag', back_populates='image', lazy='selectin',
        cascade='all, delete-orphan', order_by='ImageTag.id')


class ImageProperty(Base):
    __tablename__ = 'image_properties'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'name',
                            name='uq_image_properties_image_id_name'),
        # Property filters use ix_image_properties_name_value, on the name
        # and a prefix of the value: its form differs per engine, so it is
        # made by migration 0003 only.
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    # Unbounded (spec §5.6): MySQL's TEXT stops at 64 KiB.
    value = sa.Column(sa.Text().with_variant(mysql.LONGTEXT(), 'mysql',
                                             'mariadb'))

    image = orm.relationship('Image', back_populates='properties')


class ImageLocation(Base):
    """Where an image's bytes are. The URI may carry credentials and is
    never shown through the API."""

    __tablename__ = 'image_locations'
    __table_args__ = (
        sa.Index('ix_image_locations_image_id', 'image_id'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    url = sa.Column(sa.Text, nullable=False)
    meta_data = sa.Column(sa.Text)
    # active, pending_delete or deleted
    status = sa.Column(sa.String(30), nullable=False, default='active')
    created_at = sa.Column(Timestamp, nullable=False)

    image = orm.relationship('Image', back_populates='locations')


class ImageMember(Base):
    """A project (or user) an image is shared with (v1 spec §11, v2 §15).

    ``status`` (pending, accepted, rejected) is the member's answer, which
    decides only whether the image is in its v2 lists; ``can_share`` is
    v1's and v2 never shows or changes it.
    """

    __tablename__ = 'image_members'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'member',
                            name='uq_image_members_image_id_member'),
        sa.Index('ix_image_members_member', 'member', 'deleted'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    member = sa.Column(sa.String(255), nullable=False)
    can_share = sa.Column(sa.Boolean, nullable=False, default=False)
    status = sa.Column(sa.String(20), nullable=False, default='pending')
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp, nullable=False)
    deleted_at = sa.Column(Timestamp)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False)


class ImageTag(Base):
    """One tag of an image (v2 spec §14): a set per image, listed in the
    order the tags were added (the ``id`` order)."""

    __tablename__ = 'image_tags'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'value',
                            name='uq_image_tags_image_id_value'),
        sa.Index('ix_image_tags_value', 'value'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    value = sa.Column(sa.String(255), nullable=False)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp, nullable=False)

    image = orm.relationship('Image', back_populates='tags')
