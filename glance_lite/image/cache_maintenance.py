"""The image cache jobs that need the catalogue and the stores (spec
§20.9): prefetching the queue and removing entries no node may serve.
Meant for cron on every API node, safe while the node serves."""

import collections
from concurrent import futures

from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api
from glance_lite.image import images

LOG = logging.getLogger(__name__)

# Images fetched at once by a prefetch run.
PREFETCH_THREADS = 3

Outcome = collections.namedtuple('Outcome', 'image_id outcome failed')


def queue(cache, image_id):
    """Queue an active image for prefetching (the operator's command).

    :returns: True if queued now, False if it was cached, being cached or
        queued already.
    :raises ImageNotFound: no such image, or it is deleted.
    :raises Invalid: it is not active.
    """
    image = db_api.image_get(image_id)
    if image['deleted']:
        raise exception.ImageNotFound(image_id=image_id)
    images.check_queueable(image)
    return cache.queue(image_id)


def prefetch(cache):
    """Fill the entry of every queued image, oldest first.

    Active → filled (checksum verified) and dequeued; already cached →
    dequeued; deleted, killed or unknown → dequeued with a warning;
    any other status, or a fill already in progress → left queued; a store
    error or a mismatch → left queued and reported as failed.

    :returns: [Outcome] in queue order.
    """
    queued = cache.queued()
    with futures.ThreadPoolExecutor(PREFETCH_THREADS) as pool:
        return list(pool.map(lambda image_id: _prefetch_one(cache, image_id),
                             queued))


def _prefetch_one(cache, image_id):
    try:
        image = db_api.image_get(image_id)
    except exception.ImageNotFound:
        image = None
    if image is None or image['deleted'] or image['status'] in (
            image_status.DELETED, image_status.PENDING_DELETE,
            image_status.KILLED):
        cache.dequeue(image_id)
        what = 'unknown' if image is None else image['status']
        LOG.warning('Image %s is %s: removed from the cache queue',
                    image_id, what)
        return Outcome(image_id, 'dequeued (%s)' % what, False)
    if image['status'] != image_status.ACTIVE:
        return Outcome(image_id, 'left queued (%s)' % image['status'], False)
    if cache.is_cached(image_id):
        cache.dequeue(image_id)
        return Outcome(image_id, 'already cached', False)
    fill = cache.begin_fill(image)
    if fill is None:
        return Outcome(image_id, 'left queued (being cached, or the cache '
                       'is full)', False)
    try:
        chunks, _size = images.open_data(image)
        try:
            for chunk in chunks or ():
                fill.write(chunk)
        finally:
            if hasattr(chunks, 'close'):
                chunks.close()
    except Exception as e:  # noqa: BLE001 - reported, the run goes on
        fill.abandon()
        LOG.error('Prefetching image %s failed: %s', image_id,
                  getattr(e, 'msg', None) or type(e).__name__)
        return Outcome(image_id, 'failed: %s' % (
            getattr(e, 'msg', None) or type(e).__name__), True)
    if not fill.finish():
        return Outcome(image_id, 'failed: the data read does not match the '
                       'image', True)
    return Outcome(image_id, 'cached', False)


def remove_unservable(cache):
    """Remove the entries of images that are deleted, unknown or not
    active (another node deleted or deactivated them).

    :returns: [(image_id, reason)] removed.
    """
    removed = []
    for entry in cache.entries():
        image_id = entry['image_id']
        try:
            image = db_api.image_get(image_id)
        except exception.ImageNotFound:
            image = None
        if image is None:
            reason = 'unknown image'
        elif image['deleted'] or image['status'] != image_status.ACTIVE:
            reason = 'image %s' % image['status']
        else:
            continue
        if cache.remove(image_id):
            removed.append((image_id, reason))
    return removed
