"""server.framing: glance-lite-api refuses request framing that RFC 9112
says to reject (the request-smuggling class) with a 400 and a closed
connection, serves later HTTP/1.x versions as 1.1, answers HEAD without a
body and refuses an unread long body without reading it; checked
in-process over raw sockets against a small WSGI application
(tests/security/test_framing.py checks the real glance-lite-api)."""

import json
import re
import socket
import threading
import time

import pytest

from glance_lite.server import framing
from glance_lite.server import wsgi_server
from tests import raw_http


def app(environ, start_response):
    """/refuse: a 400 with a body, without reading the request's body;
    anything else: the request as JSON, its body read."""
    if environ['PATH_INFO'] == '/refuse':
        body = b'{"message": "no"}'
        start_response('400 Bad Request', [('Content-Length', str(len(body))),
                                           ('Content-Type', 'text/plain')])
        return [body]
    data = environ['wsgi.input'].read()
    answer = json.dumps({
        'body': data.decode('latin-1'),
        'protocol': environ['SERVER_PROTOCOL'],
        'length': environ.get('CONTENT_LENGTH'),
    }).encode()
    start_response('200 OK', [('Content-Length', str(len(answer))),
                              ('Content-Type', 'application/json')])
    return [answer]


@pytest.fixture(scope='module')
def server():
    server = wsgi_server.Server(('127.0.0.1', 0), app, numthreads=4,
                                timeout=10)
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    yield server
    server.stop()


def exchange(server, data, shut=True):
    """Send ``data`` raw; the whole answer, read until the server closes
    (or, with a kept-alive connection, until 2 s of silence)."""
    sock = socket.create_connection(server.bind_addr[:2], timeout=10)
    try:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2)
        parts = []
        try:
            while True:
                part = sock.recv(65536)
                if not part:
                    break
                parts.append(part)
        except socket.timeout:
            pass
        return b''.join(parts)
    finally:
        sock.close()


def status(answer):
    return int(answer.split(b' ', 2)[1])


def head_and_body(answer):
    head, _, body = answer.partition(b'\r\n\r\n')
    lines = head.split(b'\r\n')
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b':')
        headers[name.strip().lower()] = value.strip()
    return headers, body


def assert_refused(answer, code=400):
    assert status(answer) == code, answer
    headers, body = head_and_body(answer)
    assert headers[b'connection'] == b'close'
    assert body, 'a refusal says why'
    # One answer: the rest of the request was not served as another.
    assert answer.count(b'HTTP/1.1 ') == 1, answer


def post(headers, body=b''):
    return (b'POST /echo HTTP/1.1\r\nHost: t\r\n' + headers + b'\r\n'
            + body)


@pytest.mark.parametrize('request_bytes', [
    # Two different lengths: cheroot took the last one.
    post(b'Content-Length: 8\r\nContent-Length: 5\r\n', b'abcdefgh'),
    post(b'Content-Length: 8, 5\r\n', b'abcdefgh'),
    post(b'Content-Length: +8\r\n', b'abcdefgh'),
    post(b'Content-Length: 0x8\r\n', b'abcdefgh'),
    post(b'Content-Length: 8_0\r\n', b'abcdefgh'),
    post(b'Content-Length: -8\r\n', b'abcdefgh'),
    post(b'Content-Length: 1' + b'0' * 30 + b'\r\n', b'abcdefgh'),
    # Both framings: a proxy may read one, the server the other.
    post(b'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n',
         b'5\r\nhello\r\n0\r\n\r\n'),
    # A space before the colon: cheroot still saw Transfer-Encoding.
    post(b'Transfer-Encoding : chunked\r\n', b'5\r\nhello\r\n0\r\n\r\n'),
    post(b'Transfer-Encoding: chunked, chunked\r\n',
         b'5\r\nhello\r\n0\r\n\r\n'),
    post(b'Transfer-Encoding: chunked, gzip\r\n', b'5\r\nhello\r\n0\r\n\r\n'),
    (b'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n'
     b'Content-Length: 18\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
    # Folded lines (obs-fold), before the first header and later.
    b'GET /echo HTTP/1.1\r\n x\r\nHost: a\r\n\r\n',
    b'GET /echo HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n',
    b'GET /echo HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n',
    b'GET /echo HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n',
    b'GET /echo HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n',
    b'GET /echo HTTP/1.1\r\nHost: a\r\nX-A: b\rSet-Cookie: c\r\n\r\n',
    b'GET /echo HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n',
    b'GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    b'GET /echo HTTP/+1.1\r\nHost: a\r\n\r\n',
    b'GET /echo HTTP/1.x\r\nHost: a\r\n\r\n',
], ids=lambda data: data[:70].decode('latin-1'))
def test_bad_framing_is_refused_and_the_connection_closed(server,
                                                          request_bytes):
    assert_refused(exchange(server, request_bytes))


@pytest.mark.parametrize('version', [b'HTTP/1.2', b'HTTP/1.10', b'HTTP/1.9'])
def test_a_later_http_1_version_is_served_as_1_1(server, version):
    answer = exchange(server, b'GET /echo ' + version +
                      b'\r\nHost: a\r\nConnection: close\r\n\r\n')
    assert status(answer) == 200, answer
    assert json.loads(head_and_body(answer)[1])['protocol'] == 'HTTP/1.1'


@pytest.mark.parametrize('version', [b'HTTP/2.0', b'HTTP/3.0', b'HTTP/0.9'])
def test_other_major_versions_are_505_with_a_message(server, version):
    answer = exchange(server, b'GET /echo ' + version + b'\r\nHost: a\r\n\r\n')
    assert_refused(answer, 505)


def test_the_same_length_twice_is_one_length(server):
    answer = exchange(server, post(
        b'Content-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n',
        b'hello'))
    assert status(answer) == 200, answer
    assert json.loads(head_and_body(answer)[1])['body'] == 'hello'


def test_raw_utf8_header_names_and_values_are_accepted(server):
    # What older glance clients send for non-ASCII property names.
    answer = exchange(server, post(
        'X-Image-Meta-Property-Caf\u00e9: \u00fcber\r\n'
        'Content-Length: 2\r\nConnection: close\r\n'.encode('utf-8'),
        b'ok'))
    assert status(answer) == 200, answer


def test_well_formed_requests_still_work_on_one_connection(server):
    two = (post(b'Content-Length:5\r\n', b'hello') +
           post(b'Transfer-Encoding: chunked\r\nConnection: close\r\n',
                b'3;x=1\r\nabc\r\n0\r\n\r\n'))
    answer = exchange(server, two)
    assert answer.count(b'HTTP/1.1 200 OK') == 2, answer
    assert b'"body": "hello"' in answer and b'"body": "abc"' in answer


def test_head_answers_carry_no_body(server):
    for request_bytes in (
            b'HEAD /refuse HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
            b'HEAD /echo HTTP/1.1\r\n x\r\nHost: a\r\n\r\n'):
        answer = exchange(server, request_bytes)
        assert status(answer) == 400
        headers, body = head_and_body(answer)
        assert body == b'', answer
        assert int(headers[b'content-length']) > 0


def test_a_long_unread_body_is_refused_without_being_read(server):
    # 10 GiB declared, none sent: the answer comes at once, and closes.
    sock = socket.create_connection(server.bind_addr[:2], timeout=10)
    try:
        started = time.monotonic()
        sock.sendall(b'POST /refuse HTTP/1.1\r\nHost: a\r\n'
                     b'Content-Length: 10737418240\r\n\r\n')
        answer = b''
        while True:
            # Until the server closes: at once, or after its linger.
            received = sock.recv(65536)
            if not received:
                break
            answer += received
        assert time.monotonic() - started < 5
        assert status(answer) == 400
        headers, body = head_and_body(answer)
        assert headers[b'connection'] == b'close'
        assert body == b'{"message": "no"}'
    finally:
        sock.close()


def test_a_short_unread_body_keeps_the_connection(server):
    answer = exchange(server, b'POST /refuse HTTP/1.1\r\nHost: a\r\n'
                      b'Content-Length: 5\r\n\r\nhello' +
                      post(b'Content-Length: 2\r\nConnection: close\r\n',
                           b'ok'))
    assert answer.startswith(b'HTTP/1.1 400')
    assert b'HTTP/1.1 200 OK' in answer and b'"body": "ok"' in answer


def test_a_client_still_sending_reads_the_refusal_not_a_reset(server):
    sock = socket.create_connection(server.bind_addr[:2], timeout=10)
    try:
        sock.sendall(b'POST /refuse HTTP/1.1\r\nHost: a\r\n'
                     b'Content-Length: 10737418240\r\n\r\n')
        with raw_http.sending_forever(sock):
            # Read as a client does, as soon as the answer comes: the
            # head, then the body its Content-Length announces (they may
            # arrive in separate segments).
            answer = sock.recv(65536)
            head, _, body = answer.partition(b'\r\n\r\n')
            length = int(re.search(rb'Content-Length: (\d+)', head).group(1))
            while len(body) < length:
                block = sock.recv(65536)
                assert block, answer
                body += block
            answer = head + b'\r\n\r\n' + body
        assert status(answer) == 400
        assert b'"message": "no"' in answer
    finally:
        sock.close()


def test_served_request_line():
    assert framing.served_request_line(b'GET / HTTP/1.2\r\n') == (
        b'GET / HTTP/1.1\r\n')
    assert framing.served_request_line(b'GET / HTTP/1.0\r\n') == (
        b'GET / HTTP/1.0\r\n')
    assert framing.served_request_line(b'GET / HTTP/1.1') == b'GET / HTTP/1.1'
