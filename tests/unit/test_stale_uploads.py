"""image.stale_uploads: every API process's own check for uploads whose
process died (issue 13), against a real SQLite catalogue and file store.
tests/reliability/test_crash_recovery.py kills a real server mid-upload."""

import datetime
import io
import os
import threading
import time
from unittest import mock

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import pytest
import sqlalchemy

from glance_lite.common import exception
from glance_lite.common import status
from glance_lite.db import api as db_api
from glance_lite.image import data as image_data
from glance_lite.image import maintenance
from glance_lite.image import stale_uploads
from glance_lite.image import upload

CONF = cfg.CONF
CUT = '0b5c7c1e-3f6a-4d8e-9a41-5b2f0c9d7e11'
LIVE = '7d2e9f40-8c1b-4a6e-b3d5-1f0a9c8e2b77'


@pytest.fixture(autouse=True)
def heartbeat_every_second(catalogue):
    """An upload silent for 10 s is stale; no check left running."""
    CONF.set_override('upload_heartbeat_interval', 1)
    yield
    stale_uploads.stop()


def _saving(catalogue, image_id):
    """A saving image with partial data in the file store."""
    db_api.image_create({'id': image_id, 'status': status.QUEUED})
    db_api.image_transition(image_id, status.SAVING)
    (catalogue / 'images').mkdir(exist_ok=True)
    (catalogue / 'images' / image_id).write_bytes(b'partial' * 1000)


def _silent_for(catalogue, image_id, seconds):
    """Make the image's last heartbeat ``seconds`` old."""
    engine = sqlalchemy.create_engine(CONF.database.connection)
    with engine.begin() as connection:
        changed = connection.execute(
            sqlalchemy.text('UPDATE images SET updated_at = :then '
                            'WHERE id = :id'),
            {'then': timeutils.utcnow() - datetime.timedelta(
                seconds=seconds), 'id': image_id}).rowcount
    engine.dispose()
    assert changed == 1


def _checker_threads():
    return [t for t in threading.enumerate()
            if t.name == 'stale-upload-check']


def test_threshold_is_ten_missed_heartbeats(catalogue):
    CONF.set_override('upload_heartbeat_interval', 6)
    assert stale_uploads.threshold() == 60


def test_check_kills_an_upload_silent_past_the_threshold_only(catalogue):
    _saving(catalogue, CUT)
    _silent_for(catalogue, CUT, 11)
    _saving(catalogue, LIVE)  # its heartbeat is recent

    results = stale_uploads.check_once()

    assert [(r.image_id, r.outcome) for r in results] == [(CUT, 'killed')]
    assert db_api.image_get(CUT)['status'] == status.KILLED
    assert db_api.image_get(LIVE)['status'] == status.SAVING
    assert os.listdir(catalogue / 'images') == [LIVE]


def test_check_leaves_an_upload_silent_under_the_threshold(catalogue):
    _saving(catalogue, CUT)
    _silent_for(catalogue, CUT, 9)

    assert stale_uploads.check_once() == []
    assert db_api.image_get(CUT)['status'] == status.SAVING


def test_a_failing_check_is_logged_and_the_next_one_runs(catalogue):
    _saving(catalogue, CUT)
    _silent_for(catalogue, CUT, 11)
    with mock.patch.object(maintenance, 'clean_stale_uploads',
                           side_effect=db_exc.DBConnectionError()), \
            mock.patch.object(stale_uploads.LOG, 'warning') as warning:
        assert stale_uploads.check_once() == []
    assert 'DBConnectionError' in warning.call_args[0]

    assert [r.image_id for r in stale_uploads.check_once()] == [CUT]


def test_the_process_checks_periodically_once_started(catalogue):
    CONF.set_override('stale_upload_check_interval', 1)
    _saving(catalogue, CUT)
    _silent_for(catalogue, CUT, 11)

    stale_uploads.start()
    stale_uploads.start()  # already running: no second thread

    assert len(_checker_threads()) == 1
    deadline = time.monotonic() + 5
    while db_api.image_get(CUT)['status'] == status.SAVING:
        assert time.monotonic() < deadline, 'no check within 5 s'
        time.sleep(0.05)
    assert db_api.image_get(CUT)['status'] == status.KILLED
    stale_uploads.stop()
    assert _checker_threads() == []


def test_no_check_when_the_interval_is_zero(catalogue):
    CONF.set_override('stale_upload_check_interval', 0)

    stale_uploads.start()

    assert _checker_threads() == []


def test_a_forked_child_of_a_checking_process_checks_too(catalogue):
    CONF.set_override('stale_upload_check_interval', 1)
    stale_uploads.start()

    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        alive = [t for t in _checker_threads() if t.is_alive()]
        os._exit(0 if len(alive) == 1 else 1)
    _, wait_status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(wait_status) == 0


@pytest.mark.parametrize('on_failure', [upload.KILL, upload.REQUEUE],
                         ids=['v1', 'v2'])
def test_check_ends_a_dead_upload_as_its_api_would(catalogue, on_failure):
    """v2 spec §18: a v1 upload's image is killed, a v2 upload's queued
    again, its partial data removed either way."""
    image = db_api.image_create({'id': CUT, 'status': status.QUEUED,
                                 'disk_format': 'raw',
                                 'container_format': 'bare'})
    seen = []

    class DiesAfterOneRead(io.RawIOBase):
        """The upload's process as the check sees it: silent after its
        first bytes."""
        def read(self, size=-1):
            if not seen:
                seen.append(b'first')
                return b'p' * 1000
            if len(seen) == 1:
                _silent_for(catalogue, CUT, 11)
                seen.append(stale_uploads.check_once())
            time.sleep(0.1)
            if len(seen) > 40:
                raise AssertionError('the upload was not stopped')
            seen.append(b'more')
            return b'p' * 1000

    with pytest.raises(exception.Conflict):
        upload.upload(image, image_data.RequestBodyReader(
            DiesAfterOneRead(), None, 2 ** 40), on_failure=on_failure)

    assert [(r.image_id, r.outcome) for r in seen[1]] == [(CUT, on_failure)]
    assert db_api.image_get(CUT)['status'] == on_failure
    assert os.listdir(catalogue / 'images') == []
