"""Operator maintenance run by glance-lite-manage: interrupted uploads
and the consistency of the catalogue with the store.

Both are safe while API nodes serve uploads: a live upload refreshes its
image's ``updated_at`` (``upload.py``'s heartbeat), cleanup kills only
through a conditional update on the ``updated_at`` it read, and the check
never counts the data of a ``saving`` image as an orphan.
"""

import collections
import datetime

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api
from glance_lite import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# How many store objects are looked up in the catalogue at a time.
_BATCH = 500

StaleUpload = collections.namedtuple('StaleUpload',
                                     'image_id updated_at outcome')
# Appended to a stale upload's outcome when stores kept its partial data.
DATA_LEFT = ', data left in %s'
Orphan = collections.namedtuple('Orphan', 'name uri size reason')
BadImage = collections.namedtuple('BadImage', 'image_id status uri problem')


def check_stale_threshold(seconds):
    """Refuse thresholds a live upload's heartbeat could miss.

    :raises Invalid: ``seconds`` is under twice upload_heartbeat_interval.
    """
    minimum = 2 * CONF.upload_heartbeat_interval
    if seconds < minimum:
        raise exception.Invalid(
            "The threshold must be at least %d seconds (twice "
            "upload_heartbeat_interval): a live upload refreshes its image "
            "only every %d seconds." % (minimum,
                                        CONF.upload_heartbeat_interval))


def clean_stale_uploads(older_than, dry_run=False):
    """End the uploads of the ``saving`` images that showed no sign of
    life for ``older_than`` seconds (their API process died, or the client
    went silent) as their API ends a failed upload — a v1 upload's image
    killed, a v2 upload's queued again (v2 spec §18) — and remove their
    partial data.

    :returns: a StaleUpload per stale image; ``outcome`` is ``killed`` or
        ``queued`` (with ``, data left in <schemes>`` for stores that
        cannot locate the data), ``alive`` (a heartbeat came in
        meanwhile) or ``stale`` (dry run).
    """
    check_stale_threshold(older_than)
    before = timeutils.utcnow() - datetime.timedelta(seconds=older_than)
    results = []
    for image in db_api.image_list_stale_saving(before):
        outcome = 'stale' if dry_run else _end_stale_upload(image)
        results.append(StaleUpload(image['id'], image['updated_at'],
                                   outcome))
    return results


def _end_stale_upload(image):
    ended = db_api.image_end_stale_upload(image['id'], image['updated_at'])
    if ended is None:
        return 'alive'
    # Ended first, data second: an upload still streaming now fails its
    # final saving -> active step and removes its data.
    _removed, unsupported = store.remove_partial_data(image['id'])
    LOG.info("Stale upload to image %s %s (last active %s)", image['id'],
             'killed' if ended == image_status.KILLED
             else 'ended, the image queued again', image['updated_at'])
    if unsupported:
        return ended + DATA_LEFT % ', '.join(unsupported)
    return ended


def find_orphans():
    """Store objects no image needs: no such image, or an image that is
    killed, deleted or queued, or whose locations point elsewhere. The
    data of a ``saving`` image is an upload in flight, never an orphan.

    :raises EnumerationUnsupported: a store that cannot list its objects.
    """
    batch = []
    for obj in store.list_objects():
        batch.append(obj)
        if len(batch) >= _BATCH:
            yield from _orphans_in(batch)
            batch = []
    if batch:
        yield from _orphans_in(batch)


def _orphans_in(objects):
    # Read after listing: data listed for an upload that finished (or was
    # deleted) meanwhile is judged by the image's state now.
    records = db_api.image_data_records(obj.name for obj in objects)
    for obj in objects:
        record = records.get(obj.name)
        if record is None:
            reason = 'no image'
        elif _is_location(obj.uri, record['urls']):
            continue
        elif record['status'] == image_status.SAVING and not record[
                'deleted']:
            continue
        elif record['deleted']:
            reason = 'image %s' % record['status']
        elif record['status'] in (image_status.KILLED, image_status.QUEUED):
            reason = 'image %s' % record['status']
        else:
            reason = 'not a location of image (%s)' % record['status']
        yield Orphan(obj.name, obj.uri, obj.size, reason)


def _is_location(uri, urls):
    """True if ``uri`` is one of ``urls``, credentials aside: a swift
    location holds the store user's password, which the operator may have
    changed since the image was written; its data is still the image's
    and must never be removed as an orphan."""
    if uri in urls:
        return True
    return store.redacted(uri) in {store.redacted(url) for url in urls}


def find_bad_images():
    """Images holding data (active, deactivated) whose data is missing
    from its store or has another size than the catalogue records.
    Locations outside the listed stores (external http) are not checked.

    :raises StoreUnavailable: a remote store (swift, s3) did not answer.
    """
    after = None
    while True:
        page = db_api.image_list_with_data(
            (image_status.ACTIVE, image_status.DEACTIVATED), after_id=after)
        if not page:
            return
        for image in page:
            for uri in image['urls']:
                if not store.lists_data_of(uri):
                    continue
                problem = _data_problem(uri, image['size'])
                if problem:
                    yield BadImage(image['id'], image['status'], uri,
                                   problem)
        after = page[-1]['id']


def _data_problem(uri, size):
    # StoreUnavailable (a remote store down) passes: the check cannot
    # tell, and must not drop locations on such an answer.
    try:
        found = store.stored_size(uri)
    except exception.NotFound:
        return 'data missing'
    except exception.StoreUnavailable:
        raise
    except exception.GlanceLiteError as e:
        return 'data unreadable: %s' % e.msg
    if found != size:
        return 'data is %d bytes, image size is %d' % (found, size)
    return None


def remove_orphan(orphan):
    """Delete an orphan's data, with the pieces of an interrupted upload
    listed with it (Swift segments, S3 multipart uploads). Never raises;
    True on success."""
    try:
        store.remove_object(orphan)
        return True
    except exception.GlanceLiteError as e:
        LOG.warning("Could not remove orphan %s: %s", orphan.name, e.msg)
        return False


def retire_bad_location(bad):
    """Forget a location whose data is missing or of the wrong size; an
    image left without data becomes ``killed``. The data itself is kept
    (for inspection): the next check lists it as an orphan.

    :returns: the image's status now, or None if it changed meanwhile.
    """
    return db_api.image_drop_missing_location(bad.image_id, bad.uri,
                                              bad.status)
