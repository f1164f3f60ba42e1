"""Catalogue queries behind upload heartbeats, ``images clean-stale`` and
``store check``: finding uploads that died and data the store lost, and
the repairs (status.REPAIRS) that follow."""

from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import engine
from glance_lite.db import models
from glance_lite.db import records


@engine.writer
def image_heartbeat(session, image_id):
    """Show that an upload is alive: refresh ``updated_at`` of an image
    that is still ``saving`` (and not deleted).

    :returns: False when the image is no longer saving (killed by a
        stale-upload cleanup, or deleted): the upload should stop.
    """
    changed = session.execute(
        sa.update(models.Image)
        .where(models.Image.id == image_id,
               models.Image.status == image_status.SAVING,
               models.Image.deleted.is_(False))
        .values(updated_at=timeutils.utcnow())
        .execution_options(synchronize_session=False))
    return changed.rowcount == 1


@engine.reader
def image_list_stale_saving(session, updated_before):
    """Images still ``saving`` whose last sign of life (``updated_at``,
    refreshed by the upload's heartbeat) is older than ``updated_before``.

    :returns: [{'id', 'updated_at', 'owner'}], oldest first.
    """
    image = models.Image
    rows = session.execute(
        sa.select(image.id, image.updated_at, image.owner)
        .where(image.status == image_status.SAVING,
               image.deleted.is_(False),
               image.updated_at < updated_before)
        .order_by(image.updated_at, image.id))
    return [{'id': row.id, 'updated_at': row.updated_at, 'owner': row.owner}
            for row in rows]


@engine.writer
def image_end_stale_upload(session, image_id, updated_at):
    """End the upload of a ``saving`` image as its API ends a failed one
    (killed through v1, queued again through v2: the
    ``upload_failure_status`` recorded when it started), only if its
    ``updated_at`` is still the value the caller read: a heartbeat of a
    live upload in between wins (the repair
    ``status.REPAIR_STALE_UPLOAD``).

    :returns: the status the image is now in by this call, or None when
        it was left alone.
    """
    try:
        row = records.load(session, image_id, lock=True)
    except exception.ImageNotFound:
        return None
    if (row.deleted or row.status != image_status.SAVING
            or row.updated_at != updated_at):
        return None
    to_status = row.upload_failure_status or image_status.KILLED
    records.set_status(row, to_status,
                       reason=image_status.REPAIR_STALE_UPLOAD)
    row.updated_at = timeutils.utcnow()
    return to_status


@engine.reader
def image_data_records(session, image_ids):
    """What the catalogue says about the data of these images, for a
    store consistency check.

    :returns: {image_id: {'status', 'deleted', 'urls'}} for the ids that
        exist; ``urls`` are the locations whose data must be kept (live
        ones, and those waiting for a scrubber).
    """
    result = {}
    ids = list(image_ids)
    # Bounded IN lists: some engines limit the number of bound parameters.
    for start in range(0, len(ids), 500):
        rows = session.scalars(sa.select(models.Image).where(
            models.Image.id.in_(ids[start:start + 500])))
        for row in rows:
            result[row.id] = {
                'status': row.status, 'deleted': row.deleted,
                'urls': {loc.url for loc in row.locations
                         if loc.status in image_status.LOCATION_KEPT_STATUSES}}
    return result


@engine.reader
def image_list_with_data(session, statuses, after_id=None, limit=500):
    """One page (by id) of the live images in ``statuses`` with their live
    locations, for a store consistency check:
    [{'id', 'size', 'status', 'urls'}]; pass the last id as ``after_id``
    for the next page."""
    query = (sa.select(models.Image)
             .where(models.Image.status.in_(statuses),
                    models.Image.deleted.is_(False))
             .order_by(models.Image.id).limit(limit))
    if after_id is not None:
        query = query.where(models.Image.id > after_id)
    rows = session.scalars(query)
    return [{'id': row.id, 'size': row.size, 'status': row.status,
             'urls': [loc.url for loc in row.locations
                      if loc.status == image_status.LOCATION_ACTIVE]}
            for row in rows]


@engine.writer
def image_drop_missing_location(session, image_id, url, expected_status):
    """Forget a location whose data is gone from the store. An image left
    with no live location is marked ``killed``: it can no longer be
    served.

    :param expected_status: the status the caller saw: ``active`` or
        ``deactivated`` (the repair ``status.REPAIR_MISSING_DATA``).
    :returns: the image's status afterwards, or None when the image
        changed meanwhile (status, or deleted) and nothing was done.
    """
    row = records.load(session, image_id, lock=True)
    if row.deleted or row.status != expected_status:
        return None
    for loc in row.locations:
        if loc.url == url and loc.status == image_status.LOCATION_ACTIVE:
            loc.status = image_status.LOCATION_DELETED
    if not any(loc.status == image_status.LOCATION_ACTIVE
               for loc in row.locations):
        records.set_status(row, image_status.KILLED,
                           reason=image_status.REPAIR_MISSING_DATA)
    row.updated_at = timeutils.utcnow()
    return row.status
