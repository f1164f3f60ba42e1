"""Finishing, once the catalogue database answers again, what a request
left undone when the database went away under it.

A request that loses its database connection answers 503, but some of
its work may already be done outside the database (image data written to
the store) or may have been committed without the answer arriving. Left
alone, a failed upload's image would stay ``saving`` for ever and data
could stay in the store with no live image. A background thread of the
process waits for the database and then settles the image.
"""

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


def when_database_returns(image_id, finish, interrupted):
    """Call ``finish(image)`` in a background thread as soon as the image
    can be read again (``image`` is None if there is no such image).

    :param interrupted: what was interrupted, for the log ("The upload").
    """
    LOG.warning("%s of image %s lost the database; it will be settled when "
                "the database is back", interrupted, image_id)
    threading.Thread(target=_wait_then_finish,
                     args=(image_id, finish, interrupted),
                     name='settle-%s' % image_id, daemon=True).start()


def _wait_then_finish(image_id, finish, interrupted):
    delay = FIRST_DELAY
    while True:
        time.sleep(delay)
        try:
            image = db_api.image_get(image_id)
        except db_exc.DBConnectionError:
            delay = min(2 * delay, MAX_DELAY)
            continue
        except exception.ImageNotFound:
            image = None
        except Exception:  # noqa: BLE001 - a background thread must not die
            LOG.exception("Could not settle image %s", image_id)
            return
        break
    try:
        finish(image)
    except Exception:  # noqa: BLE001 - a background thread must not die
        LOG.exception("Could not settle image %s", image_id)
        return
    LOG.info("%s of image %s settled after the database outage",
             interrupted, image_id)
