"""The x-image-meta-* header codec through the paste app (spec §5.2, §5.3,
§7.6): what a client sends in headers comes back in HEAD's headers and in
the JSON answers; bad headers are 400; purge-props replaces or merges."""

import pytest

from glance_lite.api import image_headers
from tests.inprocess import support


def head(app, image_id):
    response = app.request('HEAD', '/v1/images/' + image_id)
    assert response.status_int == 200
    return response.headers


def test_sent_headers_come_back_from_head(app):
    sent = dict(support.MINIMAL, **{
        'x-image-meta-min_disk': '5', 'x-image-meta-min_ram': '256',
        'x-image-meta-protected': 'True', 'x-image-meta-is_public': 'yes',
        'x-image-meta-property-os_distro': 'cirros',
        'X-Image-Meta-Property-Hw-Disk-Bus': 'virtio'})
    created = app.request('POST', '/v1/images', sent).json['image']
    headers = head(app, created['id'])
    assert headers['x-image-meta-name'] == 'cirros'
    assert headers['x-image-meta-disk_format'] == 'raw'
    assert headers['x-image-meta-min_disk'] == '5'
    assert headers['x-image-meta-min_ram'] == '256'
    assert headers['x-image-meta-protected'] == 'True'
    assert headers['x-image-meta-is_public'] == 'True'
    assert headers['x-image-meta-property-os_distro'] == 'cirros'
    assert headers['x-image-meta-property-hw_disk_bus'] == 'virtio'
    assert created['properties'] == {'os_distro': 'cirros',
                                     'hw_disk_bus': 'virtio'}


def test_head_headers_parse_back_to_the_same_image(app):
    image = app.create(data=b'abc', properties={'k': 'v'}, min_ram=64)
    headers = head(app, image['id'])
    parsed = image_headers.parse_request(
        {k: v for k, v in headers.items() if k.startswith('x-image-meta-')})
    assert parsed.properties == {'k': 'v'}
    assert parsed.core['id'] == image['id']
    assert parsed.core['size'] == 3
    assert parsed.core['min_ram'] == 64
    assert parsed.core['checksum'] == headers['ETag']
    assert parsed.core['status'] == 'active'
    assert parsed.core['is_public'] is False


def test_location_never_appears(app):
    image = app.create(data=b'abc')
    headers = head(app, image['id'])
    assert not [k for k in headers if 'location' in k.lower()]
    response = app.request('GET', '/v1/images/detail?is_public=None')
    assert 'location' not in response.text


def test_percent_encoded_utf8_is_decoded_and_sent_back_as_utf8(app):
    image = app.request('POST', '/v1/images', dict(
        support.MINIMAL, **{'x-image-meta-name': 'caf%C3%A9',
                            'x-image-meta-property-caf%C3%A9': 'th%C3%A9'}
    )).json['image']
    assert image['name'] == 'caf\xe9'
    assert image['properties'] == {'caf\xe9': 'th\xe9'}
    headers = head(app, image['id'])
    # UTF-8 bytes carried in the latin-1 str of WSGI.
    assert headers['x-image-meta-name'].encode('latin-1').decode(
        'utf-8') == 'caf\xe9'


@pytest.mark.parametrize('headers, fragment', [
    ({'x-image-meta-foo': 'x'}, 'Bad header'),
    ({'X-Image-Meta-Locations': 'x'}, 'Bad header'),
    ({'x-image-meta-property-': 'x'}, 'Bad header'),
    ({'x-image-meta-name': '%FF'}, 'not valid UTF-8'),
    ({'x-image-meta-name': '%F0%9F%98%80'}, '4 byte unicode'),
    ({'x-image-meta-name': 'a%00b'}, 'NUL'),
    ({'x-image-meta-name': 'n' * 256}, 'Image name too long'),
    ({'x-image-meta-size': '1.5'}, 'Cannot convert image size'),
    ({'x-image-meta-min_disk': '4294967296'}, 'out of range'),
])
@pytest.mark.parametrize('method', ['POST', 'PUT'])
def test_bad_headers_are_400(app, headers, fragment, method):
    path = '/v1/images'
    if method == 'PUT':
        path += '/' + app.create()['id']
    response = app.request(method, path, dict(support.MINIMAL, **headers))
    assert response.status_int == 400, response.text
    assert fragment in response.text
    assert 'x-openstack-request-id' in response.headers


@pytest.mark.parametrize('purge, expected', [
    (None, {'c': '3'}),
    ('true', {'c': '3'}),
    ('false', {'a': '1', 'b': '2', 'c': '3'}),
    ('False', {'a': '1', 'b': '2', 'c': '3'}),
    ('foo', {'a': '1', 'b': '2', 'c': '3'}),
])
def test_purge_props_replaces_or_merges(app, purge, expected):
    image = app.create(properties={'a': '1', 'b': '2'})
    headers = {'x-image-meta-property-c': '3'}
    if purge is not None:
        headers['x-glance-registry-purge-props'] = purge
    response = app.request('PUT', '/v1/images/' + image['id'], headers)
    assert response.status_int == 200
    assert response.json['image']['properties'] == expected


def test_upload_never_purges(app):
    image = app.create(properties={'a': '1'})
    response = app.request('PUT', '/v1/images/' + image['id'], dict(
        support.OCTETS, **{'x-image-meta-property-b': '2'}), b'data')
    assert response.status_int == 200
    assert response.json['image']['properties'] == {'a': '1', 'b': '2'}


def test_empty_property_value_makes_it_null(app):
    image = app.create(properties={'a': '1', 'b': '2'})
    response = app.request('PUT', '/v1/images/' + image['id'], {
        'x-glance-registry-purge-props': 'false',
        'x-image-meta-property-a': ''})
    assert response.json['image']['properties'] == {'a': None, 'b': '2'}
    # Null properties are left out of the headers.
    headers = head(app, image['id'])
    assert 'x-image-meta-property-a' not in headers
    assert headers['x-image-meta-property-b'] == '2'
