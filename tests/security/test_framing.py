"""Hostile framing and header injection through the real glance-lite-api
(issue 13): every refusal a 4xx with a message and a closed connection,
never a 5xx, a reset or a half-acted-on request; nothing stored from a
refused request; no response header of a client's choosing."""

import socket
import time
import urllib.parse

import pytest
import requests

from tests import raw_http
from tests.security import support
from tests import server as test_server

CAP = 1024 * 1024


@pytest.fixture(scope='module')
def api():
    """A server with a 1 MiB image cap."""
    srv = test_server.Server({'DEFAULT': {'image_size_cap': CAP}}).start()
    yield srv
    srv.stop()


def _connect(api):
    host, port = urllib.parse.urlsplit(api.url).netloc.split(':')
    return socket.create_connection((host, int(port)), timeout=30)


def _reserve(api):
    response = requests.post(api.url + '/v1/images', timeout=30,
                             headers=support.image_headers())
    assert response.status_code == 201, response.text
    return response.json()['image']['id']


def _image(api, image_id):
    return requests.head('%s/v1/images/%s' % (api.url, image_id),
                         timeout=30)


def _image_ids(api):
    listing = requests.get(api.url + '/v1/images/detail?is_public=None',
                           timeout=30)
    return {image['id'] for image in listing.json()['images']}


def _assert_refused(answer, code=400):
    assert support.raw_status(answer) == code, answer
    head, _, body = answer.partition(b'\r\n\r\n')
    assert b'\r\nconnection: close' in head.lower(), answer
    assert body.strip(), 'a refusal says why'


def _assert_healthy(api):
    assert requests.get(api.url + '/v1/images', timeout=30).status_code == 200
    log = api.log()
    for sign in ('Traceback', 'MemoryError', 'OverflowError', 'CRITICAL',
                 'UnboundLocalError'):
        assert sign not in log


# -- response splitting (finding 1) ------------------------------------------

SPLITTING = [
    ('x-image-meta-property-a', 'x%0d%0aSet-Cookie:%20s=evil'),
    ('x-image-meta-property-a%0d%0aSet-Cookie%3a%20s', 'evil'),
    ('x-image-meta-name', 'x%0d%0aSet-Cookie:%20s=evil'),
    ('x-image-meta-name', 'x%0aSet-Cookie:%20s=evil'),
    ('x-image-meta-owner', 'x%0dSet-Cookie:%20s=evil'),
    ('x-image-meta-property-a', 'tab%09or%7Fdel'),
]


@pytest.mark.parametrize('name, value', SPLITTING)
def test_encoded_control_characters_are_refused_on_create(api, name, value):
    before = _image_ids(api)
    response = requests.post(api.url + '/v1/images', timeout=30,
                             headers=support.image_headers(**{
                                 name: value,
                                 'x-image-meta-is_public': 'true'}))

    assert response.status_code == 400, response.text
    assert 'control characters' in response.text
    assert _image_ids(api) == before


@pytest.mark.parametrize('name, value', SPLITTING)
def test_encoded_control_characters_are_refused_on_update(api, name, value):
    image_id = _reserve(api)
    before = _image(api, image_id).headers

    response = requests.put('%s/v1/images/%s' % (api.url, image_id),
                            timeout=30, headers={name: value})

    assert response.status_code == 400, response.text
    after = _image(api, image_id)
    assert 'set-cookie' not in after.headers
    assert after.headers['x-image-meta-updated_at'] == (
        before['x-image-meta-updated_at'])


def test_no_reader_is_given_an_injected_header(api):
    image_id = _reserve(api)
    requests.put('%s/v1/images/%s' % (api.url, image_id), timeout=30,
                 headers={'x-image-meta-property-a':
                          'x%0d%0aSet-Cookie:%20s=evil',
                          'x-image-meta-is_public': 'true'})
    answer = support.send_raw(
        api, 'HEAD /v1/images/%s HTTP/1.1\r\nHost: t\r\n'
             'Connection: close' % image_id, [])
    assert support.raw_status(answer) == 200
    assert b'set-cookie' not in answer.lower()


# -- framing (findings 2-4, 6-8) --------------------------------------------

def test_a_declared_length_over_the_cap_is_answered_without_reading(api):
    # 10 GiB declared and the client keeps sending: the 400 arrives (no
    # "Empty reply from server"), and nothing is read to reach the end.
    sock = _connect(api)
    try:
        sock.sendall(b'POST /v1/images HTTP/1.1\r\nHost: t\r\n'
                     b'Content-Type: application/octet-stream\r\n'
                     b'x-image-meta-name: big\r\n'
                     b'Content-Length: 10737418240\r\n\r\n')
        answer = b''
        with raw_http.sending_forever(sock):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                # The whole answer: the server closes after it.
                received = sock.recv(65536)
                if not received:
                    break
                answer += received
    finally:
        sock.close()

    assert support.raw_status(answer) == 400, answer
    assert b'connection: close' in answer.lower()
    assert b'Denying attempt to upload image larger than' in answer
    _assert_healthy(api)


@pytest.mark.parametrize('size_line', [b'-5', b'+5', b'0x5', b'f' * 40])
def test_malformed_chunk_sizes_kill_the_upload_and_store_nothing(
        api, size_line):
    image_id = _reserve(api)
    answer = support.send_raw(
        api, 'PUT /v1/images/%s HTTP/1.1\r\nHost: t\r\n'
             'Content-Type: application/octet-stream\r\n'
             'Transfer-Encoding: chunked' % image_id,
        [b'3\r\nabc\r\n' + size_line + b'\r\nhello\r\n0\r\n\r\n'])

    _assert_refused(answer)
    assert _image(api, image_id).headers['x-image-meta-status'] == 'killed'
    assert image_id not in api.stored_files()
    _assert_healthy(api)


@pytest.mark.parametrize('head', [
    # Two lengths: cheroot took the last and stored 5 of 8 bytes.
    'Content-Length: 8\r\nContent-Length: 5',
    'Content-Length: +8',
    'Transfer-Encoding : chunked',
    'Transfer-Encoding: chunked\r\nContent-Length: 8',
])
def test_smuggling_framing_is_refused_and_nothing_created(api, head):
    before = _image_ids(api)
    answer = support.send_raw(
        api, 'POST /v1/images HTTP/1.1\r\nHost: t\r\n'
             'Content-Type: application/octet-stream\r\n'
             'x-image-meta-name: smuggled\r\n'
             'x-image-meta-disk_format: raw\r\n'
             'x-image-meta-container_format: bare\r\n' + head,
        [b'abcdefgh'])

    _assert_refused(answer)
    assert _image_ids(api) == before
    _assert_healthy(api)


def test_a_folded_line_before_the_first_header_is_a_400(api):
    answer = support.send_raw(
        api, 'GET /v1/images HTTP/1.1\r\n x\r\nHost: a', [])
    _assert_refused(answer)
    _assert_healthy(api)


@pytest.mark.parametrize('version', ['HTTP/1.2', 'HTTP/1.10'])
def test_later_http_1_versions_are_served_as_1_1(api, version):
    answer = support.send_raw(
        api, 'GET /v1/images %s\r\nHost: a\r\nConnection: close' % version,
        [])
    assert support.raw_status(answer) == 200, answer
    assert answer.startswith(b'HTTP/1.1 200')


def test_http_2_is_a_505_with_a_message(api):
    answer = support.send_raw(api, 'GET /v1/images HTTP/2.0\r\nHost: a', [])
    _assert_refused(answer, 505)


def test_refusals_of_head_carry_no_body(api):
    image_id = _reserve(api)
    for head in (
            # The server's own refusal of a header over
            # max_request_header_size.
            'HEAD /v1/images/%s HTTP/1.1\r\nHost: t\r\n'
            'X-Big: %s\r\nConnection: close' % (image_id, 'a' * 200000),
            # The server's own 400: a folded line.
            'HEAD /v1/images/%s HTTP/1.1\r\n x\r\nHost: t' % image_id,
            # The application's 400: a path that is not UTF-8.
            'HEAD /v1/images/%E9 HTTP/1.1\r\nHost: t\r\nConnection: close'):
        answer = support.send_raw(api, head, [])
        assert support.raw_status(answer) in (400, 413), answer
        assert answer.endswith(b'\r\n\r\n'), answer


# -- found by test_raw_fuzz.py ----------------------------------------------

@pytest.mark.parametrize('framing, body', [
    ('Content-Length: 40', '{"memberships": []'),  # cut short
    ('Transfer-Encoding: chunked', ''),  # no chunk at all
    ('Transfer-Encoding: chunked', '5\r\n{"mem'),  # cut inside a chunk
])
def test_a_member_body_cut_short_is_a_400_and_changes_nothing(
        api, framing, body):
    image_id = _reserve(api)
    assert requests.put('%s/v1/images/%s/members/tenant-a' % (
        api.url, image_id), timeout=30).status_code == 204
    sock = _connect(api)
    try:
        sock.sendall(('PUT /v1/images/%s/members HTTP/1.1\r\nHost: t\r\n'
                      '%s\r\n\r\n%s' % (image_id, framing, body)).encode())
        sock.shutdown(socket.SHUT_WR)  # the client's half closed early
        answer = b''
        while True:
            block = sock.recv(65536)
            if not block:
                break
            answer += block
    finally:
        sock.close()
    assert support.raw_status(answer) == 400, answer
    members = requests.get('%s/v1/images/%s/members' % (api.url, image_id),
                           timeout=30).json()['members']
    assert [m['member_id'] for m in members] == ['tenant-a']
    _assert_healthy(api)
