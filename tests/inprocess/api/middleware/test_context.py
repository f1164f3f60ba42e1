"""The context middleware (spec §4.1): noauth makes every caller an admin
without owner; trusted-auth reads the identity headers, answers 401 to an
unconfirmed caller (no request id), or makes it anonymous and read-only
when allowed; roles are lower-cased and admin_role makes an admin."""

import pytest

from tests.inprocess import support


def test_noauth_caller_is_an_admin_without_owner(app):
    image = app.create(owner='someone')
    assert image['owner'] == 'someone'  # only admins may set it
    assert app.create()['owner'] is None


@pytest.mark.parametrize('status_header', [None, 'Invalid', 'confirmed',
                                           ''])
def test_unconfirmed_identity_is_401_without_request_id(trusted_app,
                                                        status_header):
    response = trusted_app.request('GET', '/v1/images', {
        'X-Identity-Status': status_header, 'X-Project-Id': 't1'})
    assert response.status_int == 401
    assert 'x-openstack-request-id' not in response.headers


def test_confirmed_caller_owns_what_it_creates(trusted_app):
    response = trusted_app.request('POST', '/v1/images', dict(
        support.MINIMAL, **support.trusted('t1')))
    assert response.status_int == 201
    assert response.json['image']['owner'] == 't1'


@pytest.mark.parametrize('header', ['X-Project-Id', 'X-Tenant-Id',
                                    'X-Tenant'])
def test_project_comes_from_any_of_its_headers(trusted_app, header):
    response = trusted_app.request('POST', '/v1/images', dict(
        support.MINIMAL, **{'X-Identity-Status': 'Confirmed',
                            'X-User-Id': 'u1', 'X-Roles': 'member',
                            header: 'p1'}))
    assert response.json['image']['owner'] == 'p1'


def test_owner_is_the_user_when_owner_is_tenant_is_false(make_app):
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'owner_is_tenant': 'false'}})
    response = app.request('POST', '/v1/images', dict(
        support.MINIMAL, **support.trusted('t1', user='u1')))
    assert response.json['image']['owner'] == 'u1'


@pytest.mark.parametrize('roles', ['admin', 'Admin', ' member , ADMIN '])
def test_admin_role_in_any_case_makes_an_admin(trusted_app, roles):
    response = trusted_app.request('POST', '/v1/images', dict(
        support.MINIMAL, **support.trusted('t1', roles=roles,
                                           **{'x-image-meta-owner': 'x'})))
    assert response.status_int == 201, response.text
    assert response.json['image']['owner'] == 'x'


def test_non_admin_cannot_set_the_owner(trusted_app):
    response = trusted_app.request('POST', '/v1/images', dict(
        support.MINIMAL, **support.trusted('t1', **{
            'x-image-meta-owner': 'x'})))
    assert response.status_int == 201
    assert response.json['image']['owner'] == 't1'


def test_configured_admin_role_makes_an_admin(make_app):
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'admin_role': 'superuser'}})
    private = app.create(headers=support.trusted('t1'))
    response = app.request('HEAD', '/v1/images/' + private['id'],
                           support.trusted('t2', roles='SuperUser'))
    assert response.status_int == 200
    response = app.request('HEAD', '/v1/images/' + private['id'],
                           support.trusted('t2'))
    assert response.status_int == 404


@pytest.fixture
def anonymous_app(make_app):
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                     'DEFAULT': {'allow_anonymous_access': 'true'}})


def test_anonymous_caller_reads_public_images_only(anonymous_app):
    public = anonymous_app.create(headers=support.ADMIN, is_public='True')
    anonymous_app.create(headers=support.trusted('t1'))
    response = anonymous_app.request('GET', '/v1/images')
    assert response.status_int == 200
    assert [i['id'] for i in response.json['images']] == [public['id']]


@pytest.mark.parametrize('method, path', [
    ('POST', '/v1/images'), ('PUT', '/v1/images/IMAGE'),
    ('DELETE', '/v1/images/IMAGE'), ('PUT', '/v1/images/IMAGE/members/m'),
    ('PUT', '/v1/images/IMAGE/members'),
    ('DELETE', '/v1/images/IMAGE/members/m')])
def test_anonymous_caller_is_read_only(anonymous_app, method, path):
    public = anonymous_app.create(headers=support.ADMIN, is_public='True')
    response = anonymous_app.request(
        method, path.replace('IMAGE', public['id']), support.MINIMAL,
        body={'memberships': []} if path.endswith('members') else None)
    assert response.status_int == 403
    assert 'Read-only access' in response.text


def test_too_many_header_lines_is_431(make_app):
    app = make_app({'DEFAULT': {'max_request_header_fields': '20'}})
    headers = {'X-Extra-%d' % n: 'v' for n in range(25)}
    response = app.request('GET', '/v1/images', headers)
    assert response.status_int == 431
    assert 'Too many request headers' in response.text
    assert app.request('GET', '/v1/images', {
        'X-Extra-%d' % n: 'v' for n in range(5)}).status_int == 200
