"""Version negotiation and the v1 route table (spec §1-§3, §19 scenarios
1-14), against a real glance-lite-api process."""

import uuid

import pytest
import requests

from tests.functional import _parallel

MINIMAL = {'Content-Type': 'application/octet-stream',
           'x-image-meta-name': 'Image1',
           'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'ovf',
           'x-image-meta-is_public': 'True'}
V1_ACCEPT = 'application/vnd.openstack.images-v1'


def _versions(url):
    href = url + '/v1/'
    return {'versions': [
        {'id': 'v1.1', 'status': 'DEPRECATED',
         'links': [{'rel': 'self', 'href': href}]},
        {'id': 'v1.0', 'status': 'DEPRECATED',
         'links': [{'rel': 'self', 'href': href}]},
    ]}


@pytest.fixture(scope='module')
def servers():
    """A noauth server serving v1 alone (the v1 spec's versions document:
    v2 spec §2.3) and one serving v2 alone, started together."""
    started = _parallel.start({'DEFAULT': {'enable_v2_api': 'false'}},
                              {'DEFAULT': {'enable_v1_api': 'false'}})
    yield started
    _parallel.stop(*started)


@pytest.fixture(scope='module')
def api(servers):
    return servers[0]


@pytest.fixture(scope='module')
def image_id(api):
    response = requests.post(api.url + '/v1/images', headers=MINIMAL,
                             data=b'*' * 64)
    assert response.status_code == 201, response.text
    return response.json()['image']['id']


# Scenario 1 ---------------------------------------------------------------

def test_root_without_accept_answers_300_with_v1_versions(api):
    response = requests.get(api.url + '/', headers={'Accept': None})
    assert response.status_code == 300
    assert response.headers['Content-Type'] == 'application/json'
    assert response.json() == _versions(api.url)


def test_head_root_answers_300_with_empty_body(api):
    response = requests.head(api.url + '/')
    assert response.status_code == 300
    assert response.content == b''


# Scenario 2 ---------------------------------------------------------------

def test_versions_path_answers_200_with_versions_document(api):
    response = requests.get(api.url + '/versions', headers={'Accept': None})
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/json'
    assert response.json() == _versions(api.url)


def test_versions_path_with_images_v1_accept_answers_200(api):
    response = requests.get(api.url + '/versions',
                            headers={'Accept': V1_ACCEPT})
    assert response.status_code == 200
    assert response.json() == _versions(api.url)


@pytest.mark.parametrize('method,path', [('GET', '/versions/anything'),
                                         ('POST', '/versions'),
                                         ('DELETE', '/versions')])
def test_versions_path_answers_200_whatever_method_and_subpath(api, method,
                                                               path):
    response = requests.request(method, api.url + path)
    assert response.status_code == 200
    assert response.json() == _versions(api.url)


def test_head_versions_answers_200_with_empty_body(api):
    response = requests.head(api.url + '/versions')
    assert response.status_code == 200
    assert response.content == b''


# Scenario 3 ---------------------------------------------------------------

def test_unversioned_images_path_answers_300(api):
    response = requests.get(api.url + '/images', headers={'Accept': None})
    assert response.status_code == 300
    assert response.json() == _versions(api.url)


def test_root_with_unknown_accept_answers_300(api):
    response = requests.get(api.url + '/', headers={'Accept': 'unknown'})
    assert response.status_code == 300
    assert response.json() == _versions(api.url)


# Scenario 4 ---------------------------------------------------------------

def test_images_v1_accept_routes_unversioned_path_to_v1_list(api):
    response = requests.get(api.url + '/images',
                            params={'name': 'no such ' + uuid.uuid4().hex},
                            headers={'Accept': V1_ACCEPT})
    assert response.status_code == 200
    assert response.text == '{"images": []}'


def test_images_v1_accept_lists_the_same_as_v1_path(api, image_id):
    by_accept = requests.get(api.url + '/images',
                             headers={'Accept': V1_ACCEPT})
    by_path = requests.get(api.url + '/v1/images')
    assert by_accept.status_code == 200
    assert by_accept.json() == by_path.json()
    assert image_id in [i['id'] for i in by_accept.json()['images']]


def test_images_v1_accept_does_not_strip_v1_from_path(api):
    # /v1/images with the Accept header becomes /v1/v1/images.
    response = requests.get(api.url + '/v1/images',
                            headers={'Accept': V1_ACCEPT})
    assert response.status_code == 404


@pytest.mark.parametrize('accept', [V1_ACCEPT + ', application/json',
                                    V1_ACCEPT + ';q=0.9'])
def test_images_v1_accept_with_extra_content_answers_300(api, accept):
    response = requests.get(api.url + '/images', headers={'Accept': accept})
    assert response.status_code == 300
    assert response.json() == _versions(api.url)


# Scenario 5 ---------------------------------------------------------------

@pytest.mark.parametrize('accept', ['application/vnd.openstack.compute-v1',
                                    'application/vnd.openstack.images-v10'])
def test_other_vendor_accept_answers_300(api, accept):
    response = requests.get(api.url + '/images', headers={'Accept': accept})
    assert response.status_code == 300
    assert response.json() == _versions(api.url)


# Scenario 6 ---------------------------------------------------------------

@pytest.mark.parametrize('version', ['v1', 'v1.0', 'v1.1'])
def test_v1_version_tokens_route_to_image_list(api, version):
    response = requests.get(api.url + '/%s/images' % version)
    assert response.status_code == 200
    assert 'images' in response.json()


@pytest.mark.parametrize('path', ['/v1.2/images', '/v1.a/images',
                                  '/va.1/images', '/v10', '/V1/images',
                                  '/v2/images'])
def test_unknown_version_paths_answer_300(api, path):
    response = requests.get(api.url + path)
    assert response.status_code == 300
    assert response.json() == _versions(api.url)


# Scenario 7 ---------------------------------------------------------------

def test_v1_versions_is_not_a_route(api):
    response = requests.get(api.url + '/v1/versions')
    assert response.status_code == 404


# Scenario 8 ---------------------------------------------------------------

def test_v1_disabled_answers_300_with_no_v1_versions(servers):
    api = servers[1]
    response = requests.get(api.url + '/v1/images')
    assert response.status_code == 300
    assert [v['id'] for v in response.json()['versions']] == [
        'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0']
    accept = requests.get(api.url + '/images', headers={'Accept': V1_ACCEPT})
    assert accept.status_code == 300


# Scenario 9 ---------------------------------------------------------------

def test_head_images_detail_answers_405_allow_get(api):
    response = requests.head(api.url + '/v1/images/detail')
    assert response.status_code == 405
    assert response.headers['Allow'] == 'GET'


def test_get_images_detail_answers_200(api):
    response = requests.get(api.url + '/v1/images/detail')
    assert response.status_code == 200
    assert 'images' in response.json()


# Scenario 10 --------------------------------------------------------------

@pytest.mark.parametrize('method,path,allow', [
    ('POST', '/v1/images/detail', 'GET, HEAD'),
    ('PUT', '/v1/images/detail', 'GET, HEAD'),
    ('DELETE', '/v1/images/detail', 'GET, HEAD'),
    ('PATCH', '/v1/images', 'GET, POST'),
    ('HEAD', '/v1/images', 'GET, POST'),
    ('PUT', '/v1/images', 'GET, POST'),
    ('DELETE', '/v1/images', 'GET, POST'),
    ('POST', '/v1/images/{id}', 'GET, HEAD, PUT, DELETE'),
    ('PATCH', '/v1/images/{id}', 'GET, HEAD, PUT, DELETE'),
    ('POST', '/v1/images/{id}/members', 'GET, PUT'),
    ('DELETE', '/v1/images/{id}/members', 'GET, PUT'),
    ('POST', '/v1/images/{id}/members/m1', 'GET, PUT, DELETE'),
    ('PATCH', '/v1/images/{id}/members/m1', 'GET, PUT, DELETE'),
])
def test_wrong_method_answers_405_with_exact_allow(api, image_id, method,
                                                   path, allow):
    response = requests.request(method,
                                api.url + path.format(id=image_id))
    assert response.status_code == 405
    assert response.headers['Allow'] == allow


def test_405_ignores_a_non_json_body(api):
    # Glance parsed the body and answered 400 (spec §18 Q17).
    response = requests.post(api.url + '/v1/images/detail',
                             data=b'this is not json',
                             headers={'Content-Type': 'application/json'})
    assert response.status_code == 405
    assert response.headers['Allow'] == 'GET, HEAD'


# Scenario 11 --------------------------------------------------------------

def test_get_single_member_answers_405(api, image_id):
    response = requests.get(api.url + '/v1/images/%s/members/m1' % image_id)
    assert response.status_code == 405
    # Glance sends no Allow here; glance_lite may send "PUT, DELETE".
    assert response.headers.get('Allow') in (None, 'PUT, DELETE')


# Scenario 12 --------------------------------------------------------------

@pytest.mark.parametrize('path', ['/v1/images/detail.xxx', '/v1/images.xxx',
                                  '/v1/images/new', '/v1/images/1',
                                  '/v1/images/{id}/members.xxx'])
def test_lookalike_paths_answer_404(api, image_id, path):
    response = requests.get(api.url + path.format(id=image_id))
    assert response.status_code == 404


def test_members_of_existing_image_answers_200(api, image_id):
    response = requests.get(api.url + '/v1/images/%s/members' % image_id)
    assert response.status_code == 200
    assert response.json() == {'members': []}


# Scenario 13 --------------------------------------------------------------

def test_v1_without_slash_redirects_to_v1_slash(api):
    response = requests.get(api.url + '/v1', allow_redirects=False)
    assert response.status_code == 302
    assert response.headers['Location'].endswith('/v1/')


def test_v1_slash_answers_the_summary_image_list(api, image_id):
    response = requests.get(api.url + '/v1/')
    assert response.status_code == 200
    assert response.json() == requests.get(api.url + '/v1/images').json()
    assert image_id in [i['id'] for i in response.json()['images']]


# Scenario 14 --------------------------------------------------------------

def test_unknown_method_on_unknown_path_answers_501(api):
    response = requests.request('PROPFIND', api.url + '/v1/nothing/here')
    assert response.status_code == 501


def test_unknown_method_on_known_path_answers_405(api):
    response = requests.request('PROPFIND', api.url + '/v1/images')
    assert response.status_code == 405
    assert response.headers['Allow'] == 'GET, POST'


@pytest.mark.parametrize('method', ['GET', 'HEAD', 'POST', 'PUT', 'DELETE',
                                    'PATCH'])
def test_known_method_on_unknown_path_answers_404(api, method):
    response = requests.request(method, api.url + '/v1/nothing/here')
    assert response.status_code == 404


def test_options_on_unknown_path_answers_404(api):
    # spec §18 Q28: 404 elsewhere (not 501).
    response = requests.options(api.url + '/v1/nothing/here')
    assert response.status_code == 404


def test_options_on_known_path_answers_405_with_allow(api):
    # spec §18 Q28: 405 with Allow on known paths (no CORS here).
    response = requests.options(api.url + '/v1/images')
    assert response.status_code == 405
    assert response.headers['Allow'] == 'GET, POST'


# Healthcheck (spec §1) ------------------------------------------------------

def test_healthcheck_answers_200_ok(api):
    response = requests.get(api.url + '/healthcheck')
    assert response.status_code == 200
    assert response.text == 'OK'


def test_healthcheck_answers_503_while_the_disable_file_exists(make_api,
                                                               tmp_path):
    disable_file = tmp_path / 'healthcheck_disable'
    api = make_api({'healthcheck': {'disable_by_file_path':
                                    str(disable_file)}})
    assert requests.get(api.url + '/healthcheck').status_code == 200
    disable_file.write_text('maintenance')
    assert requests.get(api.url + '/healthcheck').status_code == 503
    disable_file.unlink()
    assert requests.get(api.url + '/healthcheck').status_code == 200
