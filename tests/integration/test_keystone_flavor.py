"""glance_lite in the keystone flavor against a real Keystone (spec §4.1,
§4.4, §11; §19 scenarios 137-139): tokens, tenancy, sharing, admins,
readers, revocation, and python-glanceclient / the glance CLI finding the
image endpoint in the catalog.

Every test here is in one xdist group: the Keystone catalog's image
endpoint is shared and points at this module's server.
"""

import hashlib
import os
import subprocess
import sys

from glanceclient import Client
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import pytest
import requests

from tests import server as test_server

pytestmark = pytest.mark.xdist_group('keystone')

DATA = b'keystone-protected image bytes' * 100
DATA_MD5 = hashlib.md5(DATA).hexdigest()
MINIMAL = {'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'bare'}


@pytest.fixture(scope='module')
def glance(keystone):
    glance_user = keystone.glance
    srv = test_server.Server({
        'paste_deploy': {'flavor': 'keystone'},
        'keystone_authtoken': {
            'www_authenticate_uri': keystone.url,
            'auth_url': keystone.url,
            'auth_type': 'password',
            'username': glance_user.username,
            'password': glance_user.password,
            'project_name': glance_user.project_name,
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
            # Revocation must be seen at once, not after a cache expiry.
            'token_cache_time': -1,
        },
    }).start()
    keystone.set_image_endpoint(srv.url)
    yield srv
    srv.stop()


@pytest.fixture(scope='module')
def tokens(keystone):
    return {name: keystone.token(name)
            for name in ('admin', 'user1', 'user2', 'reader1')}


def _call(glance, method, path, token=None, **kwargs):
    headers = dict(kwargs.pop('headers', {}))
    if token:
        headers['X-Auth-Token'] = token
    return requests.request(method, glance.url + path, headers=headers,
                            **kwargs)


def _create(glance, token, public=False, **headers):
    headers = dict(MINIMAL, **headers)
    headers.setdefault('x-image-meta-name', 'keystone-image')
    headers['Content-Type'] = 'application/octet-stream'
    headers['x-image-meta-is_public'] = str(public)
    response = _call(glance, 'POST', '/v1/images', token, headers=headers,
                     data=DATA)
    assert response.status_code == 201, response.text
    return response.json()['image']


def test_no_token_is_refused_with_www_authenticate(glance, keystone):
    response = _call(glance, 'GET', '/v1/images')
    assert response.status_code == 401
    assert keystone.base_url in response.headers['WWW-Authenticate']


def test_version_documents_and_healthcheck_need_no_token(glance):
    assert _call(glance, 'GET', '/').status_code == 300
    assert _call(glance, 'GET', '/versions').status_code == 200
    assert _call(glance, 'GET', '/healthcheck').status_code == 200


def test_bad_token_is_refused(glance):
    response = _call(glance, 'GET', '/v1/images', 'not-a-token')
    assert response.status_code == 401


def test_image_is_owned_by_the_callers_project(glance, keystone, tokens):
    image = _create(glance, tokens['user1'])
    assert image['owner'] == keystone.user1.project_id


def test_other_tenant_cannot_reach_a_private_image(glance, tokens):
    image = _create(glance, tokens['user1'])
    path = '/v1/images/' + image['id']
    other = tokens['user2']

    assert _call(glance, 'HEAD', path, other).status_code == 404
    assert _call(glance, 'GET', path, other).status_code == 404
    assert _call(glance, 'PUT', path, other,
                 headers={'x-image-meta-name': 'stolen'}).status_code == 404
    assert _call(glance, 'DELETE', path, other).status_code == 404
    assert _call(glance, 'PUT', path + '/members/x',
                 other).status_code == 404
    listed = _call(glance, 'GET', '/v1/images', other).json()['images']
    assert image['id'] not in [i['id'] for i in listed]
    owner_view = _call(glance, 'HEAD', path, tokens['user1'])
    assert owner_view.headers['x-image-meta-name'] == 'keystone-image'
    assert owner_view.headers['x-image-meta-status'] == 'active'


def test_public_image_is_readable_but_not_mutable_by_others(glance,
                                                            tokens):
    image = _create(glance, tokens['admin'], public=True)
    path = '/v1/images/' + image['id']
    other = tokens['user2']

    download = _call(glance, 'GET', path, other)
    assert download.status_code == 200
    assert hashlib.md5(download.content).hexdigest() == DATA_MD5
    listed = _call(glance, 'GET', '/v1/images', other).json()['images']
    assert image['id'] in [i['id'] for i in listed]
    assert _call(glance, 'PUT', path, other,
                 headers={'x-image-meta-name': 'x'}).status_code == 403
    assert _call(glance, 'DELETE', path, other).status_code == 403
    assert _call(glance, 'HEAD', path, other).status_code == 200


def test_members_flow_between_two_tenants(glance, keystone, tokens):
    owner, member = tokens['user1'], tokens['user2']
    tenant2 = keystone.user2.project_id
    image = _create(glance, owner)
    path = '/v1/images/' + image['id']

    added = _call(glance, 'PUT', path + '/members/' + tenant2, owner)
    assert added.status_code == 204
    listed = _call(glance, 'GET', '/v1/images', member).json()['images']
    assert image['id'] in [i['id'] for i in listed]
    assert _call(glance, 'HEAD', path, member).status_code == 200
    download = _call(glance, 'GET', path, member)
    assert hashlib.md5(download.content).hexdigest() == DATA_MD5
    members = _call(glance, 'GET', path + '/members', member).json()
    assert members == {'members': [{'member_id': tenant2,
                                    'can_share': False}]}
    shared = _call(glance, 'GET', '/v1/shared-images/' + tenant2,
                   member).json()
    assert {'image_id': image['id'], 'can_share': False} in (
        shared['shared_images'])
    # A member can read, never change, the image (spec §18 Q1).
    assert _call(glance, 'PUT', path, member,
                 headers={'x-image-meta-name': 'x'}).status_code == 403
    assert _call(glance, 'DELETE', path, member).status_code == 403
    # Without can_share the member cannot manage the member list.
    assert _call(glance, 'PUT', path + '/members/someone',
                 member).status_code == 404

    removed = _call(glance, 'DELETE', path + '/members/' + tenant2, owner)
    assert removed.status_code == 204
    assert _call(glance, 'HEAD', path, member).status_code == 404


def test_admin_sees_every_image(glance, tokens):
    private = _create(glance, tokens['user1'])
    path = '/v1/images/' + private['id']
    assert _call(glance, 'HEAD', path, tokens['admin']).status_code == 200
    listed = _call(glance, 'GET', '/v1/images/detail?is_public=None',
                   tokens['admin']).json()['images']
    assert private['id'] in [i['id'] for i in listed]


def test_reader_can_read_but_not_write(glance, tokens):
    public = _create(glance, tokens['admin'], public=True)
    reader = tokens['reader1']
    assert _call(glance, 'GET', '/v1/images/' + public['id'],
                 reader).status_code == 200
    refused = _call(glance, 'POST', '/v1/images', reader,
                    headers={'x-image-meta-name': 'nope'})
    assert refused.status_code == 403
    own = _create(glance, tokens['user1'])
    assert _call(glance, 'DELETE', '/v1/images/' + own['id'],
                 reader).status_code in (403, 404)
    assert _call(glance, 'HEAD', '/v1/images/' + own['id'],
                 tokens['user1']).status_code == 200


def test_revoked_token_is_refused(glance, keystone, tokens):
    token = keystone.token('user1')
    assert _call(glance, 'GET', '/v1/images', token).status_code == 200

    revoked = requests.delete(keystone.url + '/auth/tokens', headers={
        'X-Auth-Token': tokens['admin'], 'X-Subject-Token': token})
    assert revoked.status_code == 204

    assert _call(glance, 'GET', '/v1/images', token).status_code == 401


def test_request_id_is_taken_from_an_authenticated_caller(glance, tokens):
    response = _call(glance, 'GET', '/v1/images', tokens['user1'],
                     headers={'X-Openstack-Request-ID': 'abc'})
    assert response.headers['x-openstack-request-id'] == 'req-abc'


def _session(keystone, user):
    credentials = keystone.users[user]
    auth = v3.Password(auth_url=keystone.url,
                       username=credentials.username,
                       password=credentials.password,
                       project_name=credentials.project_name,
                       user_domain_name='Default',
                       project_domain_name='Default')
    return ks_session.Session(auth=auth)


def test_glanceclient_finds_the_endpoint_in_the_catalog(glance, keystone,
                                                        tmp_path):
    client = Client('1', session=_session(keystone, 'user1'))
    path = tmp_path / 'image.raw'
    path.write_bytes(DATA)

    with open(path, 'rb') as data:
        image = client.images.create(name='via-catalog', disk_format='raw',
                                     container_format='bare', data=data)
    assert image.status == 'active'
    assert image.checksum == DATA_MD5
    assert image.owner == keystone.user1.project_id
    downloaded = b''.join(client.images.data(image.id))
    assert hashlib.md5(downloaded).hexdigest() == DATA_MD5
    names = [i.name for i in client.images.list()]
    assert 'via-catalog' in names
    client.images.update(image.id, name='renamed')
    assert client.images.get(image.id).name == 'renamed'
    client.images.delete(image.id)

    other = Client('1', session=_session(keystone, 'user2'))
    assert image.id not in [i.id for i in other.images.list()]


def test_glance_cli_with_keystone_credentials(glance, keystone, tmp_path):
    credentials = keystone.user1
    env = dict(os.environ,
               OS_AUTH_URL=keystone.url,
               OS_USERNAME=credentials.username,
               OS_PASSWORD=credentials.password,
               OS_PROJECT_NAME=credentials.project_name,
               OS_USER_DOMAIN_NAME='Default',
               OS_PROJECT_DOMAIN_NAME='Default',
               OS_IDENTITY_API_VERSION='3')
    env.pop('OS_IMAGE_URL', None)
    env.pop('OS_AUTH_TOKEN', None)
    path = tmp_path / 'cli.raw'
    path.write_bytes(DATA)
    glance_cli = os.path.join(os.path.dirname(sys.executable), 'glance')

    def run(*args):
        result = subprocess.run(
            [glance_cli, '--os-image-api-version', '1'] + list(args),
            env=env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        return result.stdout

    created = run('image-create', '--name', 'cli-keystone',
                  '--disk-format', 'raw', '--container-format', 'bare',
                  '--file', str(path))
    assert DATA_MD5 in created
    assert 'cli-keystone' in run('image-list')
    out = tmp_path / 'out.raw'
    run('image-download', '--file', str(out), 'cli-keystone')
    assert hashlib.md5(out.read_bytes()).hexdigest() == DATA_MD5
    run('image-delete', 'cli-keystone')
    assert 'cli-keystone' not in run('image-list')
