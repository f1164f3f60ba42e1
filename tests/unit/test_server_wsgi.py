"""server.wsgi_server: cheroot's server put together with this package's
extensions answers as glance-lite-api must, checked in-process against a
small WSGI application (tests/deploy, tests/security and
tests/reliability check the real glance-lite-api)."""

import hashlib
import http.client
import json
import socket
import threading
import time

import pytest

from glance_lite.server import chunked
from glance_lite.server import file_wrapper
from glance_lite.server import wsgi_server


def app(environ, start_response):
    """/echo: the request as JSON; /unread: answers without reading the
    body; /file?n: n bytes through wsgi.file_wrapper; /wrapped?n: the same
    behind a middleware's generator."""
    path = environ['PATH_INFO']
    if path == '/unread':
        start_response('400 Bad Request', [('Content-Length', '0')])
        return []
    if path in ('/file', '/wrapped'):
        size = int(environ['QUERY_STRING'])
        f = open(environ['test.file'], 'rb')
        start_response('200 OK', [('Content-Length', str(size))])
        body = environ['wsgi.file_wrapper'](f, 1024)
        if path == '/wrapped':
            return (block for block in body)
        return body
    data = environ['wsgi.input'].read()
    answer = json.dumps({
        'md5': hashlib.md5(data).hexdigest(), 'size': len(data),
        'input': type(environ['wsgi.input']).__name__,
        'terminated': environ['wsgi.input_terminated'],
        'headers': sorted(k for k in environ if k.startswith('HTTP_')),
    }).encode()
    start_response('200 OK', [('Content-Length', str(len(answer))),
                              ('Content-Type', 'application/json')])
    return [answer]


@pytest.fixture(scope='module')
def image_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('server') / 'image'
    path.write_bytes(bytes(range(256)) * 4096)
    return str(path)


def start(image_file, **kwargs):
    def with_file(environ, start_response):
        environ['test.file'] = image_file
        return app(environ, start_response)

    kwargs.setdefault('timeout', 10)
    server = wsgi_server.Server(('127.0.0.1', 0), with_file, numthreads=2,
                                **kwargs)
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    return server


@pytest.fixture(scope='module')
def server(image_file):
    server = start(image_file, client_min_rate=500,
                   client_min_rate_window=20,
                   max_request_header_size=16 * 1024)
    yield server
    server.stop()


def connect(server):
    return http.client.HTTPConnection(*server.bind_addr[:2], timeout=10)


def raw(server):
    return socket.create_connection(server.bind_addr[:2], timeout=10)


def chunks(data, size):
    for pos in range(0, len(data), size):
        yield data[pos:pos + size]


def test_the_server_uses_this_package_gateway_and_connection(server):
    assert server.gateway is wsgi_server.Gateway
    assert server.ConnectionClass is wsgi_server.Connection


def test_a_chunked_body_is_read_through_chunked_body(server):
    data = bytes(range(256)) * 5000
    conn = connect(server)
    conn.request('POST', '/echo', body=chunks(data, 65536),
                 encode_chunked=True)
    answer = json.loads(conn.getresponse().read())
    assert answer['input'] == chunked.ChunkedBody.__name__
    assert answer['terminated'] is True
    assert answer['size'] == len(data)
    assert answer['md5'] == hashlib.md5(data).hexdigest()


def test_a_content_length_body_is_cheroot_own(server):
    conn = connect(server)
    conn.request('POST', '/echo', body=b'abc')
    answer = json.loads(conn.getresponse().read())
    assert answer['input'] != chunked.ChunkedBody.__name__
    assert answer['size'] == 3


def test_an_unread_chunked_body_is_discarded_and_the_connection_kept(
        server):
    conn = connect(server)
    conn.request('POST', '/unread', body=chunks(b'x' * 300_000, 1000),
                 encode_chunked=True)
    response = conn.getresponse()
    response.read()
    assert response.status == 400
    assert not response.will_close
    # The same connection carries the next request.
    conn.request('GET', '/echo')
    assert conn.getresponse().status == 200


def test_a_long_unread_chunked_body_closes_the_connection(server):
    sock = raw(server)
    with sock:
        sock.sendall(b'POST /unread HTTP/1.1\r\nHost: x\r\n'
                     b'Transfer-Encoding: chunked\r\n\r\n')
        piece = b'%x\r\n%s\r\n' % (65536, b'x' * 65536)
        sender = threading.Thread(target=lambda: _send_quietly(
            sock, piece * (chunked.DISCARD_LIMIT // 65536 + 10)))
        sender.start()
        answer = _read_until_closed(sock)
        sender.join()
    assert answer.startswith(b'HTTP/1.1 400 ')


def _send_quietly(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass


def _read_until_closed(sock):
    data = b''
    while True:
        try:
            block = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not block:
            return data
        data += block


def test_underscore_headers_do_not_reach_the_application(server):
    conn = connect(server)
    conn.request('GET', '/echo', headers={
        'X_Roles': 'admin', 'x-image-meta-disk_format': 'raw'})
    headers = json.loads(conn.getresponse().read())['headers']
    assert 'HTTP_X_ROLES' not in headers
    assert 'HTTP_X_IMAGE_META_DISK_FORMAT' in headers


@pytest.mark.parametrize('path', ['/file', '/wrapped'])
def test_file_wrapper_bodies_arrive_whole(server, image_file, path):
    with open(image_file, 'rb') as f:
        expected = f.read()
    conn = connect(server)
    for _ in range(2):
        conn.request('GET', '%s?%d' % (path, len(expected)))
        response = conn.getresponse()
        assert response.read() == expected
        assert not response.will_close


def test_sendfile_sends_the_content_length(server, image_file):
    with open(image_file, 'rb') as f:
        expected = f.read(1000)
    conn = connect(server)
    conn.request('GET', '/file?1000')
    assert conn.getresponse().read() == expected


def test_a_file_wrapper_body_is_sent_with_sendfile(server, monkeypatch):
    sent = []
    monkeypatch.setattr(file_wrapper.FileWrapper, '__iter__',
                        lambda self: pytest.fail('iterated'))
    real = file_wrapper.FileWrapper.sendfile

    def sendfile(self):
        sent.append(self)
        return real(self)

    monkeypatch.setattr(file_wrapper.FileWrapper, 'sendfile', sendfile)
    conn = connect(server)
    conn.request('GET', '/file?4096')
    assert len(conn.getresponse().read()) == 4096
    assert len(sent) == 1


def test_huge_headers_are_refused(server):
    conn = connect(server)
    conn.request('GET', '/echo', headers={'X-Big': 'x' * 20_000})
    assert conn.getresponse().status in (413, 414)


def test_a_trickling_client_gets_a_408(image_file):
    server = start(image_file, client_min_rate=1000,
                   client_min_rate_window=0.5)
    try:
        sock = raw(server)
        with sock:
            started = time.monotonic()
            answer = b''
            for byte in b'GET /echo HTTP/1.1\r\nHost: x\r\n':
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    break
                time.sleep(0.1)
                if time.monotonic() - started > 5:
                    break
            answer = _read_until_closed(sock)
        assert answer.startswith(b'HTTP/1.1 408 ')
        assert time.monotonic() - started < 5
    finally:
        server.stop()


def test_without_min_rate_reads_are_not_guarded(image_file, monkeypatch):
    monkeypatch.setattr(wsgi_server.rate_guard, 'RateGuardedReads',
                        lambda *a: pytest.fail('guarded'))
    server = start(image_file, client_min_rate=0)
    try:
        conn = connect(server)
        conn.request('GET', '/echo')
        assert conn.getresponse().status == 200
    finally:
        server.stop()
