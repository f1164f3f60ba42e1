"""The v1 route table (spec §2), through the whole paste app: every route
reaches its action, wrong methods answer 405 with the path's Allow value,
unknown paths 404 (501 for unknown methods)."""

import io

import pytest

from tests.inprocess import support


@pytest.fixture
def image(app):
    return app.create(data=b'*' * 64, is_public='True')


def test_root_lists_images_for_any_method(app, image):
    for method in ('GET', 'POST', 'PUT', 'DELETE'):
        response = app.request(method, '/v1/')
        assert response.status_int == 200, method
        assert [i['id'] for i in response.json['images']] == [image['id']]


def test_v1_without_slash_redirects_to_v1_slash(app):
    response = app.request('GET', '/v1')
    assert response.status_int == 302
    assert response.location == 'http://localhost/v1/'


def test_get_images_lists_summaries(app, image):
    response = app.request('GET', '/v1/images')
    assert response.status_int == 200
    listed, = response.json['images']
    assert listed['id'] == image['id']
    assert 'owner' not in listed  # the summary form


def test_get_images_detail_lists_details(app, image):
    response = app.request('GET', '/v1/images/detail')
    assert response.status_int == 200
    listed, = response.json['images']
    assert listed['id'] == image['id']
    assert listed['status'] == 'active'
    assert 'owner' in listed and 'properties' in listed


def test_post_images_creates(app):
    response = app.request('POST', '/v1/images', support.MINIMAL)
    assert response.status_int == 201
    assert response.json['image']['status'] == 'queued'


def test_head_image_answers_metadata_as_headers(app, image):
    response = app.request('HEAD', '/v1/images/' + image['id'])
    assert response.status_int == 200
    assert response.headers['x-image-meta-id'] == image['id']
    assert response.headers['x-image-meta-status'] == 'active'
    assert response.body == b''


def test_get_image_answers_its_data(app, image):
    response = app.request('GET', '/v1/images/' + image['id'])
    assert response.status_int == 200
    assert response.body == b'*' * 64
    assert response.headers['x-image-meta-size'] == '64'


def test_put_image_updates(app, image):
    response = app.request('PUT', '/v1/images/' + image['id'],
                           {'x-image-meta-name': 'renamed'})
    assert response.status_int == 200
    assert response.json['image']['name'] == 'renamed'


def test_delete_image_answers_200(app, image):
    response = app.request('DELETE', '/v1/images/' + image['id'])
    assert response.status_int == 200
    assert app.request('GET', '/v1/images/' + image['id']).status_int == 404


def test_members_routes(app, image):
    base = '/v1/images/%s/members' % image['id']
    assert app.request('PUT', base + '/tenant1').status_int == 204
    assert app.request('GET', base).json == {
        'members': [{'member_id': 'tenant1', 'can_share': False}]}
    assert app.request(
        'PUT', base, body={'memberships': [{'member_id': 'tenant2'}]}
    ).status_int == 204
    assert app.request('DELETE', base + '/tenant2').status_int == 204
    assert app.request('GET', base).json == {'members': []}


def test_shared_images_answers_any_method(app, image):
    app.request('PUT', '/v1/images/%s/members/tenant1' % image['id'])
    for method in ('GET', 'POST', 'DELETE'):
        response = app.request(method, '/v1/shared-images/tenant1')
        assert response.status_int == 200, method
        assert response.json == {'shared_images': [
            {'image_id': image['id'], 'can_share': False}]}


@pytest.mark.parametrize('method, path, allow', [
    ('HEAD', '/v1/images', 'GET, POST'),
    ('PUT', '/v1/images', 'GET, POST'),
    ('DELETE', '/v1/images', 'GET, POST'),
    ('PATCH', '/v1/images', 'GET, POST'),
    ('HEAD', '/v1/images/detail', 'GET'),
    ('POST', '/v1/images/detail', 'GET, HEAD'),
    ('PUT', '/v1/images/detail', 'GET, HEAD'),
    ('DELETE', '/v1/images/detail', 'GET, HEAD'),
    ('POST', '/v1/images/IMAGE', 'GET, HEAD, PUT, DELETE'),
    ('PATCH', '/v1/images/IMAGE', 'GET, HEAD, PUT, DELETE'),
    ('POST', '/v1/images/IMAGE/members', 'GET, PUT'),
    ('DELETE', '/v1/images/IMAGE/members', 'GET, PUT'),
    ('POST', '/v1/images/IMAGE/members/m', 'GET, PUT, DELETE'),
    ('PATCH', '/v1/images/IMAGE/members/m', 'GET, PUT, DELETE'),
])
def test_wrong_method_is_405_with_allow(app, image, method, path, allow):
    response = app.request(method, path.replace('IMAGE', image['id']))
    assert response.status_int == 405
    assert response.headers['Allow'] == allow
    assert 'x-openstack-request-id' in response.headers


def test_get_one_member_is_405_without_allow(app, image):
    app.request('PUT', '/v1/images/%s/members/m' % image['id'])
    response = app.request('GET', '/v1/images/%s/members/m' % image['id'])
    assert response.status_int == 405
    assert 'Allow' not in response.headers


@pytest.mark.parametrize('path', [
    '/v1/images.xxx', '/v1/nothing', '/v1/versions', '/v1/images/a/b',
    '/v1/images/IMAGE/members.xxx', '/v1/images/IMAGE/members/m/x',
    '/v1/shared-images', '/v1/shared-images/m/x'])
@pytest.mark.parametrize('method', ['GET', 'HEAD', 'POST', 'PUT', 'DELETE',
                                    'PATCH', 'OPTIONS'])
def test_unknown_path_is_404(app, image, path, method):
    response = app.request(method, path.replace('IMAGE', image['id']))
    assert response.status_int == 404


@pytest.mark.parametrize('method', ['PROPFIND', 'TRACE', 'FOO'])
def test_unknown_method_on_unknown_path_is_501(app, method):
    assert app.request(method, '/v1/nothing').status_int == 501


# Fixed, so that the test ids are the same in every xdist worker.
@pytest.mark.parametrize('image_id', ['detail.xxx', 'new', '1',
                                      'c0ffee00-1234-4abc-8def-0123456789ab'])
def test_image_lookups_that_find_nothing_are_404(app, image_id):
    assert app.request('GET', '/v1/images/' + image_id).status_int == 404
    assert app.request('HEAD', '/v1/images/' + image_id).status_int == 404


def test_body_on_a_route_that_takes_none_is_ignored(app, image):
    response = app.request('DELETE', '/v1/images/' + image['id'],
                           {'Content-Type': 'application/json'},
                           b'not json')
    assert response.status_int == 200


@pytest.mark.parametrize('length', ['abc', '+8', '-1', '8 ', '0x8', '1e3'])
def test_an_invalid_content_length_is_refused_and_nothing_created(
        app, length):
    # mod_wsgi and uWSGI hand CONTENT_LENGTH to the application as the
    # client sent it; WebOb would read such a value as "no body".
    response = app.request('POST', '/v1/images', headers={
        'Content-Type': 'application/octet-stream',
        'x-image-meta-name': 'bad length',
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'},
        environ={'CONTENT_LENGTH': length,
                 'wsgi.input': io.BytesIO(b'8bytes!!')})

    assert response.status_int == 400
    assert 'Malformed Content-Length header' in response.text
    listed = app.request('GET', '/v1/images/detail?is_public=None')
    assert listed.json['images'] == []
