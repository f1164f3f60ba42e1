"""Helpers shared by the functional image tests (create, read, update,
delete): the request shapes of spec §19, a small HTTP server standing in
for a remote image source, and raw-socket requests for the cases
``requests`` cannot produce (a client that hangs up mid-body)."""

import hashlib
import html
import http.server
import json
import socket
import threading
import time
import urllib.parse
import uuid

import requests

from tests.functional import _parallel

FIVE_KB = b'*' * 5120
FIVE_KB_MD5 = 'c2e5db72bd7fd153f53ede5da5a06de3'
assert hashlib.md5(FIVE_KB).hexdigest() == FIVE_KB_MD5

# Every image attribute a v1 JSON body carries (spec §5.4).
DETAIL_KEYS = {'id', 'name', 'size', 'virtual_size', 'disk_format',
               'container_format', 'checksum', 'min_disk', 'min_ram',
               'status', 'is_public', 'protected', 'owner', 'created_at',
               'updated_at', 'deleted_at', 'deleted', 'properties'}
# Keys and header names that would reveal where the data is stored.
STORAGE_KEYS = ('location', 'locations', 'location_data', 'direct_url',
                'store', 'uri')


# Headers a client can get wrong; none of them may answer 500 (spec
# §12.3: 500 only for unexpected internal errors).
MALFORMED_HEADERS = [
    {'x-image-meta-size': ''},
    {'x-image-meta-min_disk': ''},
    {'x-image-meta-min_ram': ''},
    {'x-image-meta-virtual_size': ''},
    {'x-image-meta-size': '99999999999999999999999999'},
    {'x-image-meta-virtual_size': '99999999999999999999999999'},
    {'x-image-meta-min_ram': '1e3'},
    {'x-image-meta-size': '0x10'},
    {'x-image-meta-id': 'x' * 100},
    {'x-image-meta-id': '{12345678-1234-5678-1234-567812345678}'},
    {'x-image-meta-id': ''},
    {'x-image-meta-created_at': '9999-99-99'},
    {'x-image-meta-updated_at': '0001-01-01T00:00:00'},
    {'x-image-meta-deleted_at': '2012-13-45T99:99:99'},
    {'x-image-meta-created_at': '1' * 400},
    {'x-image-meta-name': b'\xff\xfe'},
    {'x-image-meta-name': '%FF%FE'},
    {'x-image-meta-name': 'caf\xc3'},
    {'x-image-meta-name': '\U0001F600'.encode('utf-8')},
    {'x-image-meta-property-k': '%F0%9F%98%80'},
    {'x-image-meta-property-' + 'k' * 256: 'v'},
    {'x-image-meta-property-%FF': 'v'},
    {'x-image-meta-%FF': 'v'},
    {'x-image-meta-': 'v'},
    {'x-image-meta-checksum': 'c' * 33},
    {'x-image-meta-disk_format': ''},
    {'x-image-meta-disk_format': 'x' * 300},
    {'x-image-meta-store': ''},
    {'x-image-meta-location': 'http://[::1'},
    {'x-image-meta-location': 'http://127.0.0.1:99999/x'},
    {'x-image-meta-location': 'http://127.0.0.1:1/unreachable'},
    {'x-glance-api-copy-from': 'http://[bad'},
    {'x-glance-api-copy-from': 'http://127.0.0.1:1/unreachable'},
    {'x-image-meta-is_public': 'banana'},
    {'x-glance-registry-purge-props': '\x7f'},
]


def with_formats_for_sources(headers):
    """``headers`` plus formats when they name an external source, so the
    source itself is what gets judged."""
    headers = dict(headers)
    if 'x-image-meta-location' in headers or (
            'x-glance-api-copy-from' in headers):
        headers.update({'x-image-meta-disk_format': 'raw',
                        'x-image-meta-container_format': 'bare'})
    return headers


def minimal_headers(name='Image1', public=True):
    """The "minimal headers" of spec §19."""
    headers = {'Content-Type': 'application/octet-stream',
               'X-Image-Meta-Name': name,
               'X-Image-Meta-disk_format': 'raw',
               'X-Image-Meta-container_format': 'ovf'}
    if public:
        headers['X-Image-Meta-Is-Public'] = 'True'
    return headers


def images_url(api):
    return api.url + '/v1/images'


def image_url(api, image_id):
    return '%s/v1/images/%s' % (api.url, image_id)


# One keep-alive session, as python-glanceclient uses: requests after an
# early answer (a refused upload whose body was not read) must still work.
session = requests.Session()


def post(api, headers=None, data=None):
    return session.post(images_url(api), headers=headers or {}, data=data,
                        timeout=30)


def reserve(api, headers=None):
    """Create a queued image (no data); returns its JSON."""
    response = post(api, headers or {'X-Image-Meta-Name': 'reserved'})
    assert response.status_code == 201, response.text
    return response.json()['image']


def upload(api, data=FIVE_KB, headers=None):
    """Create an active image holding ``data``; returns its JSON."""
    response = post(api, headers or minimal_headers(), data)
    assert response.status_code == 201, response.text
    return response.json()['image']


def put(api, image_id, headers=None, data=None):
    return session.put(image_url(api, image_id), headers=headers or {},
                       data=data, timeout=30)


def head(api, image_id):
    return session.head(image_url(api, image_id), timeout=30)


def get(api, image_id):
    return session.get(image_url(api, image_id), timeout=30)


def delete(api, image_id):
    return session.delete(image_url(api, image_id), timeout=30)


def status_of(api, image_id):
    response = head(api, image_id)
    assert response.status_code == 200, response.status_code
    return response.headers['x-image-meta-status']


def wait_for_status(api, image_id, wanted, timeout=15):
    """Poll HEAD (as clients do) until the image exists and reaches a
    status in ``wanted``; returns that status, or the last one seen (None:
    never existed) on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        response = head(api, image_id)
        status = response.headers.get('x-image-meta-status')
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def message(response):
    """The error text of an answer as a reader sees it (the HTML page
    requests' ``Accept: */*`` gets escapes quotes)."""
    return html.unescape(response.text)


def header_text(response, name):
    """A response header as the UTF-8 text the server sent (requests
    hands header bytes over latin-1-decoded)."""
    value = response.headers[name]
    return value.encode('latin-1').decode('utf-8')


def files_of(api, image_id):
    """The file store's files that belong to this image."""
    return [name for name in api.stored_files() if image_id in name]


def assert_no_storage_location(response, api=None):
    """No store URI, or any key/header naming one, anywhere in the answer
    (spec §5.3, §5.4, §7.8); nor, given the server, its store directory."""
    leaks = ['file://'] + ([api.datadir] if api is not None else [])
    for name, value in response.headers.items():
        for leak in leaks:
            assert leak not in value, (name, value)
        assert name.lower() not in ('x-image-meta-' + key
                                    for key in STORAGE_KEYS), name
    text = response.content.decode('utf-8', 'replace')
    for leak in leaks:
        assert leak not in text, text
    if response.headers.get('Content-Type', '').startswith(
            'application/json'):
        body = json.loads(text)
        for image in ([body['image']] if 'image' in body
                      else body.get('images', [])):
            for key in STORAGE_KEYS:
                assert key not in image, key


def new_id():
    return str(uuid.uuid4())


class HttpSource:
    """A tiny HTTP server on ``host`` (127.0.0.1 unless told: any loopback
    address) serving ``objects`` (path -> bytes) with GET and HEAD;
    anything else is a 404. Paths in ``redirects`` (path -> URL) answer
    302, those in ``get_only_redirects`` only to GET, those in
    ``bare_redirects`` (path -> 3xx status) that status without
    Location; a GET of a path in ``cut`` (path -> byte count) sends that
    many bytes of the data and closes the connection. Every request is
    recorded in ``requests`` as (method, path). With ``tls`` (an
    ssl.SSLContext for servers) it speaks HTTPS."""

    def __init__(self, host='127.0.0.1', tls=None):
        self.objects = {}
        self.redirects = {}
        self.bare_redirects = {}
        self.get_only_redirects = {}
        self.cut = {}
        self.requests = []
        source = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, with_body):
                path = urllib.parse.urlsplit(self.path).path
                source.requests.append((self.command, path))
                if path in source.bare_redirects:
                    self.send_response(source.bare_redirects[path])
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                target = source.redirects.get(path) or (
                    with_body and source.get_only_redirects.get(path))
                if target:
                    self.send_response(302)
                    self.send_header('Location', target)
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                data = source.objects.get(path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header('Content-Type', 'application/octet-stream')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                if with_body and path in source.cut:
                    # The source fails mid-answer: part of the data, then
                    # the connection closes.
                    self.wfile.write(data[:source.cut[path]])
                    self.close_connection = True
                elif with_body:
                    self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._answer(True)

            def do_HEAD(self):  # noqa: N802
                self._answer(False)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket,
                                                  server_side=True)
        self.port = self._server.server_address[1]
        self.base = '%s://%s:%d' % ('https' if tls else 'http', host,
                                    self.port)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()

    def add(self, path, data):
        """Serve ``data`` at ``path``; returns its URL."""
        self.objects[path] = data
        return self.base + path

    def redirect(self, path, target, get_only=False):
        """Answer requests for ``path`` with a 302 to ``target`` (only GET
        ones with ``get_only``); returns the URL of ``path``."""
        (self.get_only_redirects if get_only else self.redirects)[path] = (
            target)
        return self.base + path

    def redirect_nowhere(self, path, status=302):
        """Answer requests for ``path`` with ``status`` (a 3xx) and no
        Location header; returns the URL of ``path``."""
        self.bare_redirects[path] = status
        return self.base + path

    def url(self, path):
        return self.base + path

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def send_raw(api, request_head, body_parts, read_answer=True):
    """Send a hand-made HTTP request over a raw socket.

    :param request_head: request line and headers, without the blank line.
    :param body_parts: byte strings sent one after another.
    :param read_answer: read the answer (False: hang up right after the
        last part, like a client that dies mid-upload).
    :returns: the raw answer bytes ('' when not read).
    """
    host, port = urllib.parse.urlsplit(api.url).netloc.split(':')
    sock = socket.create_connection((host, int(port)), timeout=30)
    try:
        sock.sendall(request_head.encode('latin-1') + b'\r\n\r\n')
        for part in body_parts:
            sock.sendall(part)
        if not read_answer:
            return b''
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b''.join(chunks)
    finally:
        sock.close()


def raw_status(answer):
    """The status code of a raw HTTP answer."""
    return int(answer.split(b' ', 2)[1])


def raw_headers(answer):
    """The headers of a raw HTTP answer as {lower-case name: value}, both
    decoded from UTF-8. (Python's http.client stops reading headers at the
    first name that is not ASCII, so non-ASCII property headers can only
    be checked on the raw bytes.)"""
    head = answer.split(b'\r\n\r\n', 1)[0]
    headers = {}
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        headers[name.decode('utf-8').lower()] = value.strip().decode('utf-8')
    return headers


def utf8_head_line(text):
    """A request line or header as ``send_raw`` takes it (latin-1 text)
    carrying ``text`` as raw UTF-8 bytes."""
    return text.encode('utf-8').decode('latin-1')


# The servers of the four image test modules, by role. "default" is on
# embedded defaults; "limits" has a 512-byte cap, a property quota of 2
# and only the formats foo and ami; "untouched" is kept empty for the
# empty-catalogue scenario; "delayed" has delayed_delete; "to_restart" is
# stopped and restarted with another configuration by the read tests.
LIMITS_CONFIG = {
    'DEFAULT': {'image_size_cap': 512, 'image_property_quota': 2},
    'image_format': {'disk_formats': 'foo, ami',
                     'container_formats': 'foo, ami'},
}
SERVER_CONFIGS = {
    'default': None,
    'limits': LIMITS_CONFIG,
    'untouched': None,
    'delayed': {'DEFAULT': {'delayed_delete': 'true'}},
    'to_restart': None,
}
_shared = {}
_shared_lock = threading.Lock()


def shared_servers(request):
    """{role: server} for SERVER_CONFIGS, started together the first time
    a module asks (start-up is mostly imports: five cost little more than
    two) and stopped when the test session ends."""
    with _shared_lock:
        if not _shared:
            started = _parallel.start(*SERVER_CONFIGS.values())
            _shared.update(zip(SERVER_CONFIGS, started))
            request.session.addfinalizer(_stop_shared)
    return _shared


def _stop_shared():
    with _shared_lock:
        _parallel.stop(*_shared.values())
        _shared.clear()
