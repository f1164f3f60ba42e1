"""A store that fails in the middle of an upload: the image ends
``killed`` and the store keeps nothing of it (no object, no segment, no
multipart upload or part), and neither the answer nor the log shows the
store's URIs or credentials."""

import socket
import time

import pytest
import requests

from tests import relay as relay_mod
from tests import server as test_server
from tests.stores import conftest as stores
from tests.stores import test_object_stores as common

MIB = common.MIB


@pytest.fixture
def relayed(swift):
    """A glance-lite-api whose swift and s3 stores reach the Swift proxy
    through a TCP relay the test can break."""
    port = int(swift.proxy_url.rsplit(':', 1)[1])
    relay = relay_mod.TcpRelay('127.0.0.1', port)
    relay.start()
    relay_url = 'http://127.0.0.1:%d' % relay.port
    config = stores.store_config(swift, swift.keystone)
    config.update({
        # The storage URL from Keystone's catalog, through the relay.
        'swift_store_endpoint': relay_url + swift.account_url[
            len(swift.proxy_url):],
        's3_store_host': relay_url,
    })
    srv = test_server.Server({'glance_store': config}).start()
    srv.keystone_password = swift.keystone.glance.password
    try:
        yield srv, relay
    finally:
        srv.stop()
        relay.cut()


class BreakingPayload(common.Payload):
    """Calls ``breaker`` once, after ``after`` bytes were sent."""

    def __init__(self, size, after, breaker):
        super().__init__(size)
        self._after = after
        self._breaker = breaker

    def chunks(self):
        for chunk in super().chunks():
            yield chunk
            if self._breaker and self._sent >= self._after:
                self._breaker()
                self._breaker = None


def _status(api, image_id):
    return requests.head(api.url + '/v1/images/' + image_id).headers[
        'x-image-meta-status']


def _upload_losing_the_connection(relayed, store):
    """Upload 40 MiB; the connections to the store drop once 12 MiB were
    sent (two segments or parts are stored, the third is on its way).
    Returns (image id, payload, answer)."""
    api, relay = relayed
    image_id = common.new_id()
    payload = BreakingPayload(40 * MIB, 12 * MIB, relay.reset)
    return image_id, payload, common.create(
        api, store, payload, **{'x-image-meta-id': image_id})


def test_swift_connection_lost_mid_upload_kills_the_image(relayed, listing):
    image_id, _payload, created = _upload_losing_the_connection(
        relayed, 'swift')

    assert created.status_code == 500, created.text
    assert 'Failed to upload image' in created.text
    assert _status(relayed[0], image_id) == 'killed'
    assert listing('swift', image_id) == []
    common.assert_no_store_details(relayed[0], created)


def test_s3_connection_lost_mid_upload_is_retried(relayed, listing):
    image_id, payload, created = _upload_losing_the_connection(
        relayed, 's3')

    # boto3 sends a part again on a new connection: nothing is lost.
    assert created.status_code == 201, created.text
    assert created.json()['image']['checksum'] == payload.md5
    assert common.download_md5(relayed[0], image_id) == (payload.md5,
                                                         40 * MIB)
    assert not [n for n in listing('s3', image_id)
                if n.startswith('upload:')]
    common.assert_no_store_details(relayed[0], created)


def test_s3_refusing_parts_kills_the_image(api, listing, s3_client,
                                           s3_swift_client):
    # The bucket's part container is over its quota: Swift refuses every
    # part, glance_store aborts the multipart upload.
    s3_client.head_bucket(Bucket=stores.BUCKET)
    s3_swift_client.put_container(stores.BUCKET + '+segments', headers={
        'X-Container-Meta-Quota-Bytes': '1'})
    image_id = common.new_id()
    try:
        created = common.create(api, 's3', common.Payload(12 * MIB),
                                **{'x-image-meta-id': image_id})
    finally:
        s3_swift_client.post_container(stores.BUCKET + '+segments', headers={
            'X-Remove-Container-Meta-Quota-Bytes': 'x'})

    assert created.status_code == 500, created.text
    assert _status(api, image_id) == 'killed'
    assert listing('s3', image_id) == []
    common.assert_no_store_details(api, created)


def _send_and_hang_up(api, image_id, store, declared, sent):
    """POST an upload declaring ``declared`` bytes, send ``sent`` of them,
    and close the connection (a client that goes away)."""
    host, port = api.url.rsplit('/', 1)[1].split(':')
    payload = common.Payload(sent)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall((
            'POST /v1/images HTTP/1.1\r\nHost: %s:%s\r\n'
            'Content-Type: application/octet-stream\r\n'
            'Content-Length: %d\r\nx-image-meta-id: %s\r\n'
            'x-image-meta-name: hung up\r\nx-image-meta-store: %s\r\n'
            'x-image-meta-disk-format: raw\r\n'
            'x-image-meta-container-format: bare\r\n\r\n'
            % (host, port, declared, image_id, store)).encode())
        for chunk in payload.chunks():
            sock.sendall(chunk)


def _wait_status(api, image_id, wanted, timeout=120):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = _status(api, image_id)
        if status == wanted:
            return status
        time.sleep(0.2)
    return status


# The client leaves right after a whole number of segments or parts: the
# store had nothing failing, glance_store's own clean-up did not run, and
# glance_lite removes the segments (Swift) or aborts the multipart upload
# (S3) itself.
@pytest.mark.parametrize('store,sent', [
    ('swift', 2 * common.SWIFT_SEGMENT),
    ('s3', 2 * common.S3_PART + MIB),
])
def test_client_gone_between_segments_leaves_nothing(api, listing, store,
                                                     sent):
    image_id = common.new_id()

    _send_and_hang_up(api, image_id, store, 40 * MIB, sent)

    assert _wait_status(api, image_id, 'killed') == 'killed'
    assert listing(store, image_id) == []
    assert 'Removed the pieces of an interrupted upload' in api.log()
    common.assert_no_store_details(api)
