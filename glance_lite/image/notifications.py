"""Notifications of what happened to images (spec §21), sent through
oslo.messaging's notifier.

A request never waits for the broker: an event is put on a bounded queue
of this process and a background thread sends it. While the broker is
slow or unreachable the events wait there (oslo.messaging's ``retry``
holds the one being sent); an event that finds the queue full is dropped
with a warning naming it. With no ``[oslo_messaging_notifications]
driver`` nothing is queued, built or sent at all.

Payloads are built from image records with the keys of spec §5.4 only,
so no location, store URI or path can ever be in one.
"""

import atexit
import collections
import os
import threading
import time

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_log import log as logging

from glance_lite.conf import notifications as notification_conf
from glance_lite.db import api as db_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

INFO = 'info'
ERROR = 'error'
# The keys of an image event's payload (spec §5.4, §21.3).
IMAGE_FIELDS = ('id', 'name', 'status', 'size', 'virtual_size',
                'disk_format', 'container_format', 'checksum', 'min_disk',
                'min_ram', 'is_public', 'protected', 'deleted', 'owner',
                'created_at', 'updated_at', 'deleted_at')
TIMESTAMP_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'

_lock = threading.Lock()
_sender = None


class Sender:
    """Sends events with ``notifier`` from one background thread, in the
    order they were put; at most ``size`` wait at once."""

    def __init__(self, notifier, size):
        self.notifier = notifier
        self.size = size
        self.pid = os.getpid()
        self._events = collections.deque()
        self._sending = False
        self._changed = threading.Condition()
        threading.Thread(target=self._run, name='notifications',
                         daemon=True).start()

    def put(self, priority, event_type, payload, ctxt):
        """Queue an event; False (nothing queued) when the queue is full."""
        with self._changed:
            if len(self._events) >= self.size:
                return False
            self._events.append((priority, event_type, payload, ctxt))
            self._changed.notify_all()
        return True

    def flush(self, timeout):
        """Wait until every queued event was sent, ``timeout`` seconds at
        most; True if the queue emptied."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._events or self._sending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def _run(self):
        while True:
            with self._changed:
                while not self._events:
                    self._changed.wait()
                priority, event_type, payload, ctxt = self._events.popleft()
                self._sending = True
            try:
                getattr(self.notifier, priority)(ctxt, event_type, payload)
            except Exception as e:  # noqa: BLE001 - the sender must go on
                LOG.warning('Notification %s could not be sent: %s',
                            event_type, type(e).__name__)
            finally:
                with self._changed:
                    self._sending = False
                    self._changed.notify_all()


def _make_notifier():
    # Imported here: it is slow to import, and only API processes send.
    import oslo_messaging
    notification_conf.set_messaging_defaults()
    transport = oslo_messaging.get_notification_transport(CONF)
    # Notifier.is_enabled() is true for an empty driver list too (it only
    # compares with ['noop']): with no driver configured nothing is sent,
    # so no sender is started at all.
    drivers = set(CONF.oslo_messaging_notifications.driver) - {'noop'}
    if not drivers:
        return None
    return oslo_messaging.Notifier(
        transport, publisher_id=CONF.default_publisher_id)


def start(notifier=None):
    """Set up this process's sender (``notifier`` by default built from
    the configuration); none when no driver is configured. Called when
    the application is loaded; a forked child gets its own on first use.
    """
    global _sender
    with _lock:
        if notifier is None:
            notifier = _make_notifier()
        _sender = (Sender(notifier, CONF.notification_queue_size)
                   if notifier is not None else None)
    return _sender


def stop():
    """Give the sender ``notification_flush_timeout`` seconds to deliver
    what is queued (a stopping process); later events are not sent."""
    global _sender
    with _lock:
        sender, _sender = _sender, None
    if sender is not None and sender.pid == os.getpid():
        if not sender.flush(CONF.notification_flush_timeout):
            LOG.warning('Stopping with notifications not sent: the broker '
                        'did not take them within %s seconds',
                        CONF.notification_flush_timeout)


atexit.register(stop)


def _current_sender():
    sender = _sender
    if sender is not None and sender.pid != os.getpid():
        # A forked worker: the parent's thread did not come along.
        sender = start()
    return sender


def enabled(event_type):
    """Whether ``event_type`` is sent (a driver is configured, and neither
    the type nor its group is in disabled_notifications)."""
    if _current_sender() is None:
        return False
    disabled = CONF.disabled_notifications
    return (event_type not in disabled and
            event_type.split('.', 1)[0] not in disabled)


def _context():
    # Only the request id: never a token or a catalog (spec §21.1).
    current = oslo_context.get_current()
    request_id = getattr(current, 'request_id', None)
    return {'request_id': request_id} if request_id else {}


def _emit(priority, event_type, payload, image_id, ctxt=None):
    sender = _current_sender()
    if sender is None:
        return
    if not sender.put(priority, event_type, payload,
                      _context() if ctxt is None else ctxt):
        LOG.warning('Notification %s of image %s dropped: %d are waiting '
                    'for the broker already', event_type, image_id,
                    sender.size)


def _timestamp(value):
    return value.strftime(TIMESTAMP_FORMAT) if value else None


def image_payload(image):
    """An image event's payload: the §5.4 attributes and every custom
    property, nothing else."""
    payload = {}
    for field in IMAGE_FIELDS:
        value = image.get(field)
        if field.endswith('_at'):
            value = _timestamp(value)
        payload[field] = value
    payload['size'] = payload['size'] or 0
    payload['properties'] = dict(image.get('properties') or {})
    return payload


def image_event(event_type, image):
    """Send ``event_type`` (INFO) about ``image`` as it is now."""
    if enabled(event_type):
        _emit(INFO, event_type, image_payload(image), image['id'])


def image_deleted(image_id):
    """Send ``image.delete`` with the record as stored after the delete."""
    if not enabled('image.delete'):
        return
    try:
        image = db_api.image_get(image_id)
    except Exception as e:  # noqa: BLE001 - the delete itself succeeded
        LOG.warning('Notification image.delete of image %s not sent: the '
                    'image could not be read back (%s)', image_id,
                    type(e).__name__)
        return
    _emit(INFO, 'image.delete', image_payload(image), image_id)


def upload_failed(image_id, error):
    """Send ``image.upload`` at ERROR: the image id and the reason the
    client was given (glance_lite's own message, never a store's text)."""
    if not enabled('image.upload'):
        return
    reason = getattr(error, 'msg', None)
    text = 'Failed to upload image %s' % image_id
    if reason and image_id not in reason:
        text = '%s: %s' % (text, reason)
    elif reason:
        text = reason
    _emit(ERROR, 'image.upload', text, image_id)


def download_reporter(context, image, size, destination_ip):
    """A function to call with the bytes sent once a download's body is
    closed: it sends ``image.send``, INFO when all ``size`` bytes went out,
    else ERROR. None when ``image.send`` is not sent at all."""
    if not enabled('image.send'):
        return None
    ctxt = _context()

    def sent(bytes_sent):
        payload = {'bytes_sent': bytes_sent,
                   'image_id': image['id'],
                   'owner_id': image.get('owner'),
                   'receiver_tenant_id': getattr(context, 'project_id', None),
                   'receiver_user_id': getattr(context, 'user_id', None),
                   'destination_ip': destination_ip}
        priority = INFO if bytes_sent == size else ERROR
        _emit(priority, 'image.send', payload, image['id'], ctxt)

    return sent
