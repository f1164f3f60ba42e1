"""The upload algorithm shared by POST and PUT, and by copy-from
(spec §6.5): queued -> saving -> active, or killed with nothing left in
the store."""

import functools
import socket
import threading
import time

from oslo_config import cfg
from oslo_context import context
from oslo_db import exception as db_exc
from oslo_log import log as logging

from glance_lite.api import quota
from glance_lite.api import settle
from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api
from glance_lite import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

READ_CHUNK_SIZE = 1024 * 1024


class _BoundedReader:
    """Counts the bytes read and enforces the size cap and, once
    ``limit_to_quota`` was called, the remaining storage quota."""

    def __init__(self, limit):
        self._limit = limit
        self._quota = None
        self._heartbeat = None
        self._next_heartbeat = None
        self.bytes_read = 0
        self.over_cap = False

    def limit_to_quota(self, remaining):
        self._quota = remaining

    def beat_while_reading(self, heartbeat, interval):
        """Call ``heartbeat()`` at most every ``interval`` seconds while
        data flows, to show the upload is alive."""
        self._heartbeat = heartbeat
        self._interval = interval
        self._next_heartbeat = time.monotonic() + interval

    def read(self, size=-1):
        if size is None or size < 0:
            size = READ_CHUNK_SIZE
        return self._account(self._read(size))

    def drain(self):
        """Read on without storing, to count the real size once the cap was
        crossed. Reading stops at twice the cap, so an endless body cannot
        hold the request forever.

        :returns: the byte count, or "more than N" when reading stopped.
        """
        try:
            while self.bytes_read <= 2 * self._limit:
                data = self._read(READ_CHUNK_SIZE)
                if not data:
                    return self.bytes_read
                self.bytes_read += len(data)
        except exception.ClientDisconnected:
            return self.bytes_read
        return 'more than %d' % (2 * self._limit)

    def _account(self, data):
        self.bytes_read += len(data)
        if (self._heartbeat is not None and
                time.monotonic() >= self._next_heartbeat):
            self._heartbeat()
            self._next_heartbeat = time.monotonic() + self._interval
        if self.bytes_read > self._limit:
            self.over_cap = True
            raise exception.LimitExceeded(
                "Denying attempt to upload image larger than %d bytes."
                % self._limit)
        if self._quota is not None and self.bytes_read > self._quota:
            raise exception.LimitExceeded(
                "Denying attempt to upload image because it exceeds the "
                "quota: the remaining storage quota is %d bytes."
                % self._quota)
        return data


class RequestBodyReader(_BoundedReader):
    """The request body as a file for the store: bounded reads, limits
    enforced while reading, and short bodies reported as disconnects.

    :param stream: wsgi.input.
    :param content_length: the framed length, or None for a chunked body
        (read until it ends).
    :param limit: most bytes accepted; crossing it raises LimitExceeded.
    """

    def __init__(self, stream, content_length, limit):
        super().__init__(limit)
        self._stream = stream
        self._remaining = content_length

    def _read(self, size):
        if self._remaining == 0:
            return b''
        if self._remaining is not None:
            size = min(size, self._remaining)
        try:
            data = self._stream.read(size)
        except (OSError, ValueError, socket.timeout) as e:
            # Socket errors, timeouts and broken chunk framing all mean the
            # client stopped sending before the body was complete.
            LOG.info("Upload body read failed: %s", type(e).__name__)
            raise exception.ClientDisconnected()
        if self._remaining is not None:
            if not data:
                raise exception.ClientDisconnected()
            self._remaining -= len(data)
        return data


class IteratorReader(_BoundedReader):
    """A chunk iterator (a store's read side) as a bounded file."""

    def __init__(self, chunks, limit):
        super().__init__(limit)
        self._chunks = iter(chunks)
        self._buffer = b''

    def _read(self, size):
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class ChunkedInput:
    """A request body that a server hands over chunk by chunk (uWSGI's
    ``uwsgi.chunked_read``), as a wsgi.input file: ``read(n)`` returns n
    bytes (fewer only at the end), ``read()`` the rest, b'' at the end.

    :param chunks: an iterator of non-empty byte strings.
    """

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buffer = bytearray()
        self._ended = False

    def _fill(self, size):
        """Buffer at least size bytes (all of them for None) unless the
        body ends first."""
        while not self._ended and (size is None or len(self._buffer) < size):
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._ended = True

    def read(self, size=-1):
        if size is None or size < 0:
            size = None
        self._fill(size)
        size = len(self._buffer) if size is None else size
        data = bytes(self._buffer[:size])
        # Deleting from the front of a bytearray does not move the rest.
        del self._buffer[:size]
        return data

    def readline(self, size=-1):
        while b'\n' not in self._buffer and not self._ended and (
                size is None or size < 0 or len(self._buffer) < size):
            self._fill(len(self._buffer) + 1)
        end = self._buffer.find(b'\n') + 1 or len(self._buffer)
        if size is not None and size >= 0:
            end = min(end, size)
        return self.read(end)

    def readlines(self, hint=-1):
        return list(self)

    def __iter__(self):
        return iter(self.readline, b'')


def _mismatch(image_id, field, declared, actual):
    LOG.warning("Upload to image %s: supplied %s (%s) and %s of the data "
                "(%s) did not match; the image is killed", image_id, field,
                declared, field, actual)
    return exception.Invalid(
        "Supplied %s (%s) and %s generated from uploaded image (%s) did "
        "not match. Setting image status to 'killed'."
        % (field, declared, field, actual))


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


def _kill(image_id):
    try:
        db_api.image_kill(image_id)
    except db_exc.DBConnectionError:
        # Without this the image would stay `saving` for ever.
        settle.when_database_returns(
            image_id, lambda _image: _kill(image_id),
            'Killing a failed upload')
    except Exception:  # noqa: BLE001 - the original error is what matters
        LOG.exception("Could not mark image %s killed", image_id)


def _settle_activation(image_id, url, image):
    """After an activation whose answer was lost with the database: keep
    the data if the activation was committed, else remove it and kill the
    image."""
    if image is not None and image['status'] == image_status.ACTIVE and (
            any(loc['url'] == url for loc in image['locations'])):
        LOG.info("Image %s was activated before the database went away; "
                 "its data is kept", image_id)
        return
    store.delete_quietly(url)
    _kill(image_id)


def upload(image, data, store_name=None, owner=None):
    """Store ``data`` as the bytes of a queued image and activate it.

    :param image: the image record (dict) holding the declared size and
        checksum to verify against.
    :param data: one of the readers above.
    :param owner: whose storage quota the data counts against (None: the
        caller has no owner, so no usage, only the quota itself).
    :returns: the active image.
    :raises Conflict: the image is no longer queued, or lost a race.
    :raises ImageDeletedDuringUpload: it was deleted while data streamed.
    :raises Invalid: size/checksum mismatch or client disconnect (the image
        is then killed); LimitExceeded for the size cap or the storage quota;
        other store errors as ``store.add``.
    """
    image_id = image['id']
    try:
        db_api.image_transition(image_id, image_status.SAVING)
    except exception.Conflict:
        raise exception.Conflict("Cannot upload to an unqueued image")
    try:
        remaining = quota.remaining_storage(owner, image_id)
        quota.check_storage(image.get('size') or 0, remaining)
        data.limit_to_quota(remaining)
        data.beat_while_reading(lambda: _heartbeat(image_id),
                                CONF.upload_heartbeat_interval)
        url, size, checksum, metadata = store.add(image_id, data, store_name)
    except exception.LimitExceeded:
        _kill(image_id)
        if image.get('size') and data.over_cap:
            # A size was declared (within the cap): the stream is not
            # capped then, the answer is the mismatch (spec §6.6). The
            # bytes past the cap are counted, never stored.
            raise _mismatch(image_id, 'size', image['size'], data.drain())
        raise
    except Exception:
        _kill(image_id)
        raise
    try:
        # Other uploads by the same owner may have finished meanwhile.
        quota.check_storage(size, quota.remaining_storage(owner, image_id))
    except exception.LimitExceeded:
        store.delete_quietly(url)
        _kill(image_id)
        raise
    mismatch = None
    if image.get('size') and image['size'] != size:
        mismatch = ('size', image['size'], size)
    elif image.get('checksum') and image['checksum'] != checksum:
        mismatch = ('checksum', image['checksum'], checksum)
    if mismatch:
        store.delete_quietly(url)
        _kill(image_id)
        raise _mismatch(image_id, *mismatch)
    try:
        return db_api.image_transition(
            image_id, image_status.ACTIVE,
            values={'size': size, 'checksum': checksum},
            location=(url, metadata))
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
            image_id, functools.partial(_settle_activation, image_id, url),
            'The activation of an upload')
        raise
    except Exception:
        store.delete_quietly(url)
        _kill(image_id)
        raise


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
        upload(image, IteratorReader(chunks, CONF.image_size_cap),
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
