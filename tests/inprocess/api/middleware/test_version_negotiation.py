"""Version negotiation (v1 spec §3, v2 spec §1 and §2): the versions
document, v1 and v2 tokens in the path or the Accept header, 300 for
everything else, all before any identity check."""

import pytest

from tests.inprocess import support

V1_ACCEPT = 'application/vnd.openstack.images-v1'


V2_IDS = ['v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0']


def versions(base='http://localhost', v1=True, v2=True):
    """The versions document of v2 spec §2.3."""
    entries = []
    if v2:
        entries += [{'id': version_id,
                     'status': 'CURRENT' if version_id == 'v2.7'
                     else 'SUPPORTED',
                     'links': [{'rel': 'self', 'href': base + '/v2/'}]}
                    for version_id in V2_IDS]
    if v1:
        entries += [{'id': version_id, 'status': 'DEPRECATED',
                     'links': [{'rel': 'self', 'href': base + '/v1/'}]}
                    for version_id in ('v1.1', 'v1.0')]
    return {'versions': entries}


@pytest.mark.parametrize('path', ['/versions', '/versions/anything'])
@pytest.mark.parametrize('accept', [None, V1_ACCEPT, 'application/json'])
def test_versions_path_answers_200(app, path, accept):
    response = app.request('GET', path, {'Accept': accept})
    assert response.status_int == 200
    assert response.content_type == 'application/json'
    assert response.json == versions()
    assert 'x-openstack-request-id' not in response.headers


@pytest.mark.parametrize('path', ['/', '/images', '/v1.2/images',
                                  '/v1.a/images', '/va.1/images', '/v10',
                                  '/V1/images', '/V2/images', '/v2.8/images',
                                  '/v2.9/images', '/v3/images'])
def test_unknown_version_answers_300(app, path):
    response = app.request('GET', path)
    assert response.status_int == 300
    assert response.json == versions()
    assert 'x-openstack-request-id' not in response.headers


def test_head_gets_the_status_and_no_body(app):
    response = app.request('HEAD', '/')
    assert response.status_int == 300
    assert response.body == b''


@pytest.mark.parametrize('token', ['v1', 'v1.0', 'v1.1'])
def test_v1_tokens_in_the_path_reach_v1(app, token):
    response = app.request('GET', '/%s/images' % token)
    assert response.status_int == 200
    assert response.json == {'images': []}


@pytest.mark.parametrize('token', ['v1', 'v1.0', 'v1.1'])
def test_accept_header_routes_the_unprefixed_path(app, token):
    response = app.request('GET', '/images', {
        'Accept': 'application/vnd.openstack.images-' + token})
    assert response.status_int == 200
    assert response.json == {'images': []}


def test_accept_header_does_not_strip_the_path(app):
    response = app.request('GET', '/v1/images', {'Accept': V1_ACCEPT})
    assert response.status_int == 404  # /v1/v1/images


@pytest.mark.parametrize('accept', [V1_ACCEPT + ', application/json',
                                    V1_ACCEPT + ';q=0.9',
                                    'application/vnd.openstack.images-v2.8',
                                    'application/vnd.openstack.images-V2'])
def test_other_accept_values_answer_300(app, accept):
    assert app.request('GET', '/images',
                       {'Accept': accept}).status_int == 300


def test_public_endpoint_is_the_base_of_the_links(make_app):
    app = make_app({'DEFAULT': {'public_endpoint':
                                'https://images.example.com:9443/'}})
    response = app.request('GET', '/versions')
    assert response.json == versions('https://images.example.com:9443')


def test_disabled_v1_lists_no_v1_version_and_routes_nothing(make_app):
    app = make_app({'DEFAULT': {'enable_v1_api': 'false'}})
    assert app.request('GET', '/versions').json == versions(v1=False)
    response = app.request('GET', '/v1/images')
    assert response.status_int == 300
    assert app.request('GET', '/images',
                       {'Accept': V1_ACCEPT}).status_int == 300


def test_versions_need_no_identity_in_trusted_auth(trusted_app):
    assert trusted_app.request('GET', '/').status_int == 300
    assert trusted_app.request('GET', '/versions').status_int == 200
    assert trusted_app.request('GET', '/v1/images').status_int == 401


@pytest.mark.parametrize('path', ['/v1/images/%FF', '/v1/images?name=%FF',
                                  '/%E9'])
def test_undecodable_url_is_400(app, path):
    response = app.request('GET', path)
    assert response.status_int == 400
    assert 'Error decoding your request' in response.text


def test_version_documents_are_not_in_v1_app(app):
    # The v1 router itself has no versions route (spec §2 notes).
    assert app.request('GET', '/v1/versions').status_int == 404


def test_v1_answers_carry_a_request_id(app):
    response = app.request('GET', '/v1/images', support.OCTETS)
    assert response.headers['x-openstack-request-id'].startswith('req-')


@pytest.mark.parametrize('token', ['v2'] + V2_IDS)
def test_v2_tokens_in_the_path_reach_v2(app, token):
    response = app.request('GET', '/%s/schemas/member' % token)
    assert response.status_int == 200
    assert response.json['name'] == 'member'
    assert 'x-openstack-request-id' in response.headers


@pytest.mark.parametrize('token', ['v2', 'v2.0', 'v2.7'])
def test_v2_accept_header_routes_the_unprefixed_path(app, token):
    response = app.request('GET', '/schemas/image', {
        'Accept': 'application/vnd.openstack.images-' + token})
    assert response.status_int == 200
    assert response.json['name'] == 'image'


def test_v2_without_its_slash_is_redirected(app):
    response = app.request('GET', '/v2')
    assert response.status_int == 302
    assert response.location == 'http://localhost/v2/'
    assert app.request('GET', '/v2/').status_int == 404


def test_v2_disabled_gives_the_v1_document(make_app):
    app = make_app({'DEFAULT': {'enable_v2_api': 'false'}})
    assert app.request('GET', '/versions').json == versions(v2=False)
    response = app.request('GET', '/v2/schemas/image')
    assert response.status_int == 300
    assert response.json == versions(v2=False)
    assert app.request('GET', '/v1/images').status_int == 200


def test_v1_disabled_gives_the_v2_document(make_app):
    app = make_app({'DEFAULT': {'enable_v1_api': 'false'}})
    assert app.request('GET', '/versions').json == versions(v1=False)
    assert app.request('GET', '/v1/images').status_int == 300
    assert app.request('GET', '/v2/schemas/image').status_int == 200


def test_both_apis_disabled_is_refused_at_start(make_app):
    with pytest.raises(RuntimeError, match='enable_v1_api and enable_v2_api'):
        make_app({'DEFAULT': {'enable_v1_api': 'false',
                              'enable_v2_api': 'false'}})
