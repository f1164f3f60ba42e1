"""Catalogue queries on image memberships (spec §11). Memberships are
soft-deleted; a member added again revives its record (spec §18 Q7)."""

from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.db import engine
from glance_lite.db import models


def _member_dict(row):
    return {'image_id': row.image_id, 'member_id': row.member,
            'can_share': row.can_share}


def _live_membership(session, image_id, member):
    return session.scalars(sa.select(models.ImageMember).where(
        models.ImageMember.image_id == image_id,
        models.ImageMember.member == member,
        models.ImageMember.deleted.is_(False))).first()


@engine.reader
def member_find(session, image_id, member):
    """The live membership of ``member`` in the image, or None."""
    row = _live_membership(session, image_id, member)
    return _member_dict(row) if row else None


@engine.reader
def member_list(session, image_id=None, member=None):
    """Live memberships of an image, or of a member, in creation order."""
    query = sa.select(models.ImageMember).where(
        models.ImageMember.deleted.is_(False))
    if image_id is not None:
        query = query.where(models.ImageMember.image_id == image_id)
    if member is not None:
        query = query.where(models.ImageMember.member == member)
    return [_member_dict(row) for row in
            session.scalars(query.order_by(models.ImageMember.id))]


def _member_upsert(session, image_id, member, can_share):
    now = timeutils.utcnow()
    row = session.scalars(sa.select(models.ImageMember).where(
        models.ImageMember.image_id == image_id,
        models.ImageMember.member == member)).first()
    if row is None:
        session.add(models.ImageMember(
            image_id=image_id, member=member, created_at=now,
            updated_at=now, deleted=False,
            can_share=bool(can_share) if can_share is not None else False))
        return
    if row.deleted:
        # A removed member comes back as the same record (spec §18 Q7).
        row.deleted, row.deleted_at, row.created_at = False, None, now
        row.can_share = bool(can_share)
    elif can_share is not None:
        row.can_share = bool(can_share)
    row.updated_at = now


@engine.writer
def member_set(session, image_id, member, can_share=None):
    """Add or update one membership (can_share None: keep / default)."""
    _member_upsert(session, image_id, member, can_share)


@engine.writer
def member_replace_all(session, image_id, memberships):
    """Make the image's live memberships exactly ``memberships``
    (a list of (member, can_share)); a can_share of None keeps an existing
    member's value and makes new or revived members false (spec §11.3)."""
    wanted = dict(memberships)
    now = timeutils.utcnow()
    for row in session.scalars(sa.select(models.ImageMember).where(
            models.ImageMember.image_id == image_id,
            models.ImageMember.deleted.is_(False))):
        if row.member not in wanted:
            row.deleted, row.deleted_at, row.updated_at = True, now, now
    session.flush()
    for member, can_share in memberships:
        _member_upsert(session, image_id, member, can_share)


@engine.writer
def member_delete(session, image_id, member):
    """Soft-delete a live membership; False when there was none."""
    row = _live_membership(session, image_id, member)
    if row is None:
        return False
    now = timeutils.utcnow()
    row.deleted, row.deleted_at, row.updated_at = True, now, now
    return True
