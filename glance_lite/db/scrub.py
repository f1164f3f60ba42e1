"""Catalogue queries behind the scrubber and restore (spec §22.7): the
``pending_delete`` images whose data waits in the store, the claim a
scrubber takes on one, and the two ways out (``deleted``, or restored).

The claim is the image row's ``updated_at``. A delete sets ``updated_at``
and ``deleted_at`` to the same instant, and nothing else writes the row
of a deleted image (updates answer 404 or 403 for it), so a
``pending_delete`` image is free while ``updated_at <= deleted_at``. A
scrubber claims it by a conditional update on the ``updated_at`` it read
(as ``images clean-stale`` kills a stale upload): of scrubbers on several
nodes racing for one image, one wins. The claim's value, the claim time,
is its token: only its holder finishes or releases it, and a claim older
than ``scrub_claim_timeout`` (its scrubber died) is free again.
"""

import collections
import datetime

from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import engine
from glance_lite.db import models
from glance_lite.db import records

# A pending_delete image as the scrubber sees it; ``urls`` are the
# locations whose data it still has to remove.
Pending = collections.namedtuple('Pending',
                                 'id deleted_at updated_at urls')


def _free(image, expired_before):
    """SQL: the pending_delete image is not held by a live claim."""
    return sa.or_(image.updated_at <= image.deleted_at,
                  image.updated_at < expired_before)


@engine.reader
def image_list_scrubbable(session, deleted_before, expired_before,
                          after=None, limit=1000):
    """One page of the ``pending_delete`` images deleted before
    ``deleted_before`` and not claimed since ``expired_before``, oldest
    delete first.

    :param after: (deleted_at, id) of the last image of the previous page.
    :returns: [Pending]
    """
    image = models.Image
    query = (sa.select(image.id, image.deleted_at, image.updated_at)
             .where(image.deleted.is_(True),
                    image.status == image_status.PENDING_DELETE,
                    image.deleted_at <= deleted_before,
                    _free(image, expired_before))
             .order_by(image.deleted_at, image.id).limit(limit))
    if after is not None:
        last_deleted_at, last_id = after
        query = query.where(sa.or_(
            image.deleted_at > last_deleted_at,
            sa.and_(image.deleted_at == last_deleted_at,
                    image.id > last_id)))
    rows = session.execute(query).all()
    urls = _pending_urls(session, [row.id for row in rows])
    return [Pending(row.id, row.deleted_at, row.updated_at,
                    urls.get(row.id, [])) for row in rows]


def _pending_urls(session, image_ids):
    loc = models.ImageLocation
    found = collections.defaultdict(list)
    if image_ids:
        for image_id, url in session.execute(
                sa.select(loc.image_id, loc.url)
                .where(loc.image_id.in_(image_ids),
                       loc.status == image_status.LOCATION_PENDING_DELETE)
                .order_by(loc.id)):
            found[image_id].append(url)
    return found


@engine.writer
def image_claim_for_scrub(session, image_id, updated_at):
    """Claim a ``pending_delete`` image for one scrubber, if its
    ``updated_at`` is still the value the caller read.

    :returns: the claim (a timestamp) or None: another scrubber claimed
        it, or it was restored, meanwhile.
    """
    # Newer than the delete even if this node's clock is behind the one
    # that deleted: a claim must not look free.
    claim = max(timeutils.utcnow(),
                updated_at + datetime.timedelta(microseconds=1))
    image = models.Image
    changed = session.execute(
        sa.update(image)
        .where(image.id == image_id,
               image.deleted.is_(True),
               image.status == image_status.PENDING_DELETE,
               image.updated_at == updated_at)
        .values(updated_at=claim)
        .execution_options(synchronize_session=False))
    return claim if changed.rowcount == 1 else None


@engine.writer
def image_location_scrubbed(session, image_id, url):
    """Record that the data of one ``pending_delete`` location is gone."""
    loc = models.ImageLocation
    session.execute(
        sa.update(loc)
        .where(loc.image_id == image_id, loc.url == url,
               loc.status == image_status.LOCATION_PENDING_DELETE)
        .values(status=image_status.LOCATION_DELETED)
        .execution_options(synchronize_session=False))


def _claimed_row(session, image_id, claim):
    try:
        row = records.load(session, image_id, lock=True)
    except exception.ImageNotFound:
        return None
    if row.status != image_status.PENDING_DELETE or row.updated_at != claim:
        return None
    return row


@engine.writer
def image_finish_scrub(session, image_id, claim):
    """Move a claimed image whose data is all gone to ``deleted``.

    :returns: True if this call did; False when the claim is no longer
        the caller's or data locations remain.
    """
    row = _claimed_row(session, image_id, claim)
    if row is None or any(loc.status == image_status.LOCATION_PENDING_DELETE
                          for loc in row.locations):
        return False
    records.set_status(row, image_status.DELETED)
    row.updated_at = timeutils.utcnow()
    return True


@engine.writer
def image_release_scrub(session, image_id, claim):
    """Give a claimed image back (its data could not all be removed): the
    next run retries it."""
    row = _claimed_row(session, image_id, claim)
    if row is not None:
        row.updated_at = row.deleted_at


@engine.writer
def image_restore_pending(session, image_id, updated_at):
    """Bring a ``pending_delete`` image back as it was before its delete:
    ``active``, not deleted, its locations live again and the memberships
    its delete removed (those soft-deleted at the same instant) restored;
    only if its ``updated_at`` is still the value the caller read (no
    scrubber claimed it since).

    :returns: the restored image.
    :raises ImageNotFound: no such id.
    :raises Conflict: it changed since the caller read it.
    """
    row = records.load(session, image_id, lock=True)
    if (row.status != image_status.PENDING_DELETE or
            row.updated_at != updated_at):
        raise exception.Conflict()
    deleted_at = row.deleted_at
    records.set_status(row, image_status.ACTIVE,
                       reason=image_status.UNDO_DELETE)
    now = timeutils.utcnow()
    row.updated_at = now
    for loc in row.locations:
        if loc.status == image_status.LOCATION_PENDING_DELETE:
            loc.status = image_status.LOCATION_ACTIVE
    member = models.ImageMember
    session.execute(
        sa.update(member)
        .where(member.image_id == image_id, member.deleted.is_(True),
               member.deleted_at == deleted_at)
        .values(deleted=False, deleted_at=None, updated_at=now)
        .execution_options(synchronize_session=False))
    session.flush()
    return records.to_dict(row)
