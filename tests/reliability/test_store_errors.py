"""Issue 7, fault 3: the store's disk fails under an upload, for real:
full (a 2 MiB tmpfs), read-only (remounted), permission denied (the
server runs without CAP_DAC_OVERRIDE, so a 0555 directory stops even
root). Each time the client gets the spec's status and a clear message
(§6.5 step 5), the image is ``killed``, the store holds nothing of it,
and the next upload works once the fault is gone.

An I/O error (EIO) comes from a FUSE file system (tests/reliability/
eio_fs.py, under the system Python with python3-fusepy that
tools/fuse/setup.sh installs) whose writes fail while a flag file exists:
the file store sits on it as on a dying disk. (No device-mapper here.)
"""

import os
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from tests.reliability import faults_support as fs
from tests import server as test_server

# The capabilities that let root ignore file modes.
WITHOUT_DAC_OVERRIDE = ['setpriv',
                        '--bounding-set=-dac_override,-dac_read_search', '--']


@pytest.fixture
def small_disk():
    """A 2 MiB tmpfs, always unmounted at the end."""
    mountpoint = tempfile.mkdtemp(prefix='glance-lite-disk-')
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m,mode=0755',
                    'tmpfs', mountpoint], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(['umount', '-l', mountpoint], check=True)
        os.rmdir(mountpoint)


@pytest.fixture
def failing_disk(tmp_path):
    """(mount point, flag path): a FUSE mount over a backing directory
    whose writes fail with EIO while the flag file exists. Always
    unmounted, and its process stopped by PID, at the end."""
    backing = tmp_path / 'backing'
    backing.mkdir()
    mountpoint = tempfile.mkdtemp(prefix='glance-lite-eio-')
    process = subprocess.Popen(
        ['/usr/bin/python3', os.path.join(os.path.dirname(__file__),
                                          'eio_fs.py'),
         str(backing), mountpoint],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not os.path.ismount(mountpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError('eio_fs did not mount: %s'
                                     % process.stdout.read().decode())
            time.sleep(0.05)
        yield mountpoint, str(backing / '.fail-writes')
    finally:
        subprocess.run(['umount', '-l', mountpoint], check=False)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        os.rmdir(mountpoint)


@pytest.fixture
def servers():
    started = []
    yield started
    for srv in started:
        srv.stop()


def _server_on(servers, datadir, run_under=()):
    srv = test_server.Server(
        {'glance_store': {'filesystem_store_datadir': datadir}},
        run_under=run_under).start()
    servers.append(srv)
    return srv


def _assert_clear_failure(srv, datadir, image_id, status, body,
                          expected_status, expected_message, kept=()):
    assert status == expected_status, body
    assert expected_message in body
    assert 'Traceback' not in body and datadir not in body
    assert fs.status_of(srv, image_id) == 'killed'
    assert sorted(os.listdir(datadir)) == sorted(kept)


def _assert_upload_works(srv, datadir, size=100 * 1024):
    data = os.urandom(size)
    response = fs.upload(srv, data)
    assert response.status_code == 201, response.text
    image = response.json()['image']
    assert image['status'] == 'active'
    assert fs.download_md5(srv, image['id']) == image['checksum']
    assert image['id'] in os.listdir(datadir)


def test_disk_full_answers_413_kills_the_image_and_frees_the_space(
        servers, small_disk):
    srv = _server_on(servers, small_disk)
    free_before = os.statvfs(small_disk).f_bavail
    image_id = str(uuid.uuid4())

    status, body = fs.send_and_answer(srv, image_id, 3 * fs.MB)

    _assert_clear_failure(srv, small_disk, image_id, status, body, 413,
                          'Image storage media is full')
    assert os.statvfs(small_disk).f_bavail == free_before
    _assert_upload_works(srv, small_disk)


def test_read_only_store_answers_503_and_uploads_resume_once_writable(
        servers, small_disk):
    srv = _server_on(servers, small_disk)
    before = fs.upload(srv, b'stored before').json()['image']
    subprocess.run(['mount', '-o', 'remount,ro', small_disk], check=True)
    try:
        image_id = str(uuid.uuid4())
        status, body = fs.send_and_answer(srv, image_id, 200 * 1024)

        _assert_clear_failure(
            srv, small_disk, image_id, status, body, 503,
            'Insufficient permissions on image storage media',
            kept=[before['id']])
        # What is stored stays readable.
        assert fs.download_md5(srv, before['id']) == before['checksum']
    finally:
        subprocess.run(['mount', '-o', 'remount,rw', small_disk], check=True)
    _assert_upload_works(srv, small_disk)


def test_permission_denied_answers_503_and_uploads_resume_once_allowed(
        servers, small_disk):
    srv = _server_on(servers, small_disk, run_under=WITHOUT_DAC_OVERRIDE)
    os.chmod(small_disk, 0o555)
    try:
        image_id = str(uuid.uuid4())
        status, body = fs.send_and_answer(srv, image_id, 200 * 1024)

        _assert_clear_failure(
            srv, small_disk, image_id, status, body, 503,
            'Insufficient permissions on image storage media')
    finally:
        os.chmod(small_disk, 0o755)
    _assert_upload_works(srv, small_disk)


def test_io_error_answers_500_with_a_clear_message_and_leaves_nothing(
        servers, failing_disk):
    mountpoint, fail_flag = failing_disk
    srv = _server_on(servers, mountpoint)
    before = fs.upload(srv, b'stored before').json()['image']
    open(fail_flag, 'w').close()
    try:
        image_id = str(uuid.uuid4())
        status, body = fs.send_and_answer(srv, image_id, fs.MB)

        _assert_clear_failure(srv, mountpoint, image_id, status, body, 500,
                              'Failed to upload image %s' % image_id,
                              kept=[before['id']])
        assert 'Input/output error' not in body
    finally:
        os.unlink(fail_flag)
    _assert_upload_works(srv, mountpoint)
