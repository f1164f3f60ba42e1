"""Image ids cannot steer the file store outside its directory: every
route that takes an id is tried with traversal, encoded traversal,
absurdly long, NUL and non-UTF-8 ids; answers are 4xx, never 500, and no
file outside the store directory is read, written or created."""

import hashlib
import os

import pytest
import requests

from tests.security import support
from tests import server as test_server

SENTINEL_DATA = b'outside the store: must never change\n'

# As they appear in the request line (already percent-encoded where
# needed); each may resolve to "../../sentinel" at some decoding step.
HOSTILE_IDS = [
    '..%2F..%2Fsentinel',
    '%2e%2e%2f%2e%2e%2fsentinel',
    '%252e%252e%252f%252e%252e%252fsentinel',
    '..%5C..%5Csentinel',
    '..',
    '.',
    '%2e%2e',
    'sentinel%00',
    '%00',
    '%ff%fe',
    'x' * 8000,
    '..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
]

ROUTES = [
    ('GET', '/v1/images/{id}'),
    ('HEAD', '/v1/images/{id}'),
    ('PUT', '/v1/images/{id}'),
    ('DELETE', '/v1/images/{id}'),
    ('GET', '/v1/images/{id}/members'),
    ('PUT', '/v1/images/{id}/members'),
    ('PUT', '/v1/images/{id}/members/{id}'),
    ('DELETE', '/v1/images/{id}/members/{id}'),
    ('GET', '/v1/shared-images/{id}'),
]


@pytest.fixture(scope='module')
def store_api():
    srv = test_server.Server().start()
    sentinel = os.path.join(srv.workdir, 'sentinel')
    with open(sentinel, 'wb') as f:
        f.write(SENTINEL_DATA)
    yield srv
    srv.stop()


def _tree(top, skip):
    """{path: (size, mtime)} of every file under ``top`` except under the
    paths in ``skip`` (the store, the catalogue, the logs)."""
    found = {}
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
        for name in files:
            path = os.path.join(root, name)
            if path in skip or name.startswith('glance-lite.sqlite'):
                continue
            stat = os.stat(path)
            found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def _snapshot(api):
    skip = {api.datadir, api.log_file, os.path.join(api.workdir, 'stdout')}
    sentinel = os.path.join(api.workdir, 'sentinel')
    with open(sentinel, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return _tree(api.workdir, skip), digest


def _body_for(method, path):
    if method != 'PUT':
        return {}, b''
    if path.endswith('/members'):
        return ({'Content-Type': 'application/json'},
                b'{"memberships": [{"member_id": "x"}]}')
    if '/members/' in path:
        return {'Content-Type': 'application/json'}, b''
    return {'Content-Type': 'application/octet-stream'}, b'evil bytes'


@pytest.mark.parametrize('method,route', ROUTES)
def test_hostile_ids_touch_nothing_outside_the_store(store_api, method,
                                                     route):
    before = _snapshot(store_api)
    stored = store_api.stored_files()
    for image_id in HOSTILE_IDS:
        path = route.replace('{id}', image_id)
        headers, body = _body_for(method, path)
        head = '%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n' % (
            method, path)
        head += ''.join('%s: %s\r\n' % item for item in headers.items())
        head += 'Content-Length: %d' % len(body)

        answer = support.send_raw(store_api, head, [body])

        status = support.raw_status(answer)
        if route.startswith('/v1/shared-images/') and status == 200:
            # Member ids are free-form: nobody is a member under this one.
            assert answer.endswith(b'{"shared_images": []}')
        else:
            assert 400 <= status < 500, (method, path[:80], answer[:300])
        assert SENTINEL_DATA not in answer
    assert _snapshot(store_api) == before
    assert store_api.stored_files() == stored


@pytest.mark.parametrize('image_id', [
    '../../sentinel', '..%2F..%2Fsentinel', '/etc/passwd', '.', '..',
    'sentinel\x00', '12345678-1234-5678-1234-56781234567/',
    '../12345678-1234-5678-1234-567812345678',
    'x' * 4000,
])
def test_create_with_a_hostile_id_is_refused(store_api, image_id):
    before = _snapshot(store_api)
    stored = store_api.stored_files()

    head = ('POST /v1/images HTTP/1.1\r\nHost: test\r\nConnection: close\r\n'
            'x-image-meta-id: %s\r\nx-image-meta-disk_format: raw\r\n'
            'x-image-meta-container_format: bare\r\n'
            'Content-Type: application/octet-stream\r\n'
            'Content-Length: 10' % image_id)
    answer = support.send_raw(store_api, head, [b'evil bytes'])

    assert support.raw_status(answer) == 400, answer[:300]
    assert _snapshot(store_api) == before
    assert store_api.stored_files() == stored


def test_a_real_upload_lands_inside_the_store_only(store_api):
    """The control: an upload with a valid id writes one file, in the
    store directory, named after the id."""
    before = _snapshot(store_api)
    image_id = support.new_id()

    response = requests.post(
        store_api.url + '/v1/images', data=b'good bytes', timeout=30,
        headers=support.image_headers(**{
            'x-image-meta-id': image_id,
            'Content-Type': 'application/octet-stream'}))

    assert response.status_code == 201, response.text
    assert image_id in store_api.stored_files()
    assert _snapshot(store_api) == before
