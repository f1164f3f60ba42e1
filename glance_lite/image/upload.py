"""The upload algorithm every API shares (v1's POST and PUT, copy-from,
v2's data upload; spec §6.5, v2 spec §12.1): queued -> saving -> active,
or, with nothing left in the store, killed (v1) or back to queued (v2)."""

import functools
import threading

from oslo_config import cfg
from oslo_context import context
from oslo_db import exception as db_exc
from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api
from glance_lite.image import data as image_data
from glance_lite.image import inspection as format_inspection
from glance_lite.image import notifications
from glance_lite.image import quota
from glance_lite.image import settle
from glance_lite import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# What a failed upload leaves its image in: v1 kills it (spec §6.5), v2
# puts it back to queued for another try (v2 spec §12.1 step 9).
KILL = image_status.KILLED
REQUEUE = image_status.QUEUED


def _mismatch(image_id, field, declared, actual, on_failure=KILL):
    LOG.warning("Upload to image %s: supplied %s (%s) and %s of the data "
                "(%s) did not match; the image is %s", image_id, field,
                declared, field, actual, on_failure)
    return exception.Invalid(
        "Supplied %s (%s) and %s generated from uploaded image (%s) did "
        "not match. Setting image status to '%s'."
        % (field, declared, field, actual, on_failure))


def _heartbeat(image_id):
    """Refresh the uploading image's updated_at; stop the upload when the
    image is no longer saving (a stale-upload cleanup killed it, or it
    was deleted)."""
    try:
        alive = db_api.image_heartbeat(image_id)
    except Exception as e:  # noqa: BLE001 - the upload itself may go on
        LOG.warning("Upload to image %s: heartbeat failed: %s", image_id,
                    type(e).__name__)
        return
    if not alive:
        LOG.warning("Upload to image %s stopped: the image is no longer "
                    "saving", image_id)
        raise exception.Conflict(
            "Image %s is no longer saving (killed as a stale upload, or "
            "deleted); the upload was stopped." % image_id)


def _kill(image_id, on_failure=KILL):
    """End a failed upload: the image leaves ``saving`` for ``on_failure``
    (killed or queued)."""
    end = db_api.image_kill if on_failure == KILL else db_api.image_requeue
    try:
        end(image_id)
    except db_exc.DBConnectionError:
        # Without this the image would stay `saving` for ever.
        settle.when_database_returns(
            image_id, lambda _image: _kill(image_id, on_failure),
            'Ending a failed upload')
    except Exception:  # noqa: BLE001 - the original error is what matters
        LOG.exception("Could not mark image %s %s", image_id, on_failure)


def _settle_activation(image_id, url, on_failure, image):
    """After an activation whose answer was lost with the database: keep
    the data if the activation was committed, else remove it and kill the
    image."""
    if image is not None and image['status'] == image_status.ACTIVE and (
            any(loc['url'] == url for loc in image['locations'])):
        LOG.info("Image %s was activated before the database went away; "
                 "its data is kept", image_id)
        return
    store.delete_quietly(url)
    _kill(image_id, on_failure)


def upload(image, data, store_name=None, owner=None, on_failure=KILL):
    """Store ``data`` as the bytes of a queued image and activate it.

    :param image: the image record (dict) holding the declared size and
        checksum to verify against.
    :param data: a reader of ``glance_lite.image.data``.
    :param owner: whose storage quota the data counts against (None: the
        caller has no owner, so no usage, only the quota itself).
    :param on_failure: KILL (v1) or REQUEUE (v2): the status a failed
        upload leaves the image in, its data removed either way.
    :returns: the active image, with its checksum and multihash.
    :raises Conflict: the image is not queued (any more: another upload
        won), in the words of the API ``on_failure`` stands for.
    :raises ImageDeletedDuringUpload: it was deleted while data streamed.
    :raises Invalid: size/checksum mismatch or client disconnect;
        LimitExceeded for the size cap or the storage quota; other store
        errors as ``store.add``.
    """
    image_id = image['id']
    try:
        # The failure status is recorded for the stale-upload cleaner: if
        # this process dies, it ends the upload as this API would.
        db_api.image_transition(image_id, image_status.SAVING, values={
            'upload_failure_status': on_failure})
    except exception.InvalidTransition as e:
        if on_failure == REQUEUE:
            raise exception.Conflict(
                "Image status transition from %s to saving is not allowed"
                % e.from_status)
        raise exception.Conflict("Cannot upload to an unqueued image")
    except exception.Conflict:
        raise exception.Conflict("Cannot upload to an unqueued image")
    notifications.image_event('image.prepare', image)
    try:
        return _store_and_activate(image, data, store_name, owner,
                                   on_failure)
    except BaseException as e:
        # Every upload that fails after image.prepare says so once,
        # client disconnects included (spec §21.2).
        notifications.upload_failed(image_id, e)
        raise


def _store_and_activate(image, data, store_name, owner, on_failure):
    image_id = image['id']
    fail = functools.partial(_kill, image_id, on_failure)
    try:
        remaining = quota.remaining_storage(owner, image_id)
        quota.check_storage(image.get('size') or 0, remaining)
        data.limit_to_quota(remaining)
        data.beat_while_reading(lambda: _heartbeat(image_id),
                                CONF.upload_heartbeat_interval)
        inspection = format_inspection.inspect(image, data)
        stored = store.add(image_id,
                           data if inspection is None else inspection,
                           store_name, size_hint=image.get('size') or 0)
    except exception.LimitExceeded:
        fail()
        if image.get('size') and data.over_cap:
            # A size was declared (within the cap): the stream is not
            # capped then, the answer is the mismatch (spec §6.6). The
            # bytes past the cap are counted, never stored.
            raise _mismatch(image_id, 'size', image['size'], data.drain(),
                            on_failure)
        raise
    except Exception:
        fail()
        raise
    url, size, checksum = stored.url, stored.size, stored.checksum
    try:
        # Other uploads by the same owner may have finished meanwhile.
        quota.check_storage(size, quota.remaining_storage(owner, image_id))
    except exception.LimitExceeded:
        store.delete_quietly(url)
        fail()
        raise
    mismatch = None
    if image.get('size') and image['size'] != size:
        mismatch = ('size', image['size'], size)
    elif image.get('checksum') and image['checksum'] != checksum:
        mismatch = ('checksum', image['checksum'], checksum)
    if mismatch:
        store.delete_quietly(url)
        fail()
        raise _mismatch(image_id, *mismatch, on_failure=on_failure)
    values = {'size': size, 'checksum': checksum}
    if inspection is not None:
        try:
            virtual_size = inspection.verdict(size)
        except exception.ImageFormatRefused:
            store.delete_quietly(url)
            fail()
            raise
        if virtual_size is not None:
            values['virtual_size'] = virtual_size
    notifications.image_event('image.upload', dict(
        image, status=image_status.SAVING, size=size, checksum=checksum))
    try:
        values['os_hash_algo'], values['os_hash_value'] = stored.multihash
        active = db_api.image_transition(
            image_id, image_status.ACTIVE, values=values,
            location=(url, stored.metadata))
    except exception.ImageNotFound:
        store.delete_quietly(url)
        raise exception.ImageDeletedDuringUpload(image_id=image_id)
    except exception.Conflict:
        # Killed meanwhile: a stale-upload cleanup saw no progress.
        store.delete_quietly(url)
        raise exception.Conflict(
            "Image %s is no longer saving (killed as a stale upload); the "
            "uploaded data was discarded." % image_id)
    except db_exc.DBConnectionError:
        # The connection went with the activation in flight: it may have
        # been committed. Only the database can tell; keep the data until
        # it answers again.
        settle.when_database_returns(
            image_id, functools.partial(_settle_activation, image_id, url,
                                        on_failure),
            'The activation of an upload')
        raise
    except Exception:
        store.delete_quietly(url)
        fail()
        raise
    activated(active)
    return active


def activated(image):
    """Report an image that just became active (spec §21.2)."""
    notifications.image_event('image.activate', image)
    notifications.image_event('image.update', image)


def start_copy(image, source_uri, store_name=None, owner=None):
    """Copy the bytes at ``source_uri`` into our store in the background;
    the image goes saving -> active, or killed if anything fails. Its log
    lines carry the id of the request that started it."""
    thread = threading.Thread(target=_copy,
                              args=(image, source_uri, store_name, owner,
                                    context.get_current()),
                              name='copy-from-%s' % image['id'], daemon=True)
    thread.start()
    return thread


def _copy(image, source_uri, store_name, owner, request_context=None):
    if request_context is not None:
        request_context.update_store()
    try:
        chunks, _size = store.get(source_uri)
        upload(image, image_data.IteratorReader(chunks, CONF.image_size_cap),
               store_name, owner)
        LOG.info("Image %s copied from its external source", image['id'])
    except exception.GlanceLiteError as e:
        LOG.warning("Copy into image %s failed: %s", image['id'], e.msg)
        _kill_queued_or_saving(image['id'])
    except Exception:  # noqa: BLE001 - a background thread must not die
        LOG.exception("Copy into image %s failed", image['id'])
        _kill_queued_or_saving(image['id'])


def _kill_queued_or_saving(image_id, _image=None):
    # A source that cannot be opened fails before queued -> saving.
    try:
        db_api.image_transition(image_id, image_status.SAVING)
    except db_exc.DBConnectionError:
        # The copy's first write lost the database: without this the image
        # would stay queued for ever (and the thread die with a traceback).
        settle.when_database_returns(image_id, functools.partial(
            _kill_queued_or_saving, image_id), 'Killing a failed copy')
        return
    except exception.GlanceLiteError:
        pass
    _kill(image_id)
