"""Issue 17: the API killed with SIGKILL in the middle of an upload to
Swift or S3 (Swift's s3api) leaves nothing behind once the recovery has
run: no manifest, segment, object, multipart upload or s3api part, after
``glance-lite-manage images clean-stale`` or after the restarted
service's own check (tests/reliability/test_crash_recovery.py is the file
store's version)."""

import os
import uuid

import pytest

from tests.reliability import faults_support as fs
from tests.reliability import test_crash_recovery as crash
from tests import server as test_server
from tests.stores import conftest as stores

STORES = ['swift', 's3']
# More than three segments (Swift: 5 * 1000 KiB) or parts (S3: 5 MiB).
STREAMED = 3 * stores.SEGMENT_MB * fs.MB + fs.MB


def _config(swift, store, **default):
    return {'DEFAULT': default,
            'glance_store': stores.store_config(swift, swift.keystone,
                                                default_store=store)}


def _killed_mid_upload(servers, config, store, listing):
    """Start a server, stream a chunked upload to ``store`` until the
    store holds pieces of it, SIGKILL the server and restart it on the
    same directory. Returns (restarted server, image id)."""
    first = test_server.Server(config).start()
    servers.append(first)
    cut = fs.RawUpload(first, str(uuid.uuid4()))  # chunked
    cut.send(os.urandom(STREAMED))
    fs.wait_until(lambda: len(listing(store, cut.image_id)) >= 2,
                  timeout=60, what='pieces of the upload in the store')

    first.process.kill()  # SIGKILL: no cleanup of any kind runs
    first.process.wait()
    cut.hang_up()
    srv = test_server.Server(config, workdir=first.workdir).start()
    servers[:] = [srv]  # the restarted server owns the directory now
    assert fs.status_of(srv, cut.image_id) == 'saving'
    assert listing(store, cut.image_id) != []  # left behind by the kill
    return srv, cut.image_id


@pytest.mark.parametrize('store', STORES)
def test_clean_stale_after_sigkill_mid_upload_leaves_nothing_in_the_store(
        swift, listing, servers, store):
    srv, image_id = _killed_mid_upload(
        servers, _config(swift, store, **crash.COMMAND_ONLY), store,
        listing)
    crash._make_stale(srv, image_id)

    output = crash._clean_stale(srv, 3600)

    assert '1 stale upload(s) cleaned' in output
    assert '%s saving since' % image_id in output
    assert 'killed' in output
    assert 'data left in' not in output
    assert fs.status_of(srv, image_id) == 'killed'
    assert listing(store, image_id) == []
    check = srv.manage('store', 'check')
    assert image_id not in check.stdout + check.stderr


@pytest.mark.parametrize('store', STORES)
def test_restarted_service_removes_what_sigkill_left_in_the_store(
        swift, listing, servers, store):
    """No command: the restarted service's own check (heartbeat every
    second, the check at its default interval) kills the cut upload and
    removes its pieces."""
    srv, image_id = _killed_mid_upload(
        servers, _config(swift, store, upload_heartbeat_interval=1), store,
        listing)

    fs.wait_until(lambda: fs.status_of(srv, image_id) == 'killed',
                  timeout=30, what='the cut upload killed by the service')

    # Killed first, data second: logged once the data is gone.
    fs.wait_until(
        lambda: 'Stale upload to image %s killed' % image_id in srv.log(),
        timeout=30, what='the clean-up of the cut upload')
    assert 'could not be removed' not in srv.log()
    assert listing(store, image_id) == []
