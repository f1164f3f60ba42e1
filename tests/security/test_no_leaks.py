"""Store URIs and credentials never appear in an answer (headers or body)
or in a log line, debug logging included, whatever the request does:
create, upload, download, list, copy-from, delete, and their errors."""

import os
import time

import pytest
import requests

from tests.security import support
from tests import server as test_server

PASSWORD = 'Pa55-leak-canary'


@pytest.fixture(scope='module')
def debug_api():
    srv = test_server.Server({'DEFAULT': {'debug': 'true'}}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope='module')
def remote():
    srv = support.RecordingServer('127.0.0.1')
    yield srv
    srv.close()


def _secret_url(remote, path, data=None):
    if data is not None:
        remote.add(path, data)
    return 'http://bob:%s@127.0.0.1:%d%s' % (PASSWORD, remote.port, path)


def _wait_until_settled(api, image_id):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = requests.head('%s/v1/images/%s' % (api.url, image_id),
                               timeout=30).headers['x-image-meta-status']
        if status not in ('queued', 'saving'):
            return status
        time.sleep(0.1)
    return status


def _forbidden_strings(api, image_ids):
    """What must never be shown: the password, and the file store's URIs
    and the paths of its files (its directory itself is configuration,
    logged at start-up with debug on)."""
    return [PASSWORD, 'file://'] + [os.path.join(api.datadir, image_id)
                                    for image_id in image_ids]


def test_no_store_uri_or_credential_leaks_anywhere(debug_api, remote):
    api = debug_api
    answers = []

    def call(method, path, **kwargs):
        response = requests.request(method, api.url + path, timeout=30,
                                    **kwargs)
        answers.append(response)
        return response

    # Upload, download, list, HEAD, delete: the file store's URIs.
    uploaded = call('POST', '/v1/images', data=b'bytes in the file store',
                    headers=support.image_headers(**{
                        'Content-Type': 'application/octet-stream'}))
    assert uploaded.status_code == 201
    uploaded_id = uploaded.json()['image']['id']
    call('GET', '/v1/images/' + uploaded_id)
    call('HEAD', '/v1/images/' + uploaded_id)
    call('GET', '/v1/images/detail')
    call('PUT', '/v1/images/' + uploaded_id,
         headers={'x-image-meta-name': 'renamed'})
    # A second upload to an active image: a conflict.
    call('PUT', '/v1/images/' + uploaded_id, data=b'more',
         headers={'Content-Type': 'application/octet-stream'})

    # A location with credentials, read through the service.
    location = call('POST', '/v1/images', headers=support.image_headers(**{
        'x-image-meta-location': _secret_url(remote, '/loc', b'remote')}))
    assert location.status_code == 201, location.text
    location_id = location.json()['image']['id']
    assert call('GET', '/v1/images/' + location_id).content == b'remote'
    call('HEAD', '/v1/images/' + location_id)

    # Copy-from with credentials, then its image read back.
    copied = call('POST', '/v1/images', headers=support.image_headers(**{
        'x-glance-api-copy-from': _secret_url(remote, '/copy', b'copied')}))
    assert copied.status_code == 201, copied.text
    copied_id = copied.json()['image']['id']
    assert _wait_until_settled(api, copied_id) == 'active'
    call('GET', '/v1/images/' + copied_id)

    # Errors around sources with credentials.
    for headers in (
            {'x-image-meta-location': _secret_url(remote, '/missing')},
            {'x-glance-api-copy-from': _secret_url(remote, '/missing')},
            {'x-image-meta-location':
                'http://bob:%s@127.0.0.1:1/unreachable' % PASSWORD},
            {'x-image-meta-location':
                'http://bob:%s@127.0.0.1:99999/bad-port' % PASSWORD},
            {'x-image-meta-location': 'ftp://bob:%s@10.0.0.1/x' % PASSWORD},
            {'x-image-meta-location':
                'http://bob:%s@10.0.0.1/private' % PASSWORD},
            {'x-image-meta-location': 'http://bob:%s@[::1' % PASSWORD},
            {'x-glance-api-copy-from':
                'http://bob:%s@127.0.0.1:1/x' % PASSWORD}):
        refused = call('POST', '/v1/images',
                       headers=support.image_headers(**headers))
        assert 400 <= refused.status_code < 500, refused.text

    # A copy whose source answers the size probe but redirects its GET to
    # nothing: the background copy fails and logs why.
    remote.redirect('/vanishing', _secret_url(remote, '/nothing'),
                    get_only=True)
    failing = call('POST', '/v1/images', headers=support.image_headers(**{
        'x-glance-api-copy-from': _secret_url(remote, '/vanishing', b'x')}))
    assert _wait_until_settled(api, failing.json()['image']['id']) == (
        'killed')

    for image_id in (uploaded_id, location_id, copied_id):
        assert call('DELETE', '/v1/images/' + image_id).status_code == 200
    call('GET', '/v1/images/' + uploaded_id)

    log = api.log()
    assert 'DEBUG' in log  # the check below covers debug lines too
    for forbidden in _forbidden_strings(api, [uploaded_id, copied_id]):
        for response in answers:
            shown = str(response.headers) + response.text
            assert forbidden not in shown, (response.request.method,
                                            response.url, forbidden)
        leaking = [line for line in log.splitlines() if forbidden in line]
        assert leaking == [], forbidden
