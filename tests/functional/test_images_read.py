"""HEAD and GET /v1/images/{id} against a real server (spec §8, scenarios
§19 57-67).

Scenarios 62 and 67, and the policy half of 63, need a policy file
overriding get_image/download_image and are not covered here.
"""

import hashlib
import http.client
import json
import os
import urllib.parse

import pytest
import requests

from tests.functional import images_support as s
from tests import server as test_server

# The second life of a server whose operator dropped the http store and
# turned on the options that, in Glance v2, reveal store locations.
RESTART_CONFIG = {
    'glance_store': {'stores': 'file'},
    'DEFAULT': {'show_image_direct_url': 'true',
                'show_multiple_locations': 'true'},
}


@pytest.fixture(scope='module')
def source():
    src = s.HttpSource()
    yield src
    src.close()


@pytest.fixture(scope='module')
def servers(request):
    """default, and to_restart (below); see images_support."""
    return s.shared_servers(request)


@pytest.fixture(scope='module')
def api(servers):
    """A glance-lite-api on embedded defaults, shared by the image tests."""
    return servers['default']


@pytest.fixture(scope='module')
def restarted(servers, source):
    """A server that stored an uploaded image and an http-location image,
    then came back with only the file store loaded (RESTART_CONFIG).

    :returns: (server, {'upload': image, 'location': image}).
    """
    first = servers['to_restart']
    images = {
        'upload': s.upload(first),
        'location': s.upload(first, None, {
            'x-image-meta-location': source.add('/kept', b'remote'),
            'x-image-meta-disk_format': 'raw',
            'x-image-meta-container_format': 'bare'}),
    }
    first.stop(remove=False)
    second = test_server.Server(RESTART_CONFIG,
                                workdir=first.workdir).start()
    yield second, images
    second.stop()


def _set_status_in_catalogue(api, image_id, status):
    """Change an image's status the way a v2 deactivate would: v1 has no
    call for it, so write the shared catalogue directly."""
    changed = api.execute_sql(
        'UPDATE images SET status = :status WHERE id = :id',
        {'status': status, 'id': image_id})
    assert changed == 1


def _image_headers(response):
    return {k.lower(): v for k, v in response.headers.items()
            if k.lower().startswith('x-image-meta-')}


# 57


def test_head_shows_the_image_as_headers(api):
    image = s.upload(api)

    response = s.head(api, image['id'])

    assert response.status_code == 200
    headers = response.headers
    assert headers['x-image-meta-id'] == image['id']
    assert headers['x-image-meta-name'] == 'Image1'
    assert headers['x-image-meta-is_public'] == 'True'
    assert headers['x-image-meta-status'] == 'active'
    assert headers['x-image-meta-disk_format'] == 'raw'
    assert headers['x-image-meta-container_format'] == 'ovf'
    assert headers['x-image-meta-size'] == '5120'
    assert headers['x-image-meta-checksum'] == s.FIVE_KB_MD5
    assert headers['x-image-meta-deleted'] == 'False'
    assert headers['x-image-meta-protected'] == 'False'
    assert headers['ETag'] == s.FIVE_KB_MD5
    assert response.content == b''


def test_head_never_shows_a_storage_location(api):
    image = s.upload(api)

    response = s.head(api, image['id'])

    s.assert_no_storage_location(response)
    assert 'x-image-meta-direct_url' not in response.headers


def test_head_announces_no_body_length(api):
    image = s.upload(api)

    response = s.head(api, image['id'])

    if api.kind == 'apache':
        # httpd's HTTP header filter removes "Content-Length: 0" from every
        # HEAD answer, whatever the application sent (docs/deployment.md):
        # behind Apache no length at all, never a wrong one.
        assert 'Content-Length' not in response.headers
    else:
        assert response.headers['Content-Length'] == '0'


def test_head_leaves_out_null_attributes(api):
    image = s.reserve(api, {'X-Image-Meta-Name': 'no checksum yet'})

    headers = _image_headers(s.head(api, image['id']))

    assert 'x-image-meta-checksum' not in headers
    assert 'x-image-meta-owner' not in headers
    assert 'x-image-meta-deleted_at' not in headers
    assert 'x-image-meta-disk_format' not in headers


def test_head_never_shows_a_location_even_with_direct_url_options(
        restarted):
    api, images = restarted

    response = s.head(api, images['upload']['id'])

    assert response.status_code == 200
    s.assert_no_storage_location(response)
    assert 'x-image-meta-direct_url' not in response.headers


# 58


def test_get_streams_the_uploaded_bytes_with_the_metadata_headers(api):
    image = s.upload(api)
    meta = _image_headers(s.head(api, image['id']))

    response = s.get(api, image['id'])

    assert response.status_code == 200
    assert response.headers['content-type'] == 'application/octet-stream'
    assert response.headers['content-length'] == '5120'
    assert response.headers['ETag'] == s.FIVE_KB_MD5
    assert _image_headers(response) == meta
    assert hashlib.md5(response.content).hexdigest() == s.FIVE_KB_MD5
    s.assert_no_storage_location(response)


def test_get_sends_multi_block_data_whole_on_a_kept_alive_connection(api):
    # Bigger than any read or send block: the server sends the store's
    # file itself (sendfile). The same connection then carries the next
    # requests, and the request log still counts what was sent.
    data = os.urandom(3 * 1024 * 1024 + 17)
    image = s.upload(api, data=data)
    url = urllib.parse.urlsplit(s.image_url(api, image['id']))
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        for _ in range(2):
            conn.request('GET', url.path)
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader('Content-Length') == str(len(data))
            assert response.read() == data
        request_id = response.getheader('x-openstack-request-id')
        conn.request('HEAD', url.path)
        head = conn.getresponse()
        head.read()
        assert head.status == 200
        assert head.getheader('x-image-meta-size') == str(len(data))
    finally:
        conn.close()
    logged = [line for line in api.log().splitlines()
              if line.endswith('request_id ' + request_id)]
    assert any('GET %s status 200 in 0 B out %d B ' % (url.path, len(data))
               in line for line in logged), logged


# 59


def test_get_of_a_queued_image_is_not_found(api):
    image = s.reserve(api)

    response = s.get(api, image['id'])

    assert response.status_code == 404
    assert 'Image %s is not active' % image['id'] in s.message(response)


def test_head_of_a_queued_image_shows_it_queued_and_empty(api):
    image = s.reserve(api)

    response = s.head(api, image['id'])

    assert response.status_code == 200
    assert response.headers['x-image-meta-status'] == 'queued'
    assert response.headers['x-image-meta-size'] == '0'


def test_head_of_a_killed_image_shows_it_killed(api):
    image_id = s.new_id()
    headers = dict(s.minimal_headers(), **{
        'x-image-meta-size': '3', 'X-Image-Meta-Id': image_id})
    assert s.post(api, headers, b'four').status_code == 400

    response = s.head(api, image_id)

    assert response.status_code == 200
    assert response.headers['x-image-meta-status'] == 'killed'
    assert s.get(api, image_id).status_code == 404


# 60


def test_get_of_a_deactivated_image_is_forbidden(api):
    image = s.upload(api)
    _set_status_in_catalogue(api, image['id'], 'deactivated')

    response = s.get(api, image['id'])

    assert response.status_code == 403
    assert 'Image %s is deactivated' % image['id'] in s.message(response)
    meta = s.head(api, image['id'])
    assert meta.status_code == 200
    assert meta.headers['x-image-meta-status'] == 'deactivated'


# 61


@pytest.mark.parametrize('method', ['GET', 'HEAD'])
@pytest.mark.parametrize('image_id', ['2f81f5a6-4a8e-4e2b-a0a5-5d8b0c7a1f00',
                                      '1'])
def test_unknown_image_is_not_found(api, method, image_id):
    response = requests.request(method, s.image_url(api, image_id))

    assert response.status_code == 404


# 63


def test_get_of_a_deleted_image_is_not_found(api):
    image = s.upload(api)
    assert s.delete(api, image['id']).status_code == 200

    response = s.get(api, image['id'])

    assert response.status_code == 404


# 64


def test_image_whose_data_vanished_from_the_store(api):
    image = s.upload(api)
    os.remove(os.path.join(api.datadir, image['id']))

    assert s.head(api, image['id']).status_code == 200
    response = s.get(api, image['id'])
    assert response.status_code == 404
    s.assert_no_storage_location(response, api)


def test_location_image_whose_remote_object_is_gone_is_not_found(
        api, source):
    image = s.upload(api, None, {
        'x-image-meta-location': source.add('/will-vanish', b'abc'),
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'})
    del source.objects['/will-vanish']

    response = s.get(api, image['id'])

    assert response.status_code == 404


def test_location_image_whose_remote_server_is_down_is_unavailable(api):
    remote = s.HttpSource()
    image = s.upload(api, None, {
        'x-image-meta-location': remote.add('/down', b'abc'),
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'})
    remote.close()

    response = s.get(api, image['id'])

    assert response.status_code == 503


# 65


def test_get_from_a_store_that_is_no_longer_loaded_is_a_bad_request(
        restarted):
    api, images = restarted

    response = s.get(api, images['location']['id'])

    assert response.status_code == 400
    assert s.head(api, images['location']['id']).status_code == 200


def test_get_after_restart_still_serves_uploaded_data(restarted):
    api, images = restarted

    response = s.get(api, images['upload']['id'])

    assert response.status_code == 200
    assert response.content == s.FIVE_KB


# 66


NAME = 'fake image #2 with utf-8 éàè'
PROP_KEY = 'prop_éé'
PROP_VALUE = 'ça marche'


def _raw_head(api, image_id):
    answer = s.send_raw(api, '\r\n'.join([
        'HEAD /v1/images/%s HTTP/1.1' % image_id,
        'Host: %s' % api.url.split('//')[1], 'Connection: close']), [])
    assert s.raw_status(answer) == 200
    return s.raw_headers(answer)


def test_head_returns_utf8_name_and_property_sent_as_raw_utf8(api):
    # What older clients send: header bytes as UTF-8.
    answer = s.send_raw(api, s.utf8_head_line('\r\n'.join([
        'POST /v1/images HTTP/1.1',
        'Host: %s' % api.url.split('//')[1],
        'Connection: close',
        'x-image-meta-name: %s' % NAME,
        'x-image-meta-property-%s: %s' % (PROP_KEY, PROP_VALUE)])), [])
    assert s.raw_status(answer) == 201
    image = json.loads(answer.split(b'\r\n\r\n', 1)[1])['image']
    assert image['name'] == NAME
    assert image['properties'] == {PROP_KEY: PROP_VALUE}

    headers = _raw_head(api, image['id'])

    assert headers['x-image-meta-name'] == NAME
    assert headers['x-image-meta-property-' + PROP_KEY] == PROP_VALUE


def test_head_returns_utf8_name_and_property_sent_percent_encoded(api):
    # What python-glanceclient sends since 2018 (spec §5.2 rule 8).
    response = s.post(api, {
        'x-image-meta-name': 'fake%20image%20%232%20with%20utf-8%20'
                             '%C3%A9%C3%A0%C3%A8',
        'x-image-meta-property-prop_%C3%A9%C3%A9': '%C3%A7a%20marche'})
    assert response.status_code == 201
    assert response.json()['image']['name'] == NAME

    headers = _raw_head(api, response.json()['image']['id'])

    assert headers['x-image-meta-name'] == NAME
    assert headers['x-image-meta-property-' + PROP_KEY] == PROP_VALUE


def test_a_client_can_go_on_after_an_answer_with_a_non_ascii_name(api):
    """python-glanceclient's image-update: HEAD the image, then PUT on the
    same connection. http.client stops reading headers at a non-ASCII
    name: whatever the front says about the connection must come before
    it, and a connection the client was not told is closing must serve
    the next request."""
    response = s.post(api, {'x-image-meta-property-prop_%C3%A9%C3%A9': 'x'})
    assert response.status_code == 201
    image_id = response.json()['image']['id']
    address = urllib.parse.urlsplit(api.url)
    connection = http.client.HTTPConnection(address.hostname, address.port,
                                            timeout=10)
    try:
        connection.request('HEAD', '/v1/images/' + image_id)
        head = connection.getresponse()
        head.read()
        assert head.status == 200
        if head.will_close:
            connection.close()  # the client opens a new one, as told
        connection.request('PUT', '/v1/images/' + image_id,
                           headers={'x-image-meta-name': 'next'})
        put = connection.getresponse()
        assert (put.status, json.loads(put.read())['image']['name']) == (
            200, 'next')
    finally:
        connection.close()


# Malformed ids are client errors, never 500 (spec §12.3, §18 Q25)


@pytest.mark.parametrize('method', ['GET', 'HEAD', 'PUT', 'DELETE'])
@pytest.mark.parametrize('image_id', ['%E9', '%00', 'x' * 300, '%FF%FE',
                                      "1'%20OR%20'1'='1"])
def test_malformed_image_id_never_causes_a_server_error(api, method,
                                                        image_id):
    response = requests.request(method, s.image_url(api, image_id))

    assert 400 <= response.status_code < 500
