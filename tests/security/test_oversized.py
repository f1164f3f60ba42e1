"""Oversized and slow requests are refused early with a 4xx, and cannot
hold every worker of the server forever."""

import socket
import threading
import time
import urllib.parse

import pytest
import requests

from tests.security import support
from tests import server as test_server

CAP = 1024 * 1024
THREADS = 4
SOCKET_TIMEOUT = 3


@pytest.fixture(scope='module')
def small():
    """A server with a 1 MiB image cap, 4 worker threads and a 3 s client
    socket timeout."""
    srv = test_server.Server({'DEFAULT': {
        'image_size_cap': CAP, 'server_threads': THREADS,
        'client_socket_timeout': SOCKET_TIMEOUT}}).start()
    yield srv
    srv.stop()


def _still_serves(api):
    response = requests.get(api.url + '/v1/images', timeout=60)
    assert response.status_code == 200


def _connect(api):
    host, port = urllib.parse.urlsplit(api.url).netloc.split(':')
    return socket.create_connection((host, int(port)), timeout=60)


def _reserve(api):
    response = requests.post(api.url + '/v1/images', timeout=30,
                             headers={'x-image-meta-name': 'target'})
    return response.json()['image']['id']


def test_huge_header_is_refused(small):
    answer = support.send_raw(
        small, 'GET /v1/images HTTP/1.1\r\nHost: t\r\n'
               'X-Big: ' + 'a' * (100 * 1024), [])

    assert 400 <= support.raw_status(answer) < 500
    _still_serves(small)


def test_numerous_headers_are_refused(small):
    fields = ''.join('X-Field-%d: v\r\n' % n for n in range(1000))
    answer = support.send_raw(
        small, 'GET /v1/images HTTP/1.1\r\nHost: t\r\n'
               'Connection: close\r\n' + fields.rstrip('\r\n'), [])

    assert support.raw_status(answer) == 431
    _still_serves(small)


def test_huge_member_body_is_refused(small):
    image_id = _reserve(small)
    member = {'member_id': 'm' * 200, 'can_share': False}
    body = ('{"memberships": [%s]}' % ', '.join(
        ['{"member_id": "%s", "can_share": false}' % member['member_id']]
        * 25000)).encode()
    assert len(body) > 4 * 1024 * 1024
    url = '%s/v1/images/%s/members' % (small.url, image_id)

    framed = requests.put(url, data=body, timeout=60,
                          headers={'Content-Type': 'application/json'})
    chunked = requests.put(url, data=iter([body[i:i + 65536] for i in
                                           range(0, len(body), 65536)]),
                           timeout=60,
                           headers={'Content-Type': 'application/json'})

    assert framed.status_code == 413
    assert chunked.status_code == 413
    members = requests.get(url, timeout=30).json()['members']
    assert members == []
    _still_serves(small)


def test_deeply_nested_member_body_is_a_400(small):
    image_id = _reserve(small)
    body = b'[' * 200000 + b']' * 200000

    response = requests.put(
        '%s/v1/images/%s/members' % (small.url, image_id), data=body,
        timeout=60, headers={'Content-Type': 'application/json'})

    assert response.status_code == 400


@pytest.mark.parametrize('request_line,extra_header,status', [
    # Cut at the cap.
    ('POST /v1/images', '', 413),
    # Refused before reading: the unread rest is not read forever either.
    ('PUT /v1/images/00000000-0000-4000-8000-000000000000', '', 404),
    # A declared size: the body is counted (not stored) up to twice the
    # cap for the mismatch answer, then cut too.
    ('POST /v1/images', 'x-image-meta-size: 100\r\n', 400),
])
def test_endless_chunked_upload_is_cut_early(small, request_line,
                                             extra_header, status):
    """A chunked upload that never ends: the answer comes, the connection
    is closed, and nothing is left in the store."""
    sock = _connect(small)
    sock.sendall(request_line.encode() + b' HTTP/1.1\r\nHost: t\r\n' +
                 extra_header.encode() +
                 b'Transfer-Encoding: chunked\r\n'
                 b'Content-Type: application/octet-stream\r\n'
                 b'x-image-meta-disk_format: raw\r\n'
                 b'x-image-meta-container_format: bare\r\n\r\n')
    chunk = b'%x\r\n%s\r\n' % (65536, b'z' * 65536)
    sent = {'bytes': 0, 'stopped_by': None}
    limit = 64 * CAP

    def send_forever():
        try:
            while sent['bytes'] < limit:
                sock.sendall(chunk)
                sent['bytes'] += len(chunk)
            sent['stopped_by'] = 'limit'
        except OSError as e:
            sent['stopped_by'] = type(e).__name__

    sender = threading.Thread(target=send_forever, daemon=True)
    sender.start()
    answer = b''
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sender.join(60)
    sock.close()

    assert support.raw_status(answer) == status, answer[:300]
    # The server hung up long before the client gave up.
    assert sent['stopped_by'] not in (None, 'limit'), sent
    assert small.stored_files() == []
    _still_serves(small)


def test_stalled_clients_do_not_hold_every_worker(small):
    """As many clients as the server has threads send part of a request
    and stop; a normal request is still answered (the stalled ones are
    dropped after client_socket_timeout)."""
    stalled = []
    try:
        for n in range(THREADS):
            sock = _connect(small)
            sock.sendall(b'GET /v1/images HTTP/1.1\r\nHost: t\r\nX-Slow')
            stalled.append(sock)
        for n in range(THREADS):
            sock = _connect(small)
            sock.sendall(b'POST /v1/images HTTP/1.1\r\nHost: t\r\n'
                         b'Content-Type: application/octet-stream\r\n'
                         b'x-image-meta-disk_format: raw\r\n'
                         b'x-image-meta-container_format: bare\r\n'
                         b'Content-Length: 1000\r\n\r\n' + b'x' * 10)
            stalled.append(sock)
        time.sleep(0.5)

        _still_serves(small)
    finally:
        for sock in stalled:
            sock.close()


def test_upload_stalled_mid_body_is_killed_and_leaves_no_data(small):
    image_id = _reserve(small)
    sock = _connect(small)
    try:
        sock.sendall(('PUT /v1/images/%s HTTP/1.1\r\nHost: t\r\n'
                      'Content-Type: application/octet-stream\r\n'
                      'x-image-meta-disk_format: raw\r\n'
                      'x-image-meta-container_format: bare\r\n'
                      'Content-Length: 100000\r\n\r\n' % image_id).encode()
                     + b'x' * 1000)
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            status = requests.head(
                '%s/v1/images/%s' % (small.url, image_id),
                timeout=30).headers['x-image-meta-status']
            if status == 'killed':
                break
            time.sleep(0.2)
    finally:
        sock.close()

    assert status == 'killed'
    assert image_id not in small.stored_files()


# Clients that trickle: one byte every TRICKLE_EVERY seconds, well within
# the socket timeout, so only the minimum rate can stop them.
MIN_RATE = 1000
RATE_WINDOW = 2
TRICKLE_EVERY = 0.5


@pytest.fixture(scope='module')
def strict():
    """``small``, and clients must send 1000 bytes/s over 2 s of waiting."""
    srv = test_server.Server({'DEFAULT': {
        'image_size_cap': CAP, 'server_threads': THREADS,
        'client_socket_timeout': SOCKET_TIMEOUT,
        'client_min_rate': MIN_RATE,
        'client_min_rate_window': RATE_WINDOW}}).start()
    yield srv
    srv.stop()


def _trickle(sock, start, give_up=30):
    """Send ``start``, then a byte every TRICKLE_EVERY seconds until the
    server closes the connection. Returns (seconds it took, what the
    server answered), or (None, ...) if it was still reading at give_up."""
    sock.sendall(start)
    began = time.monotonic()
    sock.settimeout(TRICKLE_EVERY)
    answer = b''
    while time.monotonic() - began < give_up:
        try:
            data = sock.recv(65536)
            if not data:
                return time.monotonic() - began, answer
            answer += data
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - began, answer
        try:
            sock.sendall(b'a')
        except OSError:
            return time.monotonic() - began, answer
    return None, answer


def test_trickled_headers_are_cut(strict):
    with _connect(strict) as sock:
        took, answer = _trickle(
            sock, b'GET /v1/images HTTP/1.1\r\nHost: t\r\nX-Slow: ')

    assert took is not None, 'the server is still reading the headers'
    assert took < 5 * RATE_WINDOW
    assert support.raw_status(answer) == 408, answer[:300]
    _still_serves(strict)


def test_trickled_upload_is_cut_and_leaves_no_data(strict):
    image_id = _reserve(strict)
    start = ('PUT /v1/images/%s HTTP/1.1\r\nHost: t\r\n'
             'Content-Type: application/octet-stream\r\n'
             'x-image-meta-disk_format: raw\r\n'
             'x-image-meta-container_format: bare\r\n'
             'Content-Length: 100000\r\n\r\n' % image_id).encode()
    with _connect(strict) as sock:
        took, _answer = _trickle(sock, start + b'x' * 1000)

    assert took is not None, 'the server is still reading the upload'
    assert took < 5 * RATE_WINDOW
    status = requests.head('%s/v1/images/%s' % (strict.url, image_id),
                           timeout=30).headers['x-image-meta-status']
    assert status == 'killed'
    assert image_id not in strict.stored_files()


def test_trickling_clients_do_not_hold_every_worker(strict):
    # As many tricklers as worker threads: within a window or two they
    # are cut and a normal request is served again.
    results = []
    tricklers = [threading.Thread(target=lambda: results.append(_trickle(
        _connect(strict), b'GET /v1/images HTTP/1.1\r\nHost: t\r\nX: ')))
        for _ in range(THREADS)]
    for trickler in tricklers:
        trickler.start()
    for trickler in tricklers:
        trickler.join(60)

    assert len(results) == THREADS
    assert all(took is not None for took, _answer in results), results
    _still_serves(strict)


def test_a_client_that_keeps_the_pace_is_not_cut(strict):
    # 2 kB/s, twice the minimum, in bytes sent every 0.1 s for 3 windows.
    image_id = _reserve(strict)
    size = 12000
    start = ('PUT /v1/images/%s HTTP/1.1\r\nHost: t\r\n'
             'Content-Type: application/octet-stream\r\n'
             'x-image-meta-disk_format: raw\r\n'
             'x-image-meta-container_format: bare\r\n'
             'Content-Length: %d\r\n\r\n' % (image_id, size)).encode()
    with _connect(strict) as sock:
        sock.sendall(start)
        for _ in range(size // 200):
            sock.sendall(b'y' * 200)
            time.sleep(0.1)
        answer = sock.recv(65536)

    assert support.raw_status(answer) == 200, answer[:300]
    image = requests.head('%s/v1/images/%s' % (strict.url, image_id),
                          timeout=30).headers
    assert (image['x-image-meta-status'], image['x-image-meta-size']) == (
        'active', str(size))
