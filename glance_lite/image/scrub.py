"""The scrubber, restore and purge of ``glance-lite-manage`` (spec §22.7):
what becomes of the data and records a delayed delete leaves.

All three are safe with several API nodes, scrubbers and restores at
once: a scrubber claims an image in the catalogue before it removes any
data (``db/scrub.py``: one claim wins, and a dead scrubber's claim
expires), a restore is a conditional update on what it read, and purge
never touches a ``pending_delete`` image. A location's row stays
``pending_delete`` until its data is gone, so a failed removal is
retried by the next run, never forgotten.
"""

import collections
from concurrent import futures
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

# Outcomes of one image in a run.
SCRUBBED = 'scrubbed'
FAILED = 'failed'
# Claimed by another scrubber, or restored, between the listing and the
# claim: not this run's business.
SKIPPED = 'skipped'

Scrubbed = collections.namedtuple('Scrubbed', 'image_id outcome reason')


class RestoreRefused(exception.GlanceLiteError):
    """``images restore`` cannot bring the image back; ``msg`` says why."""


def scrub(stopping=None):
    """One run: remove the data of every ``pending_delete`` image deleted
    at least ``scrub_time`` seconds ago, ``scrub_pool_size`` images at a
    time, and mark each whose data is all gone ``deleted``.

    :param stopping: a threading.Event; once set, no further image is
        started (those in progress finish).
    :returns: a Scrubbed per image the run looked at.
    """
    now = timeutils.utcnow()
    deleted_before = now - datetime.timedelta(seconds=CONF.scrub_time)
    expired_before = now - datetime.timedelta(
        seconds=CONF.scrub_claim_timeout)
    results = []
    after = None
    with futures.ThreadPoolExecutor(CONF.scrub_pool_size,
                                    thread_name_prefix='scrub') as pool:
        while not (stopping and stopping.is_set()):
            page = db_api.image_list_scrubbable(deleted_before,
                                                expired_before, after=after)
            if not page:
                break
            for result in pool.map(
                    lambda image: _scrub_image(image, stopping), page):
                if result is not None:
                    results.append(result)
            after = (page[-1].deleted_at, page[-1].id)
    return results


def _scrub_image(image, stopping):
    if stopping and stopping.is_set():
        return None
    claim = db_api.image_claim_for_scrub(image.id, image.updated_at)
    if claim is None:
        return Scrubbed(image.id, SKIPPED, None)
    for url in image.urls:
        try:
            store.delete(url)
        except exception.GlanceLiteError as e:
            db_api.image_release_scrub(image.id, claim)
            LOG.warning("Scrubbing image %s failed, retried by the next "
                        "run: %s", image.id, e.msg)
            return Scrubbed(image.id, FAILED, e.msg)
        db_api.image_location_scrubbed(image.id, url)
    if not db_api.image_finish_scrub(image.id, claim):
        # Only when the claim expired under us and another scrubber took
        # the image over: it finishes it.
        return Scrubbed(image.id, SKIPPED, None)
    LOG.info("Image %s scrubbed: its data is removed", image.id)
    return Scrubbed(image.id, SCRUBBED, None)


def run_daemon(stopping, wakeup_time, report):
    """Scrub until ``stopping`` is set: a run, then ``wakeup_time``
    seconds after its end the next one (runs never overlap).

    :param report: called with each run's results.
    :returns: True if every run succeeded.
    """
    succeeded = True
    while not stopping.is_set():
        results = scrub(stopping)
        report(results)
        succeeded = succeeded and not any(r.outcome == FAILED
                                          for r in results)
        stopping.wait(wakeup_time)
    return succeeded


def restore(image_id):
    """Bring a ``pending_delete`` image back completely (spec §22.7 rule
    4): ``active``, its data served again, its properties and memberships
    as at its delete.

    :returns: the restored image.
    :raises RestoreRefused: no such image, another status, being
        scrubbed, or its data is no longer all in the store.
    """
    try:
        image = db_api.image_get(image_id)
    except exception.ImageNotFound:
        raise RestoreRefused("Image %s not found" % image_id)
    if image['status'] != image_status.PENDING_DELETE:
        raise RestoreRefused(
            "Image %s is %s; only a pending_delete image can be restored"
            % (image_id, image['status']))
    expired_before = timeutils.utcnow() - datetime.timedelta(
        seconds=CONF.scrub_claim_timeout)
    if expired_before <= image['updated_at'] and (
            image['updated_at'] > image['deleted_at']):
        raise RestoreRefused("Image %s is being scrubbed" % image_id)
    urls = [loc['url'] for loc in image['locations']
            if loc['status'] == image_status.LOCATION_PENDING_DELETE]
    if not urls or not all(_data_present(url, image['size'])
                           for url in urls):
        raise RestoreRefused("Image %s has lost its data" % image_id)
    try:
        restored = db_api.image_restore_pending(image_id,
                                                image['updated_at'])
    except exception.Conflict:
        raise RestoreRefused("Image %s is being scrubbed" % image_id)
    LOG.info("Image %s restored from pending_delete", image_id)
    return restored


def _data_present(url, size):
    try:
        found = store.get_size(url)
    except exception.NotFound:
        return False
    except exception.GlanceLiteError as e:
        raise RestoreRefused("The data of the image cannot be checked: %s"
                             % e.msg)
    # 0: a store that cannot tell sizes.
    return found in (size, 0)


def purge(age_in_days, max_rows):
    """Hard-delete, table by table (children first), at most ``max_rows``
    rows of history older than ``age_in_days`` days (spec §22.7 rule 5).

    :returns: [(table name, rows removed)]
    """
    cutoff = timeutils.utcnow() - datetime.timedelta(days=age_in_days)
    return [(name, db_api.purge_table(name, cutoff, max_rows))
            for name in db_api.purge_history_tables()]
