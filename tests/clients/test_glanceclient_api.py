"""python-glanceclient's v1 bindings against a real glance-lite-api.

Every test goes through ``glanceclient.Client('1', ...)`` exactly as a user
script would, and asserts what that user would check: status, size, MD5,
names and properties as typed, list contents and order.
"""

import hashlib
import io
import os
import uuid

from glanceclient import Client
from glanceclient import exc
import pytest

# Bigger than glanceclient's 64 KiB chunk, not a multiple of it.
DATA = os.urandom(3 * 65536 + 1234)
DATA_MD5 = hashlib.md5(DATA).hexdigest()


@pytest.fixture(scope='module')
def client(api):
    # The noauth flavor ignores the token, but the v1 client needs an
    # endpoint and sends whatever token it is given. The timeout turns a
    # response whose framing the client cannot read into a failure, not a
    # hang.
    return Client('1', endpoint=api.url, token='x', timeout=20)


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / 'disk.raw'
    path.write_bytes(DATA)
    return path


@pytest.fixture
def tag():
    """A property value unique to one test, to isolate its images in the
    module's shared server."""
    return uuid.uuid4().hex


def download(client, image_id):
    return b''.join(client.images.data(image_id))


def create_with_data(client, path, **kwargs):
    kwargs.setdefault('disk_format', 'raw')
    kwargs.setdefault('container_format', 'bare')
    with open(path, 'rb') as f:
        return client.images.create(data=f, **kwargs)


def reserve(client, **kwargs):
    kwargs.setdefault('disk_format', 'raw')
    kwargs.setdefault('container_format', 'bare')
    return client.images.create(**kwargs)


def test_versioned_endpoint(api, image_file):
    client = Client(endpoint=api.url + '/v1', token='x', timeout=20)
    image = create_with_data(client, image_file, name='versioned-endpoint')
    assert client.images.get(image.id).checksum == DATA_MD5


# -- create -----------------------------------------------------------------

def test_create_with_data(client, image_file):
    image = create_with_data(client, image_file, name='cirros-with-data')

    assert image.status == 'active'
    assert image.size == len(DATA)
    assert image.checksum == DATA_MD5
    assert image.name == 'cirros-with-data'
    assert image.disk_format == 'raw'
    assert image.container_format == 'bare'
    assert image.is_public is False
    assert image.protected is False
    assert image.deleted is False
    assert image.properties == {}

    shown = client.images.get(image.id)
    assert shown.status == 'active'
    assert shown.size == len(DATA)
    assert shown.checksum == DATA_MD5
    assert shown.name == 'cirros-with-data'


def test_create_with_data_and_properties_and_limits(client, image_file):
    image = create_with_data(client, image_file, name='with-props',
                             disk_format='qcow2', container_format='ovf',
                             min_disk=2, min_ram=512,
                             properties={'os_distro': 'cirros',
                                         'hw_disk_bus': 'virtio'})
    assert image.status == 'active'
    assert (image.disk_format, image.container_format) == ('qcow2', 'ovf')
    assert (image.min_disk, image.min_ram) == (2, 512)
    assert image.properties == {'os_distro': 'cirros', 'hw_disk_bus': 'virtio'}


def test_create_public(client, image_file):
    image = create_with_data(client, image_file, name='public-one',
                             is_public=True)
    assert image.is_public is True
    assert client.images.get(image.id).is_public is True
    # A public image is in the plain list (no is_public filter needed).
    assert image.id in [i.id for i in client.images.list(
        filters={'name': 'public-one'})]


def test_create_with_explicit_id(client, image_file):
    image_id = str(uuid.uuid4())
    image = create_with_data(client, image_file, id=image_id, name='by-id')
    assert image.id == image_id
    assert client.images.get(image_id).status == 'active'
    with pytest.raises(exc.HTTPConflict):
        reserve(client, id=image_id, name='same-id-again')


# -- reserve, then upload -------------------------------------------------

def test_reserve_then_upload(client, image_file):
    image = reserve(client, name='reserved')
    assert image.status == 'queued'
    assert image.size == 0
    assert image.checksum is None

    shown = client.images.get(image.id)
    assert shown.status == 'queued'
    assert not getattr(shown, 'checksum', None)
    with pytest.raises(exc.HTTPNotFound):
        download(client, image.id)

    with open(image_file, 'rb') as f:
        updated = client.images.update(image.id, data=f)
    assert updated.status == 'active'
    assert updated.size == len(DATA)
    assert updated.checksum == DATA_MD5
    assert updated.name == 'reserved'

    shown = client.images.get(image.id)
    assert (shown.status, shown.size, shown.checksum) == (
        'active', len(DATA), DATA_MD5)
    assert hashlib.md5(download(client, image.id)).hexdigest() == DATA_MD5


def test_upload_to_active_image_is_refused(client, image_file):
    image = create_with_data(client, image_file, name='already-active')
    with pytest.raises(exc.HTTPConflict):
        client.images.update(image.id, data=io.BytesIO(b'other data'))
    shown = client.images.get(image.id)
    assert (shown.status, shown.size, shown.checksum) == (
        'active', len(DATA), DATA_MD5)


def test_upload_without_formats_is_refused(client, image_file):
    image = client.images.create(name='no-formats')
    assert image.status == 'queued'
    for attempt in range(3):
        with pytest.raises(exc.HTTPBadRequest):
            with open(image_file, 'rb') as f:
                client.images.update(image.id, data=f)
        # Nothing changed, and the next call on the same kept-alive
        # connection is not disturbed by the refused upload's body.
        shown = client.images.get(image.id)
        assert (shown.status, shown.size) == ('queued', 0)
    # Formats given with the upload are enough.
    with open(image_file, 'rb') as f:
        updated = client.images.update(image.id, data=f, disk_format='raw',
                                       container_format='bare')
    assert updated.status == 'active'
    assert updated.checksum == DATA_MD5


# -- update metadata ----------------------------------------------------------

def test_update_name_keeps_properties_and_status(client, image_file):
    image = create_with_data(client, image_file, name='before',
                             properties={'a': '1', 'b': '2'})
    updated = client.images.update(image.id, name='after')
    assert updated.name == 'after'
    assert updated.properties == {'a': '1', 'b': '2'}
    assert updated.status == 'active'
    assert updated.checksum == DATA_MD5

    shown = client.images.get(image.id)
    assert shown.name == 'after'
    assert shown.properties == {'a': '1', 'b': '2'}


def test_update_properties_merge_by_default(client):
    image = reserve(client, name='merge', properties={'a': '1', 'b': '2'})

    updated = client.images.update(image.id, properties={'c': '3'})
    assert updated.properties == {'a': '1', 'b': '2', 'c': '3'}

    updated = client.images.update(image.id, properties={'a': '9'})
    assert updated.properties == {'a': '9', 'b': '2', 'c': '3'}
    assert updated.status == 'queued'

    assert client.images.get(image.id).properties == {
        'a': '9', 'b': '2', 'c': '3'}


def test_update_purge_props_replaces_properties(client):
    image = reserve(client, name='purge', properties={'a': '1', 'b': '2'})
    updated = client.images.update(image.id, properties={'c': '3'},
                                   purge_props=True)
    assert updated.properties == {'c': '3'}
    assert client.images.get(image.id).properties == {'c': '3'}

    # purge_props=True with no properties at all removes every property;
    # core attributes are never purged.
    updated = client.images.update(image.id, name='purged',
                                   purge_props=True)
    assert updated.properties == {}
    assert updated.name == 'purged'
    assert (updated.disk_format, updated.container_format) == ('raw', 'bare')
    assert client.images.get(image.id).properties == {}


def test_update_core_attributes(client):
    image = reserve(client, name='core')
    updated = client.images.update(image.id, min_disk=5, min_ram=1024,
                                   disk_format='qcow2', is_public=True,
                                   protected=True)
    assert (updated.min_disk, updated.min_ram) == (5, 1024)
    assert updated.disk_format == 'qcow2'
    assert updated.is_public is True
    assert updated.protected is True
    shown = client.images.get(image.id)
    assert (shown.min_disk, shown.min_ram) == (5, 1024)
    assert shown.disk_format == 'qcow2'
    assert shown.is_public is True
    assert shown.protected is True

    # A protected image cannot be deleted until it is unprotected.
    with pytest.raises(exc.HTTPForbidden):
        client.images.delete(image.id)
    assert client.images.get(image.id).status == 'queued'
    client.images.update(image.id, protected=False)
    client.images.delete(image.id)
    assert client.images.get(image.id).status == 'deleted'


def test_update_with_data_and_metadata_at_once(client, image_file):
    image = reserve(client, name='reserved-2', properties={'keep': 'me'})
    with open(image_file, 'rb') as f:
        updated = client.images.update(image.id, data=f, name='uploaded',
                                       min_ram=256,
                                       properties={'new': 'prop'})
    assert updated.status == 'active'
    assert updated.size == len(DATA)
    assert updated.checksum == DATA_MD5
    assert updated.name == 'uploaded'
    assert updated.min_ram == 256
    assert updated.properties == {'keep': 'me', 'new': 'prop'}

    shown = client.images.get(image.id)
    assert (shown.name, shown.min_ram, shown.status) == (
        'uploaded', 256, 'active')
    assert shown.properties == {'keep': 'me', 'new': 'prop'}
    assert hashlib.md5(download(client, image.id)).hexdigest() == DATA_MD5


def test_update_with_data_never_purges(client, image_file):
    # Spec §7.6: with a body, purge is forced off even if asked for.
    image = reserve(client, name='reserved-3', properties={'keep': 'me'})
    with open(image_file, 'rb') as f:
        updated = client.images.update(image.id, data=f,
                                       properties={'new': 'prop'},
                                       purge_props=True)
    assert updated.status == 'active'
    assert updated.properties == {'keep': 'me', 'new': 'prop'}


def test_update_missing_image(client):
    with pytest.raises(exc.HTTPNotFound):
        client.images.update(str(uuid.uuid4()), name='nobody')


# -- get and download -------------------------------------------------------

def test_get_shows_every_attribute(client, image_file):
    image = create_with_data(client, image_file, name='shown',
                             min_disk=1, min_ram=128, is_public=True,
                             properties={'os_distro': 'ubuntu',
                                         'os_version': '22.04'})
    shown = client.images.get(image.id)
    assert shown.id == image.id
    assert shown.name == 'shown'
    assert shown.status == 'active'
    assert shown.size == len(DATA)
    assert shown.checksum == DATA_MD5
    assert (shown.disk_format, shown.container_format) == ('raw', 'bare')
    assert (shown.min_disk, shown.min_ram) == (1, 128)
    assert shown.is_public is True
    assert shown.protected is False
    assert shown.deleted is False
    assert shown.properties == {'os_distro': 'ubuntu', 'os_version': '22.04'}
    assert shown.created_at == image.created_at
    assert shown.updated_at == image.updated_at
    # The storage location never leaks through v1.
    assert not hasattr(shown, 'location')


def test_get_missing_image(client):
    with pytest.raises(exc.HTTPNotFound):
        client.images.get(str(uuid.uuid4()))


def test_download(client, image_file):
    image = create_with_data(client, image_file, name='download-me')
    body = client.images.data(image.id)
    assert len(body) == len(DATA)
    received = b''.join(chunk for chunk in body)
    assert received == DATA
    assert hashlib.md5(received).hexdigest() == DATA_MD5


def test_download_empty_image(client):
    image = client.images.create(name='empty', disk_format='raw',
                                 container_format='bare',
                                 data=io.BytesIO(b''))
    assert image.status == 'active'
    assert image.size == 0
    assert image.checksum == hashlib.md5(b'').hexdigest()
    assert download(client, image.id) == b''


def test_download_checksum_is_verified_by_client(api, client, image_file):
    before = set(api.stored_files())
    image = create_with_data(client, image_file, name='corrupt-me')
    stored = set(api.stored_files()) - before
    assert len(stored) == 1
    # Same length, different bytes: only the MD5 can tell.
    with open(os.path.join(api.datadir, stored.pop()), 'r+b') as f:
        f.write(bytes(b ^ 0xFF for b in DATA[:16]))
    with pytest.raises(IOError, match='Corrupt image download'):
        download(client, image.id)
    # The unchecked download returns the stored bytes as they are.
    body = b''.join(client.images.data(image.id, do_checksum=False))
    assert len(body) == len(DATA)
    assert hashlib.md5(body).hexdigest() != DATA_MD5


# -- list -------------------------------------------------------------------

def test_list_filters(client, image_file, tag):
    a = create_with_data(client, image_file, name='list-a-' + tag,
                         is_public=True,
                         properties={'tag': tag, 'os_distro': 'ubuntu'})
    b = reserve(client, name='list-b-' + tag, is_public=True,
                disk_format='qcow2',
                properties={'tag': tag, 'os_distro': 'fedora'})
    c = reserve(client, name='list-a-' + tag, is_public=True,
                properties={'tag': tag, 'os_distro': 'fedora'})

    def ids(**filters):
        return sorted(i.id for i in client.images.list(filters=filters))

    assert ids(properties={'tag': tag}) == sorted([a.id, b.id, c.id])
    assert ids(name='list-a-' + tag) == sorted([a.id, c.id])
    assert ids(name='list-b-' + tag) == [b.id]
    assert ids(properties={'tag': tag, 'os_distro': 'fedora'}) == sorted(
        [b.id, c.id])
    assert ids(name='list-a-' + tag,
               properties={'tag': tag, 'os_distro': 'fedora'}) == [c.id]
    assert ids(properties={'tag': tag}, disk_format='qcow2') == [b.id]
    assert ids(properties={'tag': tag}, status='active') == [a.id]
    assert ids(properties={'tag': tag}, size_min=1) == [a.id]
    assert ids(properties={'tag': tag, 'os_distro': 'debian'}) == []
    assert ids(name='no-such-image-' + tag) == []

    # The list carries the detailed form: properties and all.
    [listed] = client.images.list(filters={'name': 'list-b-' + tag})
    assert listed.properties == {'tag': tag, 'os_distro': 'fedora'}
    assert listed.disk_format == 'qcow2'
    assert listed.status == 'queued'
    assert listed.is_public is True


def test_list_private_images_need_all_tenants(client, tag):
    # No-auth mode: the caller is an admin without an owner, so the plain
    # list shows public images only; is_public=None lists every image
    # (spec §10.3; what `glance image-list --all-tenants` sends).
    private = reserve(client, name='private-' + tag,
                      properties={'tag': tag})
    public = reserve(client, name='public-' + tag, is_public=True,
                     properties={'tag': tag})
    filters = {'properties': {'tag': tag}}
    assert [i.id for i in client.images.list(filters=dict(filters))] == [
        public.id]
    assert sorted(i.id for i in client.images.list(
        filters=dict(filters), is_public=None)) == sorted(
            [private.id, public.id])


def _recording(client):
    urls = []
    client.http_client.session.hooks['response'].append(
        lambda resp, *args, **kwargs: urls.append(resp.url))
    return urls


def test_list_paging(client, tag):
    created = [reserve(client, name='page-%d' % n, is_public=True,
                       properties={'tag': tag}).id for n in range(5)]
    urls = _recording(client)
    try:
        listed = [i.id for i in client.images.list(
            page_size=2, filters={'properties': {'tag': tag}})]
    finally:
        client.http_client.session.hooks['response'].clear()

    # Default order: newest first.
    assert listed == list(reversed(created))
    # Pages of 2, 2, 1: three requests, the later ones with a marker.
    assert len(urls) == 3
    assert all('limit=2' in url for url in urls)
    assert 'marker=' not in urls[0]
    assert 'marker=%s' % listed[1] in urls[1]
    assert 'marker=%s' % listed[3] in urls[2]


def test_list_limit(client, tag):
    for n in range(4):
        reserve(client, name='limit-%d' % n, is_public=True,
                properties={'tag': tag})
    listed = list(client.images.list(page_size=2, limit=3,
                                     filters={'properties': {'tag': tag}}))
    assert len(listed) == 3


def test_list_sort(client, tag):
    sizes = {'sort-b': 30, 'sort-c': 10, 'sort-a': 20}
    created = {}
    for name, size in sizes.items():
        created[name] = client.images.create(
            name=name, disk_format='raw', container_format='bare',
            is_public=True, data=io.BytesIO(b'x' * size),
            properties={'tag': tag}).id

    def names(**kwargs):
        return [i.name for i in client.images.list(
            filters={'properties': {'tag': tag}}, **kwargs)]

    assert names(sort_key='name', sort_dir='asc') == [
        'sort-a', 'sort-b', 'sort-c']
    assert names(sort_key='name', sort_dir='desc') == [
        'sort-c', 'sort-b', 'sort-a']
    assert names(sort_key='size', sort_dir='asc') == [
        'sort-c', 'sort-a', 'sort-b']
    assert names(sort_key='size', sort_dir='desc') == [
        'sort-b', 'sort-a', 'sort-c']
    assert names(sort_key='created_at', sort_dir='asc') == [
        'sort-b', 'sort-c', 'sort-a']
    assert names() == ['sort-a', 'sort-c', 'sort-b']
    # Sorting and paging together: a marker continues in the same order.
    assert names(sort_key='name', sort_dir='asc', page_size=1) == [
        'sort-a', 'sort-b', 'sort-c']
    assert names(sort_key='size', sort_dir='desc', page_size=2) == [
        'sort-b', 'sort-a', 'sort-c']


# -- delete -------------------------------------------------------------------

def test_delete(api, client, image_file, tag):
    before = set(api.stored_files())
    image = create_with_data(client, image_file, name='delete-me',
                             is_public=True, properties={'tag': tag})
    assert len(set(api.stored_files()) - before) == 1

    client.images.delete(image.id)

    # No-auth callers are admins: they still see the deleted record.
    shown = client.images.get(image.id)
    assert shown.status == 'deleted'
    assert shown.deleted is True
    assert shown.deleted_at
    with pytest.raises(exc.HTTPNotFound):
        download(client, image.id)
    assert list(client.images.list(
        filters={'properties': {'tag': tag}})) == []
    with pytest.raises(exc.HTTPNotFound):
        client.images.delete(image.id)
    with pytest.raises(exc.HTTPForbidden):
        client.images.update(image.id, name='resurrected')
    # The data is gone from the store.
    assert set(api.stored_files()) - before == set()


def test_delete_reserved_image(client):
    image = reserve(client, name='delete-queued')
    client.images.delete(image.id)
    assert client.images.get(image.id).status == 'deleted'


def test_delete_missing_image(client):
    with pytest.raises(exc.HTTPNotFound):
        client.images.delete(str(uuid.uuid4()))


# -- non-ASCII and special characters -----------------------------------------
# glanceclient percent-encodes every header (spec §5.2.8); the service must
# store what the user typed, not the encoded text.

NAME = 'Ubuntu 22.04 é'
PROPERTIES = {'prop_é': 'ça marche', 'os_label': 'Ünïcödé € 100%'}


def test_non_ascii_round_trip_through_json(client, image_file, tag):
    image = create_with_data(client, image_file, name=NAME, is_public=True,
                             properties=dict(PROPERTIES, tag=tag))
    assert image.name == NAME
    assert image.properties == dict(PROPERTIES, tag=tag)

    [listed] = client.images.list(filters={'name': NAME,
                                           'properties': {'tag': tag}})
    assert listed.id == image.id
    assert listed.name == NAME
    assert '%' not in listed.name
    assert listed.properties == dict(PROPERTIES, tag=tag)

    # Filtering on non-ASCII property values works too.
    assert [i.id for i in client.images.list(
        filters={'properties': {'tag': tag, 'prop_é': 'ça marche'}})] == [
            image.id]

    updated = client.images.update(image.id, name='Débian 12 ü',
                                   properties={'prop_é': 'ça change'})
    assert updated.name == 'Débian 12 ü'
    assert updated.properties == {'prop_é': 'ça change',
                                  'os_label': 'Ünïcödé € 100%', 'tag': tag}
    [listed] = client.images.list(filters={'properties': {'tag': tag}})
    assert listed.name == 'Débian 12 ü'
    assert listed.properties == updated.properties


@pytest.mark.parametrize('name', [
    'Ubuntu 22.04', '100% done', 'a%20b', 'plus+sign', 'slash/colon:ok',
    'tab\tinside', "quote's \"here\""])
def test_special_ascii_names_round_trip(client, name):
    image = reserve(client, name=name)
    assert image.name == name
    assert client.images.get(image.id).name == name
    updated = client.images.update(image.id, properties={'note': name})
    assert updated.properties == {'note': name}
    assert client.images.get(image.id).properties == {'note': name}


def test_download_with_non_ascii_property_name(client, image_file):
    # A property header with a non-ASCII name must not take the framing
    # headers with it (Python's http.client drops every header after it).
    image = create_with_data(client, image_file, name='prop-name-test',
                             properties={'prop_é': 'x', 'plain': 'y'})
    shown = client.images.get(image.id)
    assert (shown.status, shown.size, shown.checksum) == (
        'active', len(DATA), DATA_MD5)
    assert shown.properties['plain'] == 'y'
    body = client.images.data(image.id)
    assert len(body) == len(DATA)
    assert hashlib.md5(b''.join(body)).hexdigest() == DATA_MD5


HEADER_DECODING = (
    "python-glanceclient's images.get() reads HEAD response headers as "
    "http.client hands them over: values decoded as latin-1 (UTF-8 'é' "
    "arrives as 'Ã©') and headers with non-ASCII names dropped "
    "(cpython#81274). The service sends UTF-8 as spec §5.3 says; the JSON "
    "paths (create, update, list) round-trip exactly.")


@pytest.mark.xfail(strict=True, reason=HEADER_DECODING)
def test_get_non_ascii_name_and_value(client):
    image = reserve(client, name=NAME, properties={'label': 'ça marche'})
    shown = client.images.get(image.id)
    assert shown.name == NAME
    assert shown.properties == {'label': 'ça marche'}


@pytest.mark.xfail(strict=True, reason=HEADER_DECODING)
def test_get_non_ascii_property_name(client):
    image = reserve(client, name='ascii', properties={'prop_é': 'value'})
    assert client.images.get(image.id).properties == {'prop_é': 'value'}
