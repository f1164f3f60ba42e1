"""Issue 7, fault 1: a client that hangs up in the middle of an upload
(POST or PUT, Content-Length or chunked) leaves the image ``killed``, no
byte of it in the store, and its storage quota free again (spec §6.5
step 5, §7.9)."""

import uuid

import pytest
import requests

from tests.reliability import faults_support as fs
from tests import server as test_server

QUOTA = fs.MB
CONFIG = {'paste_deploy': {'flavor': 'trusted-auth'},
          'DEFAULT': {'user_storage_quota': '1MB'}}


@pytest.fixture(scope='module')
def srv():
    started = test_server.Server(CONFIG).start()
    yield started
    started.stop()


def _reserve(srv, headers):
    response = requests.post(srv.url + '/v1/images',
                             headers=dict(fs.IMAGE_HEADERS, **headers),
                             timeout=30)
    assert response.status_code == 201, response.text
    return response.json()['image']['id']


@pytest.mark.parametrize('framing', ['content-length', 'chunked'])
@pytest.mark.parametrize('method', ['POST', 'PUT'])
@pytest.mark.parametrize('chunks_sent', [0, QUOTA // 2 // fs.STORE_CHUNK],
                         ids=['before-store-writes', 'after-store-writes'])
def test_client_hanging_up_mid_upload_leaves_nothing_and_frees_the_quota(
        srv, method, framing, chunks_sent):
    owner = fs.tenant_headers(fs.new_tenant())
    image_id = (str(uuid.uuid4()) if method == 'POST'
                else _reserve(srv, owner))
    partial = fs.RawUpload(srv, image_id, method=method, headers=owner,
                           length=QUOTA if framing == 'content-length'
                           else None)
    if chunks_sent:
        # Half of the quota in flight, and some of it already in the store.
        for _ in range(chunks_sent):
            partial.send(b'x' * fs.STORE_CHUNK)
        fs.wait_until(
            lambda: fs.stored_size(srv, image_id) >= fs.STORE_CHUNK,
            what='partial data in the store')
    else:
        # Less than the store writes at once: nothing reached it yet.
        partial.send(b'x' * 1000)
        fs.wait_until(lambda: fs.status_of(srv, image_id, owner,
                                           missing_ok=True) == 'saving',
                      what='the upload to start')

    partial.hang_up()

    fs.wait_until(lambda: fs.status_of(srv, image_id, owner) == 'killed',
                  what='the image to be killed')
    fs.wait_until(lambda: image_id not in srv.stored_files(),
                  what='the partial data to go')
    # The whole quota is free again: an upload needing all of it works.
    full = fs.upload(srv, b'y' * QUOTA, owner)
    assert full.status_code == 201, full.text
    assert full.json()['image']['status'] == 'active'
    # And the quota is really enforced: one byte more is refused.
    over = fs.upload(srv, b'z', owner)
    assert over.status_code == 413, over.text
