"""glance_lite through Apache httpd + mod_wsgi (daemon mode), configured by
the shipped etc/apache2/glance-lite.conf and glance-lite.wsgi
(tests/apache.py): what a user checks after deploying it.

The big uploads are over 1 GiB — past Apache's default LimitRequestBody —
chunked (as python-glanceclient sends) and with a Content-Length; their
bytes are generated and hashed on the fly (tests/deploy/transfer.py).
Transfer rates are printed (pytest -rP shows them).
"""

import hashlib
import os
import uuid

from glanceclient import Client
import pytest
import requests

from tests import apache as test_apache
from tests.deploy import transfer
from tests import processes

pytestmark = pytest.mark.xdist_group('apache')

# Just over 1 GiB: Apache's default LimitRequestBody (1 GiB) would answer
# 413 without the virtual host's LimitRequestBody 0.
BIG = transfer.GIB + 12345


@pytest.fixture(scope='module')
def apache():
    server = test_apache.Apache().start()
    yield server
    server.stop()


def image_path(image_id):
    return '/v1/images/%s' % image_id


def location(server, image_id):
    return 'http://127.0.0.1:%d/v1/images/%s' % (server.port, image_id)


def reserve(server, name, **headers):
    """POST without data: a queued image."""
    all_headers = dict(transfer.IMAGE_HEADERS, **{'x-image-meta-name': name})
    all_headers.update(headers)
    del all_headers['Content-Type']
    answer = transfer.send(server.url, 'POST', '/v1/images', all_headers)
    assert answer.status == 201, answer
    image = answer.json()['image']
    assert image['status'] == 'queued'
    return image


def check_download(server, image_id, size, md5):
    answer, got_size, got_md5 = transfer.download(server.url,
                                                  image_path(image_id))
    assert answer.status == 200
    assert answer.headers['Content-Type'] == 'application/octet-stream'
    assert int(answer.headers['Content-Length']) == size
    assert answer.headers['x-image-meta-checksum'] == md5
    assert (got_size, got_md5) == (size, md5)
    return answer


def test_serves_the_api_as_the_unprivileged_user(apache):
    resp = requests.get(apache.url + '/versions', timeout=30)
    assert resp.status_code == 200
    assert resp.json()['versions'][0]['links'][0]['href'] == (
        apache.url + '/v1/')
    assert 'mod_wsgi' in resp.headers['Server']
    # The application runs in mod_wsgi's daemon processes, as the user
    # the virtual host names (not root when the tests run as root).
    daemons = []
    for pid in processes.children_of(apache.pid):
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            if f.read().startswith(b'(wsgi:glance-lite'):
                daemons.append(os.stat('/proc/%d' % pid).st_uid)
    assert len(daemons) == 2
    assert set(daemons) == {apache.uid}
    if os.geteuid() == 0:
        assert apache.uid != 0


def test_chunked_upload_over_1_gib_then_download_head_and_list(apache):
    data = transfer.PatternData(BIG, seed=1)
    headers = dict(transfer.IMAGE_HEADERS, **{
        'x-image-meta-name': 'big-chunked',
        'x-image-meta-is_public': 'true',
        'x-image-meta-property-os_distro': 'cirros'})
    answer = transfer.send(apache.url, 'POST', '/v1/images', headers,
                           data=data, chunked=True)
    assert answer.status == 201, answer
    image = answer.json()['image']
    assert image['status'] == 'active'
    assert image['size'] == BIG
    assert image['checksum'] == data.md5
    assert image['is_public'] is True
    assert image['properties'] == {'os_distro': 'cirros'}
    assert answer.headers['Location'] == location(apache, image['id'])
    print('Apache chunked upload: %d bytes in %.1f s, %.0f MiB/s'
          % (BIG, answer.elapsed, transfer.mib_per_s(BIG, answer.elapsed)))

    # The bytes landed in the test's file store: glance-lite.wsgi loaded
    # the glance-lite.conf beside it.
    stored = os.path.join(apache.state_path, 'images', image['id'])
    assert os.path.getsize(stored) == BIG

    got = check_download(apache, image['id'], BIG, data.md5)
    print('Apache download: %d bytes in %.1f s, %.0f MiB/s'
          % (BIG, got.elapsed, transfer.mib_per_s(BIG, got.elapsed)))

    head = requests.head(apache.url + image_path(image['id']), timeout=30)
    assert head.status_code == 200
    assert head.headers['x-image-meta-status'] == 'active'
    assert head.headers['x-image-meta-name'] == 'big-chunked'
    assert head.headers['x-image-meta-size'] == str(BIG)
    assert head.headers['x-image-meta-checksum'] == data.md5
    assert head.headers['x-image-meta-property-os_distro'] == 'cirros'
    assert head.content == b''

    listed = requests.get(apache.url + '/v1/images', timeout=30)
    assert listed.status_code == 200
    assert {'id': image['id'], 'name': 'big-chunked', 'size': BIG,
            'checksum': data.md5, 'disk_format': 'raw',
            'container_format': 'bare'} in listed.json()['images']
    detail = requests.get(apache.url + '/v1/images/detail',
                          params={'name': 'big-chunked'}, timeout=30)
    assert detail.status_code == 200
    [found] = detail.json()['images']
    assert (found['id'], found['status'], found['size']) == (
        image['id'], 'active', BIG)


def test_put_upload_over_1_gib_with_content_length(apache):
    # The seed's PUT, second form: the data of a queued image.
    image = reserve(apache, 'big-content-length')
    data = transfer.PatternData(BIG, seed=2)
    answer = transfer.send(
        apache.url, 'PUT', image_path(image['id']),
        {'Content-Type': 'application/octet-stream'}, data=data)
    assert answer.status == 200, answer
    assert answer.headers['Location'] == location(apache, image['id'])
    assert answer.headers['ETag'] == data.md5
    updated = answer.json()['image']
    assert updated['status'] == 'active'
    assert updated['size'] == BIG
    assert updated['checksum'] == data.md5
    print('Apache Content-Length upload: %d bytes in %.1f s, %.0f MiB/s'
          % (BIG, answer.elapsed, transfer.mib_per_s(BIG, answer.elapsed)))
    check_download(apache, image['id'], BIG, data.md5)


def test_put_metadata_only(apache):
    # The seed's PUT, first form: no data, only metadata.
    image = reserve(apache, 'meta-only', **{
        'x-image-meta-property-keep': 'yes'})
    answer = transfer.send(apache.url, 'PUT', image_path(image['id']), {
        'x-image-meta-name': 'meta-only-renamed',
        'x-image-meta-min_ram': '512',
        'x-image-meta-property-hw_disk_bus': 'virtio',
        'x-glance-registry-purge-props': 'false'})
    assert answer.status == 200, answer
    assert answer.headers['Location'] == location(apache, image['id'])
    updated = answer.json()['image']
    assert updated['name'] == 'meta-only-renamed'
    assert updated['min_ram'] == 512
    assert updated['status'] == 'queued'
    assert updated['properties'] == {'keep': 'yes',
                                     'hw_disk_bus': 'virtio'}


def test_put_metadata_and_chunked_data_at_once(apache):
    # The seed's PUT, third form: new metadata and the data together.
    image = reserve(apache, 'both')
    data = transfer.PatternData(48 * transfer.MIB + 3, seed=3)
    answer = transfer.send(apache.url, 'PUT', image_path(image['id']), {
        'Content-Type': 'application/octet-stream',
        'x-image-meta-name': 'both-renamed',
        'x-image-meta-min_disk': '2',
        'x-image-meta-property-os_distro': 'debian'},
        data=data, chunked=True)
    assert answer.status == 200, answer
    assert answer.headers['Location'] == location(apache, image['id'])
    updated = answer.json()['image']
    assert (updated['name'], updated['min_disk'], updated['status'],
            updated['size'], updated['checksum']) == (
        'both-renamed', 2, 'active', data.size, data.md5)
    assert updated['properties'] == {'os_distro': 'debian'}
    check_download(apache, image['id'], data.size, data.md5)


def test_glanceclient_v1_create_with_data(apache, tmp_path):
    # python-glanceclient uploads chunked, names disk_format, min_ram and
    # properties with underscores, and reads the answer's headers.
    path = tmp_path / 'disk.raw'
    data = transfer.PatternData(64 * transfer.MIB + 5, seed=4)
    with open(path, 'wb') as f:
        for block in data.blocks():
            f.write(block)
    client = Client('1', endpoint=apache.url, token='unused', timeout=300)
    tag = uuid.uuid4().hex
    with open(path, 'rb') as f:
        image = client.images.create(
            name='from-glanceclient', disk_format='qcow2',
            container_format='bare', min_ram=256, data=f,
            properties={'os_distro': 'cirros', 'tag': tag})
    assert image.status == 'active'
    assert image.size == data.size
    assert image.checksum == data.md5
    assert (image.disk_format, image.container_format, image.min_ram) == (
        'qcow2', 'bare', 256)
    assert image.properties == {'os_distro': 'cirros', 'tag': tag}

    fetched = client.images.get(image.id)
    assert (fetched.name, fetched.size, fetched.checksum) == (
        'from-glanceclient', data.size, data.md5)
    md5 = hashlib.md5()
    size = 0
    for chunk in client.images.data(image.id):
        md5.update(chunk)
        size += len(chunk)
    assert (size, md5.hexdigest()) == (data.size, data.md5)
    # The image is private: glanceclient's default list shows public
    # images only.
    listed = [i.id for i in client.images.list(
        filters={'properties': {'tag': tag}}, is_public=None)]
    assert listed == [image.id]
