"""The ``keystone`` fixture serves a real, seeded Keystone: tokens of the
seeded users validate with the glance service token, carry the image
endpoint in their catalog, and stop validating once revoked."""

import pytest
import requests

from tests import keystone as ks_mod

# test_catalog_has_image_endpoint repoints the shared catalog entry.
pytestmark = pytest.mark.xdist_group('keystone')


def _validate(keystone, subject_token):
    return requests.get(
        keystone.url + '/auth/tokens',
        headers={'X-Auth-Token': keystone.token('glance'),
                 'X-Subject-Token': subject_token},
        timeout=30)


def test_user_token_validates_with_service_token(keystone):
    token = keystone.token('user1', keystone.user1.password, 'tenant1')

    resp = _validate(keystone, token)

    assert resp.status_code == 200, resp.text
    body = resp.json()['token']
    assert body['project']['name'] == 'tenant1'
    assert body['project']['id'] == keystone.user1.project_id
    assert body['user']['id'] == keystone.user1.user_id
    assert 'member' in [role['name'] for role in body['roles']]


def test_seeded_accounts(keystone):
    assert keystone.url == keystone.base_url + '/v3'
    assert keystone.base_url.startswith('http://127.0.0.1:')
    expected = {'user2': ('tenant2', 'member'),
                'reader1': ('tenant1', 'reader'),
                'glance': ('service', 'admin')}
    for user, (project, role) in expected.items():
        _token, body = keystone.authenticate(user)
        assert body['project']['name'] == project
        assert role in [r['name'] for r in body['roles']]
    _token, body = keystone.authenticate('reader1')
    assert 'member' not in [r['name'] for r in body['roles']]
    assert 'admin' not in [r['name'] for r in body['roles']]


def test_user_cannot_scope_to_another_tenant(keystone):
    resp = requests.post(keystone.url + '/auth/tokens', json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'user1', 'domain': {'name': 'Default'},
            'password': keystone.user1.password}}},
        'scope': {'project': {'name': 'tenant2',
                              'domain': {'name': 'Default'}}}}},
        timeout=30)

    assert resp.status_code == 401


def test_catalog_has_image_endpoint(keystone):
    url = 'http://127.0.0.1:9/glance-lite-under-test'
    keystone.set_image_endpoint(url)

    _token, body = keystone.authenticate('user1')

    image = [s for s in body['catalog'] if s['type'] == 'image']
    assert len(image) == 1
    public = [e for e in image[0]['endpoints'] if e['interface'] == 'public']
    assert [(e['url'], e['region']) for e in public] == [
        (url, ks_mod.REGION)]


def test_revoked_token_no_longer_validates(keystone):
    token = keystone.token('user2')
    assert _validate(keystone, token).status_code == 200

    resp = requests.delete(
        keystone.url + '/auth/tokens',
        headers={'X-Auth-Token': keystone.token('glance'),
                 'X-Subject-Token': token},
        timeout=30)
    assert resp.status_code == 204

    assert _validate(keystone, token).status_code == 404
