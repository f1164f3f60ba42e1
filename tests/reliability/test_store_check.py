"""Issue 7, fault 2 (second half): ``glance-lite-manage store check``
finds store objects no image needs and images whose data is missing or
damaged, and ``--repair`` fixes both, without touching uploads in
flight."""

import os
import uuid

import pytest

from tests.reliability import faults_support as fs
from tests import server as test_server


@pytest.fixture
def srv():
    started = test_server.Server().start()
    yield started
    started.stop()


def _check(srv, *args):
    result = srv.manage('store', 'check', *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, result.stdout


def _active(srv, data):
    response = fs.upload(srv, data)
    assert response.status_code == 201, response.text
    return response.json()['image']['id']


def _killed(srv):
    """A killed image (its client hung up mid-upload)."""
    partial = fs.RawUpload(srv, str(uuid.uuid4()), length=fs.MB)
    partial.send(b'k' * fs.STORE_CHUNK)
    fs.wait_until(lambda: fs.stored_size(srv, partial.image_id),
                  what='partial data')
    partial.hang_up()
    fs.wait_until(lambda: fs.status_of(srv, partial.image_id) == 'killed',
                  what='the image to be killed')
    return partial.image_id


def _put_file(srv, name, data):
    with open(os.path.join(srv.datadir, name), 'wb') as f:
        f.write(data)


def test_check_lists_orphans_and_bad_images_and_repair_fixes_them(srv):
    healthy = _active(srv, b'h' * 3000)
    lost = _active(srv, b'l' * 3000)
    truncated = _active(srv, b't' * 3000)
    killed = _killed(srv)
    no_image = str(uuid.uuid4())
    _put_file(srv, no_image, b'nobody')
    _put_file(srv, killed, b'left behind')  # e.g. by a crash mid-cleanup
    os.unlink(os.path.join(srv.datadir, lost))
    with open(os.path.join(srv.datadir, truncated), 'r+b') as f:
        f.truncate(1000)
    # An upload in flight: its data has no location yet, and is no orphan.
    in_flight = fs.RawUpload(srv, str(uuid.uuid4()), length=fs.MB)
    in_flight.send(b'f' * 2 * fs.STORE_CHUNK)
    fs.wait_until(lambda: fs.stored_size(srv, in_flight.image_id),
                  what='in-flight data')

    code, report = _check(srv)

    assert code == 1
    assert 'orphan %s (6 bytes, no image)' % os.path.join(
        srv.datadir, no_image) in report
    assert 'orphan %s (11 bytes, image killed)' % os.path.join(
        srv.datadir, killed) in report
    assert 'image %s (active)' % lost in report
    assert 'data missing' in report
    assert ('image %s (active) %s: data is 1000 bytes, image size is 3000'
            % (truncated, os.path.join(srv.datadir, truncated))) in report
    assert healthy not in report
    assert in_flight.image_id not in report
    assert 'Store check: 4 problem(s) left.' in report
    assert sorted(srv.stored_files()) == sorted(
        [healthy, truncated, killed, no_image, in_flight.image_id])

    code, report = _check(srv, '--repair')

    assert code == 0, report
    assert report.count('-> removed') == 2
    assert report.count('-> location dropped, image killed') == 2
    assert fs.status_of(srv, lost) == 'killed'
    assert fs.status_of(srv, truncated) == 'killed'
    assert fs.status_of(srv, healthy) == 'active'
    # The damaged data is kept for inspection, and now an orphan.
    assert sorted(srv.stored_files()) == sorted(
        [healthy, truncated, in_flight.image_id])
    code, report = _check(srv)
    assert code == 1
    assert 'orphan %s (1000 bytes, image killed)' % os.path.join(
        srv.datadir, truncated) in report
    assert _check(srv, '--repair')[0] == 0

    in_flight.send(b'f' * (fs.MB - 2 * fs.STORE_CHUNK))
    status, body = in_flight.answer()
    assert status == 201, body
    code, report = _check(srv)
    assert code == 0, report
    assert 'Store check: consistent.' in report
    assert sorted(srv.stored_files()) == sorted([healthy,
                                                 in_flight.image_id])
