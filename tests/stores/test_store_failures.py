"""A store that fails in the middle of an upload: the image ends
``killed`` and the store keeps nothing of it (no object, no segment, no
multipart upload or part), and neither the answer nor the log shows the
store's URIs or credentials."""

import socket
import threading
import time

import pytest
import requests

from tests.stores import conftest as stores
from tests.stores import test_object_stores as common

MIB = common.MIB
S3_THREADS = stores.S3_THREADS


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


# A store that stalls while the client goes on sending. The S3 store
# holds the S3_THREADS parts being sent and reads no more; the swift
# store sends one segment at a time. Besides the data, each sending
# thread costs the server memory of its own (its buffers, its malloc
# arena): about 8 MiB per 5 MiB part in all, as measured with 2, 5 and
# 10 threads. The stall starts once 20 MiB are sent; the client can then
# send what the API holds plus what the sockets buffer (< 16 MiB).
STALLED_UPLOAD = 300 * MIB
STALL_AFTER = 20 * MIB
STALLED_SENT_LIMIT = STALL_AFTER + (S3_THREADS + 1) * common.S3_PART + (
    16 * MIB)
STALLED_RSS_GROWTH_LIMIT = 2 * (S3_THREADS + 1) * common.S3_PART + 32 * MIB


def _wait_until_stalled(payload, quiet=2.0, timeout=60):
    """The bytes the client has sent once it made no progress for
    ``quiet`` seconds (or sent everything)."""
    deadline = time.monotonic() + timeout
    sent, since = payload._sent, time.monotonic()
    while time.monotonic() < deadline and sent < payload.size:
        time.sleep(0.2)
        if payload._sent != sent:
            sent, since = payload._sent, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return sent


@pytest.mark.parametrize('store', ['swift', 's3'])
def test_stalled_store_holds_the_client_back(relayed, listing, store):
    # The store stops taking data once the upload is under way: the API
    # stops reading the request when its few pieces in flight are full
    # (the client waits) rather than queueing the image in memory, and
    # the upload completes when the store comes back.
    api, relay = relayed
    image_id = common.new_id()
    payload = BreakingPayload(STALLED_UPLOAD, STALL_AFTER, relay.pause)
    rss_before = api.rss()
    answer = {}

    def upload():
        answer['created'] = common.create(
            api, store, payload, **{'x-image-meta-id': image_id})

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        sent_while_stalled = _wait_until_stalled(payload)
        rss_growth = api.rss() - rss_before
    finally:
        relay.resume()
        uploader.join(300)

    print('%s stalled: client sent %d MiB, API grew %d MiB'
          % (store, sent_while_stalled // MIB, rss_growth // MIB))
    assert sent_while_stalled < STALLED_SENT_LIMIT
    assert rss_growth < STALLED_RSS_GROWTH_LIMIT
    created = answer['created']
    assert created.status_code == 201, created.text
    assert created.json()['image']['checksum'] == payload.md5
    assert common.download_md5(api, image_id) == (payload.md5,
                                                  STALLED_UPLOAD)
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
# store had nothing failing, so glance_store's swift driver did not clean
# up and glance_lite removes the segments itself; S3 uploads are
# glance_lite's own (glance_lite.store.s3), which aborts the multipart
# upload.
@pytest.mark.parametrize('store,sent,logged', [
    ('swift', 2 * common.SWIFT_SEGMENT,
     'Removed the pieces of an interrupted upload'),
    ('s3', 2 * common.S3_PART + MIB, 'Aborted the S3 multipart upload'),
])
def test_client_gone_between_segments_leaves_nothing(api, listing, store,
                                                     sent, logged):
    image_id = common.new_id()

    _send_and_hang_up(api, image_id, store, 40 * MIB, sent)

    assert _wait_status(api, image_id, 'killed') == 'killed'
    assert listing(store, image_id) == []
    assert logged in api.log()
    common.assert_no_store_details(api)
