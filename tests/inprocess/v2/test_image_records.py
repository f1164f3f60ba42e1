"""v2 image records through the paste app (v2 spec §7, §8, §10, §11):
create, show, JSON-patch updates and delete, as the owner, another
project, a reader and an admin in the trusted-auth flavor, and images
written through v1 read through v2 (v2 spec §21)."""

import json

import pytest

from glance_lite.db import api as db_api
from tests.inprocess import support

T1 = support.trusted('T1')
T2 = support.trusted('T2')
READER = support.trusted('T1', roles='reader')
ADMIN = support.ADMIN
PATCH = 'application/openstack-images-v2.1-json-patch'
JSON = {'Accept': 'application/json'}


@pytest.fixture
def app(make_app):
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'}})


def create(app, headers=T1, **body):
    response = app.request('POST', '/v2/images', dict(headers, **JSON), body)
    assert response.status_int == 201, response.text
    return response


def patch(app, image_id, operations, headers=T1):
    return app.request('PATCH', '/v2/images/' + image_id, dict(
        headers, **{'Content-Type': PATCH, 'Accept': 'application/json'}),
        json.dumps(operations).encode('utf-8'))


def show(app, image_id, headers=T1):
    return app.request('GET', '/v2/images/' + image_id, dict(headers, **JSON))


def test_create_defaults_and_location(app):
    response = create(app, name='Ubuntu', disk_format='raw',
                      container_format='bare', tags=['lts', 'lts', 'x'],
                      os_distro='ubuntu')
    image = response.json
    assert response.location == 'http://localhost/v2/images/' + image['id']
    assert 'OpenStack-image-import-methods' not in response.headers
    assert image['status'] == 'queued'
    assert image['visibility'] == 'shared'
    assert image['owner'] == 'T1'
    assert image['tags'] == ['lts', 'x']
    assert image['os_distro'] == 'ubuntu'
    for key in ('size', 'virtual_size', 'checksum', 'os_hash_algo',
                'os_hash_value'):
        assert image[key] is None, key
    assert (image['protected'], image['os_hidden']) == (False, False)
    assert image['self'] == '/v2/images/' + image['id']
    assert image['file'] == '/v2/images/%s/file' % image['id']
    assert image['schema'] == '/v2/schemas/image'
    assert image['created_at'].endswith('Z') and len(
        image['created_at']) == 20
    assert 'locations' not in image and 'direct_url' not in image
    assert show(app, image['id']).json == image


@pytest.mark.parametrize('body, status, message', [
    ({'self': 'x'}, 403, "Attribute 'self' is read-only."),
    ({'size': 5}, 403, "Attribute 'size' is read-only."),
    ({'size': 'x'}, 400, "Provided object does not match schema 'image'"),
    ({'location': 'x'}, 403, "Attribute 'location' is reserved."),
    ({'os_glance_x': 'x'}, 403, "Attribute 'os_glance_x' is reserved."),
    ({'k': 5}, 400, "Provided object does not match schema 'image'"),
    ({'min_ram': -1}, 400, "Cannot be a negative value"),
    ({'visibility': 'public'}, 403,
     'You are not authorized to complete publicize_image action.'),
    ({'owner': 'T2'}, 403,
     "You are not permitted to create images owned by 'T2'."),
])
def test_create_refusals_store_nothing(app, body, status, message):
    response = app.request('POST', '/v2/images', dict(T1, **JSON), body)
    assert response.status_int == status, response.text
    assert message in response.json['message']
    listed = app.request('GET', '/v2/images', dict(T1, **JSON))
    assert listed.json['images'] == []


def test_create_with_a_used_id_is_a_conflict(app):
    image = create(app).json
    db_api.image_destroy(image['id'], 'deleted', 'queued')
    response = app.request('POST', '/v2/images', dict(T1, **JSON),
                           {'id': image['id']})
    assert response.status_int == 409
    assert 'Image ID %s already exists!' % image['id'] in response.text


def test_reader_and_anonymous_may_not_create(app, make_app):
    assert app.request('POST', '/v2/images', READER, {}).status_int == 403
    anonymous = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                          'DEFAULT': {'allow_anonymous_access': 'true'}})
    response = anonymous.request('POST', '/v2/images', JSON, {})
    assert response.status_int == 403
    assert 'Read-only access' in response.json['message']


def test_visibility_decides_who_sees_an_image(app):
    private = create(app, visibility='private').json['id']
    shared = create(app).json['id']
    community = create(app, visibility='community').json['id']
    assert show(app, private, T2).status_int == 404
    assert show(app, shared, T2).status_int == 404
    assert show(app, community, T2).status_int == 200
    assert show(app, private, ADMIN).status_int == 200
    db_api.member_add(shared, 'T2')
    assert show(app, shared, T2).status_int == 200


def test_patch_applies_every_operation_or_none(app):
    image_id = create(app, name='a', os_distro='x').json['id']
    response = patch(app, image_id, [
        {'op': 'replace', 'path': '/name', 'value': 'b'},
        {'op': 'add', 'path': '/k', 'value': 'v'},
        {'op': 'remove', 'path': '/os_distro'},
        {'op': 'replace', 'path': '/tags', 'value': ['t', 't', 'u']}])
    assert response.status_int == 200, response.text
    image = response.json
    assert (image['name'], image['k']) == ('b', 'v')
    assert image['tags'] == ['t', 'u']
    assert 'os_distro' not in image
    before = show(app, image_id).json
    response = patch(app, image_id, [
        {'op': 'replace', 'path': '/name', 'value': 'c'},
        {'op': 'replace', 'path': '/missing', 'value': 'v'}])
    assert response.status_int == 409
    assert 'Property missing does not exist.' in response.json['message']
    assert show(app, image_id).json == before


@pytest.mark.parametrize('operations, status, message', [
    ([{'op': 'remove', 'path': '/name'}], 403,
     'Property name may not be removed.'),
    ([{'op': 'replace', 'path': '/owner', 'value': 'T2'}], 403,
     "Owner can't be updated by non admin."),
    ([{'op': 'add', 'path': '/owner', 'value': 'T2'}], 403,
     "Owner can't be updated by non admin."),
    ([{'op': 'replace', 'path': '/status', 'value': 'active'}], 403,
     "Attribute 'status' is read-only."),
    ([{'op': 'move', 'path': '/name'}], 400, 'Invalid operation: `move`.'),
    # Scenario 78.
    ([{'op': 'add', 'path': '/locations/-',
       'value': {'url': 'http://example.com/x', 'metadata': {}}}], 403,
     "It's not allowed to add locations if locations are invisible."),
    ([{'op': 'replace', 'path': '/locations', 'value': []}], 403,
     'Cannot set locations to empty list.'),
])
def test_patch_refusals(app, operations, status, message):
    image_id = create(app, name='a').json['id']
    response = patch(app, image_id, operations)
    assert response.status_int == status, response.text
    assert message in response.json['message']
    assert show(app, image_id).json['name'] == 'a'


def test_patch_needs_its_media_type(app):
    image_id = create(app).json['id']
    response = app.request('PATCH', '/v2/images/' + image_id, dict(
        T1, **{'Content-Type': 'application/json'}), b'[]')
    assert response.status_int == 415
    assert 'application/openstack-images-v2.1-json-patch' in response.headers[
        'Accept-Patch']


def test_only_the_owner_or_an_admin_changes_an_image(app):
    image_id = create(app).json['id']
    db_api.member_add(image_id, 'T2')
    response = patch(app, image_id, [
        {'op': 'replace', 'path': '/name', 'value': 'x'}], T2)
    assert response.status_int == 403
    assert 'You do not own this image' in response.json['message']
    assert patch(app, image_id, [
        {'op': 'replace', 'path': '/name', 'value': 'x'}],
        READER).status_int == 403
    assert patch(app, image_id, [
        {'op': 'replace', 'path': '/name', 'value': 'by-admin'}],
        ADMIN).json['name'] == 'by-admin'


def test_formats_change_only_while_queued(app):
    image_id = create(app, disk_format='raw',
                      container_format='bare').json['id']
    assert patch(app, image_id, [{'op': 'replace', 'path': '/disk_format',
                                  'value': 'qcow2'}]).status_int == 200
    db_api.image_transition(image_id, 'saving')
    response = patch(app, image_id, [
        {'op': 'replace', 'path': '/disk_format', 'value': 'qcow2'}])
    assert response.status_int == 403
    assert ('Attribute disk_format can be only replaced for a queued image.'
            in response.json['message'])


def test_delete(app):
    image_id = create(app).json['id']
    protected = create(app, protected=True).json['id']
    response = app.request('DELETE', '/v2/images/' + protected, T1)
    assert response.status_int == 403
    assert ('Image %s is protected and cannot be deleted.' % protected
            in response.text)
    db_api.member_add(image_id, 'T2')
    response = app.request('DELETE', '/v2/images/' + image_id, T2)
    assert response.status_int == 403
    response = app.request('DELETE', '/v2/images/' + image_id, T1)
    assert response.status_int == 204 and response.body == b''
    assert show(app, image_id).status_int == 404
    again = app.request('DELETE', '/v2/images/' + image_id, dict(T1, **JSON))
    assert again.status_int == 404
    assert ('Failed to find image %s to delete' % image_id
            in again.json['message'])
    assert db_api.image_get(image_id)['status'] == 'deleted'


def test_bodiless_routes_refuse_a_body(app):
    image_id = create(app).json['id']
    response = app.request('GET', '/v2/images/' + image_id, T1, b'x')
    assert response.status_int == 400
    assert 'A body is not expected with this request.' in response.text
    response = app.request('DELETE', '/v2/images/' + image_id, T1, b'{')
    assert response.status_int == 400
    assert show(app, image_id).status_int == 200


def test_image_written_through_v1_read_through_v2(app):
    """v2 spec §21.2, v2 spec §21.5, v2 spec §21.6: visibility, size and
    null properties."""
    image = app.create(headers=T1, properties={'from': 'v1'})
    db_api.image_update(image['id'], {}, {'empty': None})
    shown = show(app, image['id']).json
    assert shown['visibility'] == 'private'
    assert shown['size'] is None
    assert (shown['from'], shown['empty']) == ('v1', '')
    public = app.create(headers=ADMIN, is_public=True)
    assert show(app, public['id'], T2).json['visibility'] == 'public'


def test_image_written_through_v2_read_through_v1(app):
    image = create(app, name='n', visibility='private', mark='v2').json
    head = app.request('HEAD', '/v1/images/' + image['id'], T1)
    assert head.status_int == 200
    assert head.headers['x-image-meta-is_public'] == 'False'
    assert head.headers['x-image-meta-size'] == '0'
    assert head.headers['x-image-meta-property-mark'] == 'v2'
