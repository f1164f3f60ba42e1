"""Finishing, once the catalogue database answers again, what a request
left undone when the database went away under it.

A request that loses its database connection answers 503, but some of
its work may already be done outside the database (image data written to
the store) or may have been committed without the answer arriving. Left
alone, a failed upload's image would stay ``saving`` for ever and data
could stay in the store with no live image.

One worker thread per process does this for every such request: the work
waits in a queue keyed by image id (several requests about one image are
settled together, in the order they came), and the worker polls the
database with a backoff that doubles up to ``MAX_DELAY``. An outage that
hits a thousand requests therefore costs one polling thread, not a
thousand. The queue is bounded: past ``MAX_PENDING_IMAGES`` images the
work is dropped with an error in the log, and what it would have settled
is left to ``glance-lite-manage images clean-stale`` and ``store check``.
"""

import collections
import threading
import time

from oslo_db import exception as db_exc
from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.db import api as db_api

LOG = logging.getLogger(__name__)

# Seconds between attempts to reach the database, doubling up to the
# maximum.
FIRST_DELAY = 1
MAX_DELAY = 30
# Images whose settling may wait at once in one process.
MAX_PENDING_IMAGES = 10000


class Settler:
    """A bounded queue of work waiting for the database, and the one
    thread that does it.

    :param read_image: reads an image by id, raising ImageNotFound or
        DBConnectionError (``db.api.image_get``).
    :param sleep: waits a number of seconds (``time.sleep``).
    """

    def __init__(self, read_image, sleep=time.sleep,
                 max_pending=MAX_PENDING_IMAGES):
        self._read_image = read_image
        self._sleep = sleep
        self._max_pending = max_pending
        # image id -> [(finish, interrupted), ...], oldest image first.
        self._pending = collections.OrderedDict()
        self._changed = threading.Condition()
        self._worker = None
        # The image whose work the worker is doing now.
        self._settling = None

    def pending(self):
        """The ids of the images waiting to be settled, oldest first."""
        with self._changed:
            return list(self._pending)

    def wait(self, image_id, timeout):
        """Wait until no work about ``image_id`` is queued or under way.

        :returns: False if some still was after ``timeout`` seconds.
        """
        with self._changed:
            return self._changed.wait_for(
                lambda: (image_id not in self._pending and
                         self._settling != image_id), timeout)

    def add(self, image_id, finish, interrupted):
        """Queue ``finish(image)`` to run once ``image_id`` can be read
        again (``image`` is None if there is no such image).

        :param interrupted: what was interrupted, for the log ("The upload").
        :returns: False when the queue was full and the work was dropped.
        """
        with self._changed:
            if (image_id not in self._pending and
                    len(self._pending) >= self._max_pending):
                LOG.error("%s of image %s lost the database, and %d images "
                          "already wait to be settled: it is left to "
                          "glance-lite-manage", interrupted, image_id,
                          self._max_pending)
                return False
            LOG.warning("%s of image %s lost the database; it will be "
                        "settled when the database is back", interrupted,
                        image_id)
            self._pending.setdefault(image_id, []).append(
                (finish, interrupted))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name='settle', daemon=True)
                self._worker.start()
            self._changed.notify_all()
        return True

    def _run(self):
        delay = FIRST_DELAY
        while True:
            with self._changed:
                if not self._pending:
                    delay = FIRST_DELAY
                while not self._pending:
                    self._changed.wait()
                image_id = next(iter(self._pending))
            # Wait first: the request that queued the work has only just
            # lost the database.
            self._sleep(delay)
            try:
                image = self._read_image(image_id)
            except db_exc.DBConnectionError:
                delay = min(2 * delay, MAX_DELAY)
                continue
            except exception.ImageNotFound:
                image = None
            except Exception:  # noqa: BLE001 - the worker must not die
                LOG.exception("Could not settle image %s", image_id)
                image = _UNREADABLE
            delay = FIRST_DELAY
            with self._changed:
                work = self._pending.pop(image_id, [])
                self._settling = image_id
            try:
                for finish, interrupted in work:
                    self._finish(image_id, image, finish, interrupted)
            finally:
                with self._changed:
                    self._settling = None
                    self._changed.notify_all()

    @staticmethod
    def _finish(image_id, image, finish, interrupted):
        if image is _UNREADABLE:
            return
        try:
            finish(image)
        except Exception:  # noqa: BLE001 - the worker must not die
            LOG.exception("Could not settle image %s", image_id)
            return
        LOG.info("%s of image %s settled after the database outage",
                 interrupted, image_id)


# The image could not be read for a reason other than an outage: its work
# is dropped (logged) rather than retried for ever.
_UNREADABLE = object()

_settler = Settler(lambda image_id: db_api.image_get(image_id))


def when_database_returns(image_id, finish, interrupted):
    """Call ``finish(image)`` in the process's settling thread as soon as
    the image can be read again (``image`` is None if there is no such
    image).

    :param interrupted: what was interrupted, for the log ("The upload").
    """
    _settler.add(image_id, finish, interrupted)


def wait_until_settled(image_id, timeout):
    """Wait until no settling of ``image_id`` is queued or under way.

    :returns: False if some still was after ``timeout`` seconds.
    """
    return _settler.wait(image_id, timeout)
