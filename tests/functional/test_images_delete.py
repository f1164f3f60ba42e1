"""DELETE /v1/images/{id} against a real server (spec §9, scenarios §19
98-107).

Not covered: 104 (a tenant without roles) and 105 (policy override).
"""

import os
import shutil
import subprocess

import pytest
import requests

from tests.functional import images_support as s


@pytest.fixture(scope='module')
def servers(request):
    """default, and delayed (delayed_delete = true); see images_support."""
    return s.shared_servers(request)


@pytest.fixture(scope='module')
def api(servers):
    """A glance-lite-api on embedded defaults, shared by the image tests."""
    return servers['default']


@pytest.fixture(scope='module')
def delayed_api(servers):
    return servers['delayed']


# 98


def test_delete_answers_200_with_an_empty_body(api):
    image = s.upload(api)

    response = s.delete(api, image['id'])

    assert response.status_code == 200
    assert response.content == b''
    assert response.headers['x-openstack-request-id'].startswith('req-')


def test_deleted_image_data_is_gone(api):
    image = s.upload(api)

    s.delete(api, image['id'])

    assert s.get(api, image['id']).status_code == 404
    assert s.files_of(api, image['id']) == []


def test_admin_head_shows_a_deleted_image_as_deleted(api):
    image = s.upload(api)

    s.delete(api, image['id'])

    response = s.head(api, image['id'])
    assert response.status_code == 200
    assert response.headers['x-image-meta-deleted'] == 'True'
    assert response.headers['x-image-meta-status'] == 'deleted'
    assert response.headers['x-image-meta-deleted_at']


# 99


def test_deleting_a_deleted_image_again_is_not_found(api):
    image = s.upload(api)
    s.delete(api, image['id'])

    response = s.delete(api, image['id'])

    assert response.status_code == 404
    assert 'Image %s not found.' % image['id'] in s.message(response)
    assert s.status_of(api, image['id']) == 'deleted'


# 100, 101


def test_delayed_delete_leaves_active_image_pending_delete(delayed_api):
    image = s.upload(delayed_api)

    response = s.delete(delayed_api, image['id'])

    assert response.status_code == 200
    meta = s.head(delayed_api, image['id'])
    assert meta.headers['x-image-meta-status'] == 'pending_delete'
    assert meta.headers['x-image-meta-deleted'] == 'True'
    # The data waits for the scrubber.
    assert s.files_of(delayed_api, image['id']) == [image['id']]
    assert s.get(delayed_api, image['id']).status_code == 404


def test_pending_delete_image_cannot_be_deleted_again(delayed_api):
    image = s.upload(delayed_api)
    s.delete(delayed_api, image['id'])

    response = s.delete(delayed_api, image['id'])

    assert response.status_code == 403
    assert 'Forbidden to delete a pending_delete image' in (
        s.message(response))
    assert s.status_of(delayed_api, image['id']) == 'pending_delete'


def test_pending_delete_image_cannot_be_updated(delayed_api):
    image = s.upload(delayed_api)
    s.delete(delayed_api, image['id'])

    response = s.put(delayed_api, image['id'], {'x-image-meta-name': 'x'})

    assert response.status_code == 403
    assert 'Forbidden to update deleted image' in s.message(response)
    assert s.head(delayed_api, image['id']).headers[
        'x-image-meta-name'] == 'Image1'


def test_delayed_delete_of_a_queued_image_deletes_at_once(delayed_api):
    image = s.reserve(delayed_api)

    response = s.delete(delayed_api, image['id'])

    assert response.status_code == 200
    meta = s.head(delayed_api, image['id'])
    assert meta.headers['x-image-meta-status'] == 'deleted'
    assert meta.headers['x-image-meta-deleted'] == 'True'


# 102


def test_protected_image_cannot_be_deleted(api):
    image = s.reserve(api, {'x-image-meta-protected': 'True'})

    response = s.delete(api, image['id'])

    assert response.status_code == 403
    assert 'Image is protected' in s.message(response)
    assert s.status_of(api, image['id']) == 'queued'


def test_image_can_be_deleted_once_unprotected(api):
    image = s.upload(api, headers=dict(s.minimal_headers(), **{
        'x-image-meta-protected': 'True'}))
    assert s.put(api, image['id'], {
        'x-image-meta-protected': 'False'}).status_code == 200

    response = s.delete(api, image['id'])

    assert response.status_code == 200
    assert s.files_of(api, image['id']) == []


# 103


@pytest.mark.parametrize('image_id', ['2f81f5a6-4a8e-4e2b-a0a5-5d8b0c7a1f00',
                                      '1'])
def test_delete_of_an_unknown_image_is_not_found(api, image_id):
    response = s.delete(api, image_id)

    assert response.status_code == 404


# 106


def test_store_refusing_deletion_keeps_the_image_active(api):
    if shutil.which('chattr') is None:
        pytest.skip('chattr is needed to make the store refuse deletion')
    image = s.upload(api)
    path = os.path.join(api.datadir, image['id'])
    # An immutable file cannot be unlinked, even by root: the file store
    # refuses the deletion (glance_store Forbidden).
    if subprocess.call(['chattr', '+i', path]) != 0:
        pytest.skip('the file system does not support immutable files')
    try:
        response = s.delete(api, image['id'])
        after = s.head(api, image['id'])
        data = s.get(api, image['id'])
    finally:
        subprocess.call(['chattr', '-i', path])

    assert response.status_code == 403
    assert 'Forbidden to delete image' in s.message(response)
    s.assert_no_storage_location(response, api)
    assert after.headers['x-image-meta-status'] == 'active'
    assert after.headers['x-image-meta-deleted'] == 'False'
    assert data.content == s.FIVE_KB


# 107


def test_deleted_images_are_not_listed(api):
    name = 'listed-then-deleted-%s' % s.new_id()
    images = [s.upload(api, headers=s.minimal_headers(name))
              for _ in range(2)]

    for image in images:
        assert s.delete(api, image['id']).status_code == 200

    for path in ('/v1/images', '/v1/images/detail'):
        response = requests.get(api.url + path, params={'name': name})
        assert response.status_code == 200
        assert response.text == '{"images": []}'


# Other sources and statuses


def test_delete_of_a_location_image_leaves_the_remote_data_alone(api):
    source = s.HttpSource()
    try:
        uri = source.add('/remote', b'remote bytes')
        image = s.upload(api, None, {
            'x-image-meta-location': uri,
            'x-image-meta-disk_format': 'raw',
            'x-image-meta-container_format': 'bare'})

        response = s.delete(api, image['id'])

        assert response.status_code == 200
        assert s.status_of(api, image['id']) == 'deleted'
        assert requests.get(uri).content == b'remote bytes'
    finally:
        source.close()


def test_killed_image_can_be_deleted(api):
    image_id = s.new_id()
    headers = dict(s.minimal_headers(), **{
        'x-image-meta-size': '3', 'X-Image-Meta-Id': image_id})
    assert s.post(api, headers, b'four').status_code == 400

    response = s.delete(api, image_id)

    assert response.status_code == 200
    assert s.status_of(api, image_id) == 'deleted'


def test_delete_ignores_a_request_body(api):
    image = s.upload(api)

    response = requests.delete(s.image_url(api, image['id']),
                               json={'image': {'name': 'ignored'}})

    assert response.status_code == 200
    assert s.status_of(api, image['id']) == 'deleted'
