"""Two API nodes sharing one catalogue and one store, as behind a load
balancer (docs/deployment.md, "Scaling out"): whatever one node does, the
other sees at once; no node keeps state of its own. The catalogue is the
engine of the run (GLANCE_LITE_TEST_DB); the store is a file store both
nodes mount at the same path, as shared storage would be."""

import hashlib

import pytest
import requests

from tests import server as test_server

DATA = b'scaled out ' * 1000
CREATE = {'Content-Type': 'application/octet-stream',
          'x-image-meta-name': 'shared',
          'x-image-meta-disk_format': 'raw',
          'x-image-meta-container_format': 'bare',
          'x-image-meta-is_public': 'true',
          'x-image-meta-property-os_distro': 'cirros'}


@pytest.fixture(scope='module')
def nodes():
    first = test_server.Server().start()
    second = None
    try:
        second = test_server.Server({
            'database': {'connection': first.database_url},
            'glance_store': {'filesystem_store_datadir': first.datadir},
        }).start()
        yield first, second
    finally:
        # The second node first: the first owns the database.
        if second is not None:
            second.stop()
        first.stop()


def test_an_image_made_on_one_node_is_served_and_changed_by_the_other(
        nodes):
    first, second = nodes
    created = requests.post(first.url + '/v1/images', data=DATA,
                            headers=CREATE)
    assert created.status_code == 201
    image = created.json()['image']
    assert image['status'] == 'active'

    path = '/v1/images/' + image['id']
    download = requests.get(second.url + path)
    assert download.status_code == 200
    assert download.content == DATA
    assert download.headers['x-image-meta-checksum'] == hashlib.md5(
        DATA).hexdigest()
    assert download.headers['x-image-meta-property-os_distro'] == 'cirros'

    updated = requests.put(second.url + path, headers={
        'x-image-meta-name': 'renamed', 'x-glance-registry-purge-props':
        'false'})
    assert updated.status_code == 200
    head = requests.head(first.url + path)
    assert head.headers['x-image-meta-name'] == 'renamed'
    assert head.headers['x-image-meta-property-os_distro'] == 'cirros'

    member = requests.put(first.url + path + '/members/tenant-b')
    assert member.status_code == 204
    members = requests.get(second.url + path + '/members').json()
    assert members == {'members': [{'member_id': 'tenant-b',
                                    'can_share': False}]}

    listed = requests.get(second.url + '/v1/images',
                          params={'name': 'renamed'}).json()['images']
    assert [i['id'] for i in listed] == [image['id']]

    assert image['id'] in first.stored_files()
    deleted = requests.delete(second.url + path)
    assert deleted.status_code == 200
    # Admins (noauth) still see a deleted image's record.
    assert requests.head(first.url + path).headers[
        'x-image-meta-status'] == 'deleted'
    assert requests.get(first.url + '/v1/images',
                        params={'name': 'renamed'}).json()['images'] == []
    assert image['id'] not in first.stored_files()
    # A second delete, through the first node, finds it gone.
    assert requests.delete(first.url + path).status_code == 404


def test_an_upload_reserved_on_one_node_can_be_completed_on_the_other(
        nodes):
    first, second = nodes
    reserved = requests.post(first.url + '/v1/images', headers={
        k: v for k, v in CREATE.items() if k != 'Content-Type'})
    assert reserved.status_code == 201
    image = reserved.json()['image']
    assert image['status'] == 'queued'
    path = '/v1/images/' + image['id']

    uploaded = requests.put(second.url + path, data=DATA, headers={
        'Content-Type': 'application/octet-stream'})
    assert uploaded.status_code == 200
    assert uploaded.json()['image']['status'] == 'active'
    # The first node refuses a second upload: the image is active now.
    again = requests.put(first.url + path, data=DATA, headers={
        'Content-Type': 'application/octet-stream'})
    assert again.status_code == 409
    assert requests.get(first.url + path).content == DATA
