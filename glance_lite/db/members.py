"""Catalogue queries on image memberships (v1 spec §11, v2 spec §15).
Memberships are soft-deleted; a member added again revives its record
(v1 spec §18 Q7) as a new, ``pending`` one (v2 spec §21.3, X-6)."""

from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.db import engine
from glance_lite.db import models

PENDING = 'pending'


def _member_dict(row):
    return {'image_id': row.image_id, 'member_id': row.member,
            'can_share': row.can_share, 'status': row.status,
            'created_at': row.created_at, 'updated_at': row.updated_at}


def _share_if_private(session, image_id):
    # A v1 sharer adding a member means the member should see the image:
    # a private image becomes shared (v2 spec §21.3, X-5).
    session.execute(
        sa.update(models.Image)
        .where(models.Image.id == image_id,
               models.Image.visibility == 'private')
        .values(visibility='shared'))


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
            updated_at=now, deleted=False, status=PENDING,
            can_share=bool(can_share) if can_share is not None else False))
        return
    if row.deleted:
        # A removed member comes back as the same record (spec §18 Q7),
        # with a new answer to give.
        row.deleted, row.deleted_at, row.created_at = False, None, now
        row.can_share = bool(can_share)
        row.status = PENDING
    elif can_share is not None:
        row.can_share = bool(can_share)
    row.updated_at = now


@engine.writer
def member_set(session, image_id, member, can_share=None):
    """v1: add or update one membership (can_share None: keep / default);
    a private image becomes shared."""
    _member_upsert(session, image_id, member, can_share)
    _share_if_private(session, image_id)


@engine.writer
def member_add(session, image_id, member):
    """v2: add ``member`` (new or removed before) as ``pending``.

    :returns: the membership.
    :raises Conflict: it is a live member already.
    """
    if _live_membership(session, image_id, member) is not None:
        raise exception.Conflict("Member %s is duplicated for image %s"
                                 % (member, image_id))
    _member_upsert(session, image_id, member, None)
    session.flush()
    return _member_dict(_live_membership(session, image_id, member))


@engine.writer
def member_set_status(session, image_id, member, status):
    """Record a member's answer; ``can_share`` is left alone (X-7).

    :returns: the membership, or None when ``member`` is not a live one.
    """
    row = _live_membership(session, image_id, member)
    if row is None:
        return None
    row.status, row.updated_at = status, timeutils.utcnow()
    session.flush()
    return _member_dict(row)


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
    if memberships:
        _share_if_private(session, image_id)


@engine.writer
def member_delete(session, image_id, member):
    """Soft-delete a live membership; False when there was none."""
    row = _live_membership(session, image_id, member)
    if row is None:
        return False
    now = timeutils.utcnow()
    row.deleted, row.deleted_at, row.updated_at = True, now, now
    return True
