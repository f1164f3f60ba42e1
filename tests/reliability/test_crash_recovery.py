"""Issue 7, fault 2: the API process is killed (SIGKILL) in the middle of
uploads. Nothing acknowledged is lost; the interrupted uploads are killed
and their partial data removed, by the restarted service's own check
(issue 13) or by ``glance-lite-manage images clean-stale`` — neither ever
touches an upload still streaming (on any node).

The tests of the command turn the service's own check off, so that what
they see is the command's doing."""

import datetime
import os
import threading
import time
import uuid

import requests

from tests.reliability import faults_support as fs
from tests import server as test_server


# Servers whose stale uploads are left to the command.
COMMAND_ONLY = {'stale_upload_check_interval': 0}


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _make_stale(srv, *image_ids, hours=2):
    """Pretend these uploads showed their last sign of life hours ago."""
    for image_id in image_ids:
        changed = srv.execute_sql(
            'UPDATE images SET updated_at = :then WHERE id = :id',
            {'then': _utcnow() - datetime.timedelta(hours=hours),
             'id': image_id})
        assert changed == 1


def _clean_stale(srv, seconds):
    result = srv.manage('images', 'clean-stale', '--saving-older-than',
                        str(seconds))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _start_partial_upload(srv, length=None, sent=2 * fs.STORE_CHUNK,
                          api='v1'):
    """An upload with ``sent`` bytes streamed and in the store: a v1
    create with data, or a v2 upload to an image created for it."""
    if api == 'v1':
        partial = fs.RawUpload(srv, str(uuid.uuid4()), length=length)
    else:
        created = requests.post(srv.url + '/v2/images', json={
            'disk_format': 'raw', 'container_format': 'bare'}, timeout=30)
        assert created.status_code == 201, created.text
        image_id = created.json()['id']
        partial = fs.RawUpload(srv, image_id, method='PUT', length=length,
                               path='/v2/images/%s/file' % image_id)
    partial.send(os.urandom(sent))
    fs.wait_until(lambda: fs.stored_size(srv, partial.image_id) >= sent,
                  what='partial data in the store')
    return partial


def _streaming(upload, stop):
    """Keep ``upload`` sending data until ``stop`` is set."""
    def stream():
        while not stop.is_set():
            upload.send(os.urandom(fs.STORE_CHUNK))
            time.sleep(0.2)
    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    return streamer


def test_sigkill_mid_upload_keeps_acknowledged_images_and_cleanup_removes_the_rest(  # noqa: E501
        servers):
    first = test_server.Server({'DEFAULT': COMMAND_ONLY}).start()
    servers.append(first)
    acknowledged = {}
    for size in (5 * 1024, fs.MB, 3 * fs.MB):
        data = os.urandom(size)
        response = fs.upload(first, data)
        assert response.status_code == 201, response.text
        image = response.json()['image']
        acknowledged[image['id']] = image['checksum']
    interrupted = [_start_partial_upload(first, length=2 * fs.MB),
                   _start_partial_upload(first)]  # chunked

    first.process.kill()  # SIGKILL: no cleanup of any kind runs
    first.process.wait()
    for partial in interrupted:
        partial.hang_up()
    srv = test_server.Server({'DEFAULT': COMMAND_ONLY},
                             workdir=first.workdir).start()
    servers[:] = [srv]  # the restarted server owns the directory now

    for image_id, checksum in acknowledged.items():
        assert fs.status_of(srv, image_id) == 'active'
        assert fs.download_md5(srv, image_id) == checksum
    for partial in interrupted:
        assert fs.status_of(srv, partial.image_id) == 'saving'
        assert fs.stored_size(srv, partial.image_id) > 0

    # Recent uploads may still be alive somewhere: left alone.
    assert '0 stale upload(s) cleaned' in _clean_stale(srv, 3600)
    for partial in interrupted:
        assert fs.status_of(srv, partial.image_id) == 'saving'

    _make_stale(srv, *[partial.image_id for partial in interrupted])
    output = _clean_stale(srv, 3600)

    assert '2 stale upload(s) cleaned' in output
    for partial in interrupted:
        assert '%s saving since' % partial.image_id in output
        assert fs.status_of(srv, partial.image_id) == 'killed'
    assert sorted(srv.stored_files()) == sorted(acknowledged)
    check = srv.manage('store', 'check')
    assert check.returncode == 0, check.stdout + check.stderr
    assert 'Store check: consistent.' in check.stdout
    # The restarted service takes new uploads.
    assert fs.upload(srv, b'after the crash').status_code == 201


def test_clean_stale_spares_an_upload_that_is_streaming(servers):
    srv = test_server.Server(
        {'DEFAULT': dict(COMMAND_ONLY, upload_heartbeat_interval=1)}).start()
    servers.append(srv)
    live = _start_partial_upload(srv)  # chunked, kept streaming
    silent = _start_partial_upload(srv, length=fs.MB)  # client went quiet
    stop = threading.Event()
    streamer = _streaming(live, stop)
    try:
        # The silent upload's last sign of life is then over 6 s old; the
        # live one's heartbeat (every 1 s) leaves a wide margin under load.
        time.sleep(7)
        output = _clean_stale(srv, 6)
    finally:
        stop.set()
        streamer.join(timeout=30)

    assert '%s saving since' % silent.image_id in output
    assert live.image_id not in output
    assert fs.status_of(srv, silent.image_id) == 'killed'
    assert fs.stored_size(srv, silent.image_id) == 0
    assert fs.status_of(srv, live.image_id) == 'saving'
    status, body = live.finish()
    assert status == 201, body
    assert fs.status_of(srv, live.image_id) == 'active'
    assert fs.download_md5(srv, live.image_id) == live.md5.hexdigest()
    silent.hang_up()
    assert fs.status_of(srv, silent.image_id) == 'killed'
    assert silent.image_id not in srv.stored_files()


def test_threshold_under_twice_the_heartbeat_interval_is_refused(servers):
    srv = test_server.Server(
        {'DEFAULT': dict(COMMAND_ONLY, upload_heartbeat_interval=30)}).start()
    servers.append(srv)
    stale = _start_partial_upload(srv)
    _make_stale(srv, stale.image_id)

    result = srv.manage('images', 'clean-stale', '--saving-older-than', '59')

    assert result.returncode == 2
    assert 'at least 60 seconds' in result.stderr
    assert fs.status_of(srv, stale.image_id) == 'saving'
    stale.hang_up()


def test_upload_finishing_after_cleanup_killed_it_fails_and_keeps_nothing(
        servers):
    srv = test_server.Server().start()
    servers.append(srv)
    length = 8 * fs.STORE_CHUNK
    late = _start_partial_upload(srv, length=length)
    _make_stale(srv, late.image_id)
    assert 'killed' in _clean_stale(srv, 3600)
    assert fs.stored_size(srv, late.image_id) == 0

    late.send(os.urandom(length - 2 * fs.STORE_CHUNK))
    status, body = late.answer()

    assert status == 409, body
    assert 'no longer saving' in body
    assert fs.status_of(srv, late.image_id) == 'killed'
    fs.wait_until(lambda: late.image_id not in srv.stored_files(),
                  what='the late data to go')


def test_delete_of_an_upload_cut_by_sigkill_removes_its_partial_data(
        servers):
    """Issue 13, finding 9: DELETE of the ``saving`` image a crash left
    behind answered 200 and left its partial file in the store (an
    orphan, as Glance queens did)."""
    first = test_server.Server().start()
    servers.append(first)
    interrupted = [_start_partial_upload(first, length=2 * fs.MB),
                   _start_partial_upload(first)]  # chunked

    first.process.kill()
    first.process.wait()
    for partial in interrupted:
        partial.hang_up()
    srv = test_server.Server(workdir=first.workdir).start()
    servers[:] = [srv]

    for partial in interrupted:
        assert fs.status_of(srv, partial.image_id) == 'saving'
        assert fs.stored_size(srv, partial.image_id) > 0
        response = requests.delete(
            '%s/v1/images/%s' % (srv.url, partial.image_id), timeout=30)
        assert response.status_code == 200, response.text

    assert srv.stored_files() == []
    check = srv.manage('store', 'check')
    assert check.returncode == 0, check.stdout + check.stderr
    assert 'Store check: consistent.' in check.stdout


def test_restarted_service_settles_cut_uploads_by_itself(servers):
    """kill -9 mid-upload, restart, run no command: within 30 s the cut
    uploads are ended and their data gone (heartbeat every second, the
    check at its default interval) — v1 uploads' images killed, a v2
    upload's queued again (v2 spec §18) — while an upload streaming to the
    restarted service meanwhile is left alone."""
    config = {'DEFAULT': {'upload_heartbeat_interval': 1}}
    first = test_server.Server(config).start()
    servers.append(first)
    cut = [_start_partial_upload(first, length=2 * fs.MB),
           _start_partial_upload(first),  # chunked
           _start_partial_upload(first, api='v2')]
    ended = ['killed', 'killed', 'queued']

    first.process.kill()
    first.process.wait()
    for partial in cut:
        partial.hang_up()
    srv = test_server.Server(config, workdir=first.workdir).start()
    restarted = time.monotonic()
    servers[:] = [srv]
    live = _start_partial_upload(srv)
    stop = threading.Event()
    streamer = _streaming(live, stop)
    try:
        for partial, status in zip(cut, ended):
            fs.wait_until(
                lambda: fs.status_of(srv, partial.image_id) == status,
                timeout=30 - (time.monotonic() - restarted),
                what='the cut upload %s by the service itself' % status)
            assert partial.image_id not in srv.stored_files()
        assert fs.status_of(srv, live.image_id) == 'saving'
    finally:
        stop.set()
        streamer.join(timeout=30)

    status, body = live.finish()
    assert status == 201, body
    assert fs.download_md5(srv, live.image_id) == live.md5.hexdigest()
    assert sorted(srv.stored_files()) == [live.image_id]
    with open(srv.log_file) as log:
        logged = log.read()
    assert 'Stale upload to image %s killed' % cut[0].image_id in logged
    assert ('Stale upload to image %s ended, the image queued again'
            % cut[2].image_id) in logged
