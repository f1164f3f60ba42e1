"""Image data in Swift and in S3 (Swift's s3api) through glance_store:
uploads chunked and with a Content-Length, downloads checked by MD5,
segments and parts that exist while the image does and are gone after
DELETE, a 1 GiB image through each store, a store that fails in the
middle of an upload, and store credentials that never leave the server.

Segments and parts are 5 "MB" (tests/stores/conftest.py): for
glance_store's swift driver that is 5 * 1000 KiB, so a 1 GiB image is 210
segments; for its s3 driver 5 MiB, 205 parts."""

import hashlib
import math
import uuid

import pytest
import requests
import sqlalchemy as sa

from tests import server as test_server
from tests.stores import conftest as stores
from tests import swift_server

MIB = 1024 * 1024
GIB = 1024 * MIB
SMALL = 12 * MIB + 5
BLOCK = 1024 * 1024
STORES = ['swift', 's3']
# The API's peak memory after 1 GiB went through each store: the data is
# streamed, never held whole (the server itself takes ~100 MiB).
PEAK_RSS_LIMIT = 400 * MIB
SWIFT_SEGMENT = stores.SEGMENT_MB * 1000 * 1024
S3_PART = stores.SEGMENT_MB * MIB


class Payload:
    """size bytes made on the fly, 1 MiB at a time, hashed while sent:
    ``chunks()`` for a chunked upload; ``read``/``len`` for one with a
    Content-Length. Blocks differ, so a reordered segment changes the
    MD5."""

    def __init__(self, size):
        self.size = size
        self._md5 = hashlib.md5()
        self._sent = 0
        self._seed = hashlib.sha256(str(size).encode()).digest() * (
            BLOCK // 32)

    @property
    def md5(self):
        assert self._sent == self.size, 'payload not fully sent'
        return self._md5.hexdigest()

    def _next(self, limit):
        n = min(limit, BLOCK, self.size - self._sent)
        if n <= 0:
            return b''
        block = (self._sent // BLOCK).to_bytes(8, 'big')
        data = (block + self._seed)[:n]
        self._md5.update(data)
        self._sent += n
        return data

    def chunks(self):
        while True:
            data = self._next(BLOCK)
            if not data:
                return
            yield data

    def read(self, size=-1):
        return self._next(BLOCK if size is None or size < 0 else size)

    def __len__(self):
        return self.size


def new_id():
    return str(uuid.uuid4())


def create(api, store, payload, chunked=True, **headers):
    headers = dict({
        'Content-Type': 'application/octet-stream',
        'x-image-meta-name': 'stored in %s' % store,
        'x-image-meta-disk-format': 'raw',
        'x-image-meta-container-format': 'bare',
        'x-image-meta-store': store}, **headers)
    return requests.post(api.url + '/v1/images', headers=headers,
                         data=payload.chunks() if chunked else payload,
                         timeout=600)


def download_md5(api, image_id):
    md5 = hashlib.md5()
    size = 0
    with requests.get(api.url + '/v1/images/' + image_id, stream=True,
                      timeout=600) as response:
        assert response.status_code == 200, response.text
        for chunk in response.iter_content(BLOCK):
            md5.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), size


# The S3 secret and the store URI schemes (a swift+http URI holds the
# Keystone password of the store's user, also looked for). swiftclient
# logs a failed request's URL with the first 16 characters of its token:
# no credential.
SECRETS = [swift_server.S3_SECRET_KEY, 'swift+', 's3+', 's3://']


def assert_no_store_details(api, *responses):
    """Neither the store URIs nor their credentials in any answer or in
    the server's log."""
    secrets = SECRETS + [api.keystone_password]
    for response in responses:
        text = response.text + ' '.join(
            '%s: %s' % item for item in response.headers.items())
        for secret in secrets:
            assert secret not in text, (secret, response.request.method)
    log = api.log()
    for secret in secrets:
        assert secret not in log, secret


@pytest.mark.parametrize('chunked', [True, False],
                         ids=['chunked', 'content-length'])
@pytest.mark.parametrize('store', STORES)
def test_round_trip_and_delete(api, listing, store, chunked):
    payload = Payload(SMALL)

    created = create(api, store, payload, chunked=chunked)

    assert created.status_code == 201, created.text
    image = created.json()['image']
    assert image['status'] == 'active'
    assert image['size'] == SMALL
    assert image['checksum'] == payload.md5
    assert download_md5(api, image['id']) == (payload.md5, SMALL)
    head = requests.head(api.url + '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-checksum'] == payload.md5
    names = listing(store, image['id'])
    if store == 'swift':
        # A manifest and three 5 MiB segments (the last one 2 MiB + 5).
        assert sorted(names) == [image['id']] + [
            '%s-%05d' % (image['id'], n) for n in (1, 2, 3)]
    else:
        # One object, its three parts in the +segments container.
        assert names.count(image['id']) == 1
        assert len([n for n in names if n.startswith('part:')]) == 3
        assert not [n for n in names if n.startswith('upload:')]
    detail = requests.get(api.url + '/v1/images/detail')

    deleted = requests.delete(api.url + '/v1/images/' + image['id'])

    assert deleted.status_code == 200, deleted.text
    assert listing(store, image['id']) == []
    gone = requests.get(api.url + '/v1/images/' + image['id'])
    assert gone.status_code == 404
    assert_no_store_details(api, created, head, detail, deleted, gone)


# An empty image (S3 cannot complete a multipart upload of no parts: it
# is a plain empty object), one byte, and exactly one segment or part.
@pytest.mark.parametrize('size', [0, 1, S3_PART], ids=['0', '1', 'part'])
@pytest.mark.parametrize('store', STORES)
def test_edge_sizes_round_trip(api, listing, store, size):
    payload = Payload(size)

    created = create(api, store, payload)

    assert created.status_code == 201, created.text
    image = created.json()['image']
    assert (image['status'], image['size'], image['checksum']) == (
        'active', size, payload.md5)
    assert download_md5(api, image['id']) == (payload.md5, size)
    assert image['id'] in listing(store, image['id'])
    deleted = requests.delete(api.url + '/v1/images/' + image['id'])
    assert deleted.status_code == 200, deleted.text
    assert listing(store, image['id']) == []


@pytest.mark.parametrize('store', STORES)
def test_one_gib_image_round_trips(api, listing, store):
    payload = Payload(GIB)

    created = create(api, store, payload)

    assert created.status_code == 201, created.text
    image = created.json()['image']
    assert (image['size'], image['checksum']) == (GIB, payload.md5)
    names = listing(store, image['id'])
    # Segmented as glance_store does it: Swift's dynamic large object
    # (segments and a manifest), or an S3 multipart upload.
    if store == 'swift':
        assert len(names) == math.ceil(GIB / SWIFT_SEGMENT) + 1
    else:
        assert len([n for n in names if n.startswith('part:')]) == (
            math.ceil(GIB / S3_PART))
    assert download_md5(api, image['id']) == (payload.md5, GIB)
    print('%s: API peak RSS %d MiB' % (store, api.peak_rss() // MIB))
    assert api.peak_rss() < PEAK_RSS_LIMIT

    deleted = requests.delete(api.url + '/v1/images/' + image['id'])

    assert deleted.status_code == 200, deleted.text
    assert listing(store, image['id']) == []
    assert_no_store_details(api, created, deleted)


@pytest.mark.parametrize('store', ['file', 'swift', 's3'])
def test_store_header_picks_the_store(api, listing, store):
    payload = Payload(1000)

    created = create(api, store, payload)

    assert created.status_code == 201, created.text
    image_id = created.json()['image']['id']
    in_file_store = image_id in api.stored_files()
    assert in_file_store == (store == 'file')
    for other in STORES:
        assert bool(listing(other, image_id)) == (other == store)
    assert download_md5(api, image_id) == (payload.md5, 1000)


def test_read_only_store_refuses_uploads(api):
    # http serves external locations and copy-from sources only (§14.2).
    created = create(api, 'http', Payload(1000))

    assert created.status_code == 410
    assert 'Adding images to store is disabled' in created.text


def test_swift_account_in_a_config_file(swift, listing, tmp_path):
    # The recommended form (docs/stores.md): the catalogue then keeps
    # swift+config:// locations, without the credentials.
    glance = swift.keystone.glance
    accounts = tmp_path / 'glance-swift.conf'
    accounts.write_text(
        '[ref1]\nauth_address = %s\nuser = %s:%s\nkey = %s\n'
        'user_domain_name = Default\nproject_domain_name = Default\n'
        % (swift.keystone.url, glance.project_name, glance.username,
           glance.password))
    config = stores.store_config(swift, swift.keystone, 'swift')
    for option in ('swift_store_auth_address', 'swift_store_user',
                   'swift_store_key'):
        del config[option]
    config.update(swift_store_config_file=str(accounts),
                  default_swift_reference='ref1')
    srv = test_server.Server({'glance_store': config}).start()
    srv.keystone_password = glance.password
    try:
        payload = Payload(SMALL)
        # No x-image-meta-store: the default store, swift.
        created = create(srv, None, payload)
        assert created.status_code == 201, created.text
        image_id = created.json()['image']['id']
        assert len(listing('swift', image_id)) == 4
        assert download_md5(srv, image_id) == (payload.md5, SMALL)
        engine = sa.create_engine(srv.database_url,
                                  poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            (location,) = connection.execute(sa.text(
                'SELECT url FROM image_locations WHERE image_id = :id'),
                {'id': image_id}).scalars().all()
        engine.dispose()
        assert location.startswith('swift+config://ref1/')
        assert glance.password not in location

        deleted = requests.delete(srv.url + '/v1/images/' + image_id)

        assert deleted.status_code == 200
        assert listing('swift', image_id) == []
        assert_no_store_details(srv, created, deleted)
    finally:
        srv.stop()
