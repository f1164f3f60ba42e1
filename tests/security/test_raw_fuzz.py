"""Raw-socket fuzzing of the real glance-lite-api (issue 13): requests
built from HTTP's grammar and then broken the ways attackers and broken
clients break them — duplicated and signed lengths, odd transfer codings,
malformed chunk sizes, folded and colon-less lines, bare LFs, control
bytes, truncated bodies, the client's half of the socket closed early.

Whatever arrives, the server answers with a well-formed HTTP status line
and no 5xx (but 501 for unknown methods and 505 for other HTTP majors),
never resets the connection, never hangs, and leaves no upload half-done
and no orphaned bytes in the store.

The examples are derived from a fixed seed, so a run is repeatable. CI
runs GLANCE_LITE_FUZZ_EXAMPLES (default 300, about 5 s) of them; set it
higher for a longer hunt. Each finding becomes a test of its own in
test_framing.py.
"""

import os
import socket
import time
import urllib.parse
import uuid

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import pytest
import requests

from tests import server as test_server

CAP = 1024 * 1024
EXAMPLES = int(os.environ.get('GLANCE_LITE_FUZZ_EXAMPLES', '300'))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    database=None,
                    suppress_health_check=[
                        HealthCheck.too_slow,
                        HealthCheck.function_scoped_fixture])
# Longest the server may take to answer or close once the request is sent
# and the client's half of the connection closed.
ANSWER_TIMEOUT = 20
ALLOWED_5XX = {501, 505}


# Both flavors a client reaches without Keystone. Under trusted-auth the
# requests carry a caller (an admin, a member of another project, or
# nobody: 401) drawn like any other piece.
FLAVORS = ['noauth', 'trusted-auth']
ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Project-Id': 'fuzz-project',
         'X-User-Id': 'fuzz-admin', 'X-Roles': 'admin'}
CALLERS = [
    [b'%s: %s' % (name.encode(), value.encode())
     for name, value in ADMIN.items()],
    [b'X-Identity-Status: Confirmed', b'X-Project-Id: other-project',
     b'X-User-Id: other-user', b'X-Roles: member'],
    [],
]


@pytest.fixture(scope='module', params=FLAVORS)
def api(request):
    """A server with a 1 MiB image cap, so oversized bodies are cheap."""
    srv = test_server.Server({'DEFAULT': {'image_size_cap': CAP},
                              'paste_deploy': {'flavor': request.param}})
    srv.start()
    # What the checks after the run send: an admin of trusted-auth.
    srv.admin = ADMIN if request.param == 'trusted-auth' else {}
    yield srv
    srv.stop()


@pytest.fixture(scope='module')
def queued(api):
    """Images a PUT may upload to (each at most once)."""
    ids = []
    for _ in range(3):
        response = requests.post(api.url + '/v1/images', timeout=30,
                                 headers=dict(_IMAGE_HEADERS, **api.admin))
        assert response.status_code == 201, response.text
        ids.append(response.json()['image']['id'])
    return ids


_IMAGE_HEADERS = {'x-image-meta-name': 'fuzz',
                  'x-image-meta-disk_format': 'raw',
                  'x-image-meta-container_format': 'bare'}

# Each piece of a request, well-formed, then broken. A request has a few
# pieces broken (none, often), so that the server's deeper paths —
# uploads, updates, members — are reached as often as its refusals.
PIECES = {
    'eol': ([b'\r\n'], [b'\n', b'\r', b'\r\r\n', b'\n\r']),
    'method': ([b'GET', b'HEAD', b'POST', b'PUT', b'DELETE'],
               [b'get', b'PATCH', b'G ET', b'POST\x00', b'', b'X' * 300]),
    'version': ([b'HTTP/1.1', b'HTTP/1.0'],
                [b'HTTP/1.2', b'HTTP/1.10', b'HTTP/2.0', b'HTTP/1',
                 b'http/1.1', b'HTTP/1.1x', b'', b'HTTP/0.9', b'HTTP/11']),
    'lead': ([b''], [b' ', b'\r\n', b'\t']),
    'host': ([b'Host: fuzz'], [b'', b'Host: a\r\nHost: b', b'Host:']),
    'length': ([b'%d'], [b'+%d', b'-%d', b'0x%x', b' %d ', b'%d, %d',
                         b'%d %d', b'9' * 40, b'', b'%d\x00', b'0%d']),
    'declared': ([0], [-1, 1, 1000, CAP]),
    'length_name': ([b'Content-Length'],
                    [b'Content-Length ', b' Content-Length',
                     b'Content-Length\t']),
    'lengths': ([1], [2]),
    'coding': ([b'chunked'], [b'Chunked', b'chunked, identity', b'identity',
                              b'gzip, chunked', b'chunked, chunked',
                              b' chunked', b'chunked\x0b', b'chunk', b'']),
    'coding_name': ([b'Transfer-Encoding'], [b'Transfer-Encoding ',
                                             b'Transfer-Encoding\t']),
    'chunk_size': ([b'%x', b'%X', b'%x;ext=1'],
                   [b'+%x', b'-%x', b'0x%x', b' %x', b'%x ', b'f' * 40, b'',
                    b'zz']),
    'chunk_end': ([b'\r\n'], [b'', b'xx', b'\n']),
    'last_chunk': ([b'0\r\n\r\n', b'0\r\nX-Trailer: t\r\n\r\n'],
                   [b'', b'0\r\n', b'0\r\nbad trailer\r\n\r\n']),
    'extra': ([None, b'Connection: keep-alive', b'Expect: 100-continue'],
              [b' folded', b'\tfolded', b'no colon here', b'X-Null: a\x00b',
               b'X-High: \xff\xfe', b': empty name',
               b'X-Long: ' + b'v' * 70000, b'x-image-meta-size: 12abc',
               b'x-image-meta-property-a%0d%0aSet-Cookie: s=evil']),
    'cut': ([None], ['head', 'body']),
}


class _Pieces:
    """Draws each piece well-formed unless it is one of ``broken``."""

    def __init__(self, draw, broken):
        self.draw = draw
        self.broken = broken

    def __call__(self, name):
        good, bad = PIECES[name]
        return self.draw(st.sampled_from(bad if name in self.broken
                                         else good))


@st.composite
def targets(draw, queued):
    choice = draw(st.sampled_from(
        ['images', 'images', 'detail', 'queued', 'queued', 'new', 'members',
         'root', 'star', 'absolute', 'junk', 'long']))
    if choice == 'images':
        return b'/v1/images'
    if choice == 'detail':
        return b'/v1/images/detail?is_public=None'
    if choice == 'queued':
        return b'/v1/images/' + draw(st.sampled_from(queued)).encode()
    if choice == 'new':
        return b'/v1/images/' + str(uuid.uuid4()).encode()
    if choice == 'members':
        return b'/v1/images/%s/members' % draw(
            st.sampled_from(queued)).encode()
    if choice == 'root':
        return b'/'
    if choice == 'star':
        return b'*'
    if choice == 'absolute':
        return b'http://example.com/v1/images'
    if choice == 'long':
        return b'/v1/images/' + b'a' * draw(st.integers(100, 20000))
    return draw(st.binary(min_size=0, max_size=40))


def _chunked(piece, data):
    """``data`` in chunks, each framing piece possibly broken."""
    out = b''
    position = 0
    while position < len(data):
        size = piece.draw(st.integers(1, len(data) - position))
        chunk = data[position:position + size]
        position += size
        form = piece('chunk_size')
        out += (form % len(chunk) if b'%' in form else form) + piece('eol')
        out += chunk + piece('chunk_end')
    return out + piece('last_chunk')


@st.composite
def requests_(draw, api, queued):
    broken = draw(st.sets(st.sampled_from(sorted(PIECES)), max_size=draw(
        st.sampled_from([0, 0, 1, 1, 1, 2, 3]))))
    piece = _Pieces(draw, broken)
    eol = piece('eol')
    line = piece('lead') + b' '.join([piece('method'), draw(targets(queued)),
                                      piece('version')])
    data = draw(st.binary(min_size=1, max_size=3000)) if draw(
        st.booleans()) else b''
    fields = [piece('host')]
    if api.admin:
        fields += draw(st.sampled_from(CALLERS))
    if draw(st.booleans()):
        fields += [b'%s: %s' % (name.encode(), value.encode())
                   for name, value in _IMAGE_HEADERS.items()]
    framing = draw(st.sampled_from(['length', 'length', 'chunked',
                                    'chunked', 'both', 'none']))
    body = data
    if framing in ('length', 'both'):
        for _ in range(piece('lengths')):
            declared = max(len(data) + piece('declared'), 0)
            value = piece('length').replace(b'%d', b'%d' % declared).replace(
                b'%x', b'%x' % declared)
            fields.append(piece('length_name') + b': ' + value)
    if framing in ('chunked', 'both'):
        fields.append(piece('coding_name') + b': ' + piece('coding'))
        body = _chunked(piece, data)
    extra = piece('extra')
    if extra is not None:
        fields.insert(draw(st.integers(0, len(fields))), extra)
    head = line + eol + b''.join(f + eol for f in fields if f) + eol
    payload = head + body
    cut = piece('cut')
    if cut == 'head':
        payload = head[:draw(st.integers(1, len(head) - 1))]
    elif cut == 'body' and body:
        payload = head + body[:draw(st.integers(0, len(body) - 1))]
    return payload


def _exchange(api, payload):
    """Send ``payload``, close our half of the connection, read until the
    server closes. Returns what arrived; a reset or a hang fails."""
    address = urllib.parse.urlsplit(api.url)
    sock = socket.create_connection((address.hostname, address.port),
                                    timeout=ANSWER_TIMEOUT)
    received = b''
    try:
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking it all
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while True:
            if time.monotonic() > deadline:
                pytest.fail('no end of answer within %d s to %r'
                            % (ANSWER_TIMEOUT, payload[:300]))
            try:
                block = sock.recv(65536)
            except socket.timeout:
                pytest.fail('the server hung on %r' % payload[:300])
            except ConnectionResetError:
                if received:
                    break  # the answer arrived whole before the reset
                pytest.fail('connection reset with no answer to %r'
                            % payload[:300])
            if not block:
                break
            received += block
    finally:
        sock.close()
    return received


def _statuses(received):
    """Status codes of the answers in ``received`` (keep-alive may carry
    more than one)."""
    codes = []
    for line in received.split(b'\r\n'):
        if line.startswith(b'HTTP/1.'):
            parts = line.split(b' ', 2)
            codes.append(int(parts[1]))
    return codes


def _every_image(api):
    """Every image of the catalogue, page by page (a long run creates
    many)."""
    images, marker = [], None
    while True:
        params = {'is_public': 'None', 'limit': 1000}
        if marker:
            params['marker'] = marker
        page = requests.get(api.url + '/v1/images/detail', params=params,
                            timeout=60, headers=api.admin).json()['images']
        if not page:
            return images
        images += page
        marker = page[-1]['id']


def test_raw_requests_never_get_a_5xx_a_reset_or_a_hang(api, queued):

    @SETTINGS
    @given(requests_(api, queued))
    def check(payload):
        received = _exchange(api, payload)
        assert received.startswith(b'HTTP/1.'), (
            'no HTTP answer to %r: %r' % (payload[:300], received[:300]))
        codes = _statuses(received)
        bad = [c for c in codes if c >= 500 and c not in ALLOWED_5XX]
        assert not bad, '%s to %r: %r' % (bad, payload[:300],
                                          received[:500])

    check()

    # The server is healthy, no upload is left half-done and no byte is
    # stored without an active image.
    assert requests.get(api.url + '/v1/images', timeout=30,
                        headers=api.admin).status_code == 200
    listing = _every_image(api)
    assert [i['id'] for i in listing if i['status'] == 'saving'] == []
    active = {i['id'] for i in listing if i['status'] == 'active'}
    assert set(api.stored_files()) <= active
    log = api.log()
    for sign in ('Traceback', 'CRITICAL', 'MemoryError', 'OverflowError'):
        assert sign not in log
