"""trusted-auth: identity headers spelled with underscores (``X_Roles``)
reach the WSGI environ under the same key as the dashed ones, so a proxy
that strips only ``X-Roles`` would let a client choose its roles. The
standalone server drops underscore headers (but the ``x-image-meta-*``
ones python-glanceclient sends)."""

import pytest
import requests

from tests import server as test_server


@pytest.fixture(scope='module')
def trusted():
    srv = test_server.Server(
        {'paste_deploy': {'flavor': 'trusted-auth'}}).start()
    yield srv
    srv.stop()


def _create(api, headers):
    base = {'X-Identity-Status': 'Confirmed', 'X-Tenant-Id': 'tenant-a',
            'X-User-Id': 'user-a', 'X-Roles': 'member',
            'x-image-meta-name': 'spoof',
            'x-image-meta-disk_format': 'raw',
            'x-image-meta-container_format': 'bare',
            'x-image-meta-owner': 'someone-else'}
    base.update(headers)
    base = {name: value for name, value in base.items() if value is not None}
    return requests.post(api.url + '/v1/images', headers=base, timeout=30)


def test_dashed_admin_role_is_honoured(trusted):
    """The control: an admin (by X-Roles) may give the image another
    owner."""
    response = _create(trusted, {'X-Roles': 'admin'})

    assert response.status_code == 201, response.text
    assert response.json()['image']['owner'] == 'someone-else'


@pytest.mark.parametrize('spoof', [
    {'X-Roles': None, 'X_Roles': 'admin'},
    {'X-Roles': None, 'X_ROLES': 'admin'},
    {'X-Roles': 'member', 'X_Roles': 'admin'},
])
def test_underscore_identity_headers_are_ignored(trusted, spoof):
    response = _create(trusted, spoof)

    assert response.status_code == 201, response.text
    image = response.json()['image']
    # Not an admin: the owner is the caller's own project.
    assert image['owner'] == 'tenant-a'
    # The underscore image headers still count.
    assert (image['disk_format'], image['container_format']) == (
        'raw', 'bare')


def test_underscore_tenant_is_ignored(trusted):
    response = _create(trusted, {'X-Tenant-Id': None,
                                 'X_Tenant_Id': 'tenant-b'})

    assert response.status_code == 201, response.text
    # No project reached the service: the image has no owner.
    assert response.json()['image']['owner'] is None
