"""Every API process's own check for uploads whose API process died.

An upload refreshes its image's ``updated_at`` while its data streams
(``upload.py``'s heartbeat). When the process serving it dies (SIGKILL,
OOM, power loss) the image stays ``saving`` with partial data in the
store; each API process therefore looks, every
``stale_upload_check_interval`` seconds, for ``saving`` images whose
heartbeat stopped ``MISSED_HEARTBEATS`` intervals ago, ends them (a v1
upload's image killed, a v2 upload's queued again) and removes their data
exactly as ``glance-lite-manage images clean-stale`` does: through a
conditional update on the ``updated_at`` it read, so a heartbeat landing
in between wins and many nodes checking at once end each upload once.
The waits are jittered so that the nodes of a cloud do not all query the
catalogue at the same moment.
"""

import os
import random
import threading

from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.image import maintenance

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Heartbeats an upload may miss before the check takes it for dead. A
# heartbeat comes with the data, so a store that keeps a read waiting (an
# S3 upload whose parts are all in flight) or a loaded node can delay one;
# ten of them are missed only when nothing serves the upload any more.
MISSED_HEARTBEATS = 10
# Each wait is the interval times a factor drawn from this range.
JITTER = (0.75, 1.25)

_lock = threading.Lock()
_checker = None


def threshold():
    """Seconds without a heartbeat after which an upload is taken for
    dead."""
    return MISSED_HEARTBEATS * CONF.upload_heartbeat_interval


def check_once():
    """End the uploads whose heartbeat stopped and remove their partial
    data; never raises (the database or a store may be away, the next
    check tries again).

    :returns: the StaleUpload results of this check ([] when it failed).
    """
    try:
        results = maintenance.clean_stale_uploads(threshold())
    except Exception as e:  # noqa: BLE001 - a background check goes on
        LOG.warning("The check for stale uploads failed: %s",
                    type(e).__name__)
        return []
    for result in results:
        if maintenance.DATA_LEFT % '' in result.outcome:
            LOG.warning("Stale upload to image %s ended; its data could "
                        "not be removed: %s", result.image_id,
                        result.outcome)
    return results


class _Checker:
    """The thread of one process running ``check_once`` periodically."""

    def __init__(self, interval):
        self.pid = os.getpid()
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='stale-upload-check')
        self._thread.start()

    def _run(self):
        while not self._stopping.wait(self.interval * random.uniform(*JITTER)):
            check_once()

    def stop(self):
        self._stopping.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


def start():
    """Start this process's periodic check, unless
    ``stale_upload_check_interval`` is 0 or it already runs. Called when
    the application is loaded; a process forked from one that checks
    checks too."""
    global _checker
    with _lock:
        if _checker is not None and _checker.pid == os.getpid():
            return
        interval = CONF.stale_upload_check_interval
        _checker = _Checker(interval) if interval else None


def stop():
    """Stop this process's periodic check (tests, a stopping process)."""
    global _checker
    with _lock:
        checker, _checker = _checker, None
    if checker is not None and checker.pid == os.getpid():
        checker.stop()


def _after_fork_in_child():
    # The parent's thread did not come along: a child of a process that
    # checks starts its own. The lock may have been held by another of
    # the parent's threads at the fork.
    global _checker, _lock
    _lock = threading.Lock()
    if _checker is not None:
        _checker = None
        start()


os.register_at_fork(after_in_child=_after_fork_in_child)
