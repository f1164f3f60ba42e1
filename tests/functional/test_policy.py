"""Policy rules of the images API (spec §4.5, §19 scenarios 53, 62, 63, 67,
87, 95, 105, 121), overridden through a real policy file."""

import hashlib
import os

import pytest
import requests

MINIMAL = {'Content-Type': 'application/octet-stream',
           'x-image-meta-name': 'Image1',
           'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'ovf'}
FIVE_KB = b'*' * 5120


@pytest.fixture
def api_with_policy(make_api, tmp_path):
    """A noauth server whose policy file holds the given rules."""
    def _make(rules):
        path = os.path.join(str(tmp_path), 'policy.yaml')
        with open(path, 'w') as f:
            for name, check in rules.items():
                f.write('"%s": "%s"\n' % (name, check))
        return make_api({'oslo_policy': {'policy_file': path}})
    return _make


def _create(api, headers=None, data=FIVE_KB):
    response = requests.post(api.url + '/v1/images',
                             headers=dict(MINIMAL, **(headers or {})),
                             data=data)
    assert response.status_code == 201, response.text
    return response.json()['image']


def test_add_image_denied_answers_403_and_creates_nothing(api_with_policy):
    api = api_with_policy({'add_image': '!'})
    response = requests.post(api.url + '/v1/images', headers=MINIMAL,
                             data=FIVE_KB)
    assert response.status_code == 403
    listed = requests.get(api.url + '/v1/images/detail?is_public=None')
    assert listed.json() == {'images': []}
    assert api.stored_files() == []


def test_publicize_denied_refuses_public_create(api_with_policy):
    api = api_with_policy({'publicize_image': '!'})
    response = requests.post(
        api.url + '/v1/images', data=FIVE_KB,
        headers=dict(MINIMAL, **{'x-image-meta-is-public': 'true'}))
    assert response.status_code == 403
    private = requests.post(api.url + '/v1/images', headers=MINIMAL,
                            data=FIVE_KB)
    assert private.status_code == 201


def test_publicize_allowed_by_default_for_admin(api_with_policy):
    api = api_with_policy({})
    image = _create(api, {'x-image-meta-is-public': 'true'})
    assert image['is_public'] is True


def test_publicize_denied_refuses_making_an_image_public(api_with_policy):
    api = api_with_policy({'publicize_image': '!'})
    image = _create(api)
    response = requests.put(api.url + '/v1/images/' + image['id'],
                            headers={'x-image-meta-is-public': 'true'})
    assert response.status_code == 403
    head = requests.head(api.url + '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-is_public'] == 'False'


def test_copy_from_denied_answers_403(api_with_policy):
    api = api_with_policy({'copy_from': '!'})
    response = requests.post(
        api.url + '/v1/images',
        headers=dict(MINIMAL, **{'x-glance-api-copy-from':
                                 'http://127.0.0.1:1/image'}))
    assert response.status_code == 403


@pytest.mark.parametrize('extra', [
    {'x-glance-api-copy-from': 'http://127.0.0.1:1/image'},
    {'Transfer-Encoding': 'chunked'},
])
def test_upload_image_denied_refuses_data_sources_on_create(
        api_with_policy, extra):
    api = api_with_policy({'upload_image': '!'})
    data = iter([FIVE_KB]) if 'Transfer-Encoding' in extra else None
    headers = dict(MINIMAL, **extra)
    headers.pop('Transfer-Encoding', None)
    response = requests.post(api.url + '/v1/images', headers=headers,
                             data=data)
    assert response.status_code == 403
    assert api.stored_files() == []


@pytest.mark.parametrize('rule, extra, chunked', [
    ('copy_from', {'x-glance-api-copy-from': 'http://127.0.0.1:1/i'}, False),
    ('upload_image', {'x-glance-api-copy-from': 'http://127.0.0.1:1/i'},
     False),
    ('upload_image', {}, True),
])
def test_denied_data_sources_on_update_leave_image_queued(
        api_with_policy, rule, extra, chunked):
    api = api_with_policy({rule: '!'})
    reserved = requests.post(api.url + '/v1/images',
                             headers={'x-image-meta-name': 'q'}).json()
    image_id = reserved['image']['id']
    response = requests.put(api.url + '/v1/images/' + image_id,
                            headers=dict(MINIMAL, **extra),
                            data=iter([FIVE_KB]) if chunked else None)
    assert response.status_code == 403
    head = requests.head(api.url + '/v1/images/' + image_id)
    assert head.headers['x-image-meta-status'] == 'queued'


def test_get_image_denied_refuses_head_and_get(api_with_policy):
    api = api_with_policy({'get_image': '!'})
    image = _create(api)
    url = api.url + '/v1/images/' + image['id']
    assert requests.head(url).status_code == 403
    assert requests.get(url).status_code == 403


def test_download_denied_refuses_get_but_not_head(api_with_policy):
    api = api_with_policy({'download_image': '!'})
    image = _create(api)
    url = api.url + '/v1/images/' + image['id']
    assert requests.get(url).status_code == 403
    assert requests.head(url).status_code == 200


def test_download_denied_answers_403_for_a_deleted_image(api_with_policy):
    api = api_with_policy({'download_image': '!'})
    image = _create(api)
    url = api.url + '/v1/images/' + image['id']
    assert requests.delete(url).status_code == 200
    assert requests.get(url).status_code == 403


def test_download_rule_can_match_custom_properties(api_with_policy):
    api = api_with_policy(
        {'download_image': "not 'secret':%(classification)s"})
    secret = _create(api, {'x-image-meta-property-classification': 'secret'})
    public = _create(api, {'x-image-meta-property-classification': 'open'})
    secret_url = api.url + '/v1/images/' + secret['id']
    assert requests.get(secret_url).status_code == 403
    assert requests.head(secret_url).status_code == 200
    response = requests.get(api.url + '/v1/images/' + public['id'])
    assert response.status_code == 200
    assert hashlib.md5(response.content).hexdigest() == (
        'c2e5db72bd7fd153f53ede5da5a06de3')


def test_delete_denied_answers_403_and_keeps_image(api_with_policy):
    api = api_with_policy({'delete_image': '!'})
    image = _create(api)
    url = api.url + '/v1/images/' + image['id']
    assert requests.delete(url).status_code == 403
    assert requests.head(url).headers['x-image-meta-status'] == 'active'


@pytest.mark.parametrize('path', ['/v1/images', '/v1/images/detail'])
def test_get_images_denied_refuses_lists(api_with_policy, path):
    api = api_with_policy({'get_images': '!'})
    assert requests.get(api.url + path).status_code == 403


def test_modify_image_denied_refuses_update(api_with_policy):
    api = api_with_policy({'modify_image': '!'})
    image = _create(api)
    response = requests.put(api.url + '/v1/images/' + image['id'],
                            headers={'x-image-meta-name': 'renamed'})
    assert response.status_code == 403
    head = requests.head(api.url + '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-name'] == 'Image1'
