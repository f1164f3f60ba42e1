"""PUT /v1/images/{id} against a real server (spec §7, scenarios §19
68-97).

Not covered: 78's non-admin half and 93 (tenants and roles), 87 and 95
(policy overrides). 70 and 94 run against a property quota of 2 instead
of the catalogue's 10 and 1, so that one extra server (shared with the
create tests) serves both and 88's size cap: the counting rules they
prove are the same.
"""

import os
import threading
import time

import pytest
import requests

from tests.functional import images_support as s


@pytest.fixture(scope='module')
def servers(request):
    """default, and limits (512-byte cap, property quota 2, formats foo
    and ami: §19 70, 88, 90, 94); see images_support."""
    return s.shared_servers(request)


@pytest.fixture(scope='module')
def api(servers):
    """A glance-lite-api on embedded defaults, shared by the image tests."""
    return servers['default']


@pytest.fixture(scope='module')
def limits_api(servers):
    return servers['limits']


@pytest.fixture(scope='module')
def source():
    src = s.HttpSource()
    yield src
    src.close()


def _detail(api, image_id):
    """The image as the detail list shows it (public images only: the
    no-auth admin lists public and shared images, spec §18 Q12)."""
    response = requests.get(s.images_url(api) + '/detail',
                            params={'limit': 1000})
    assert response.status_code == 200
    return next(image for image in response.json()['images']
                if image['id'] == image_id)


def _properties_in_head(api, image_id):
    prefix = 'x-image-meta-property-'
    return {k.lower()[len(prefix):]: v
            for k, v in s.head(api, image_id).headers.items()
            if k.lower().startswith(prefix)}


def _upload_headers(**extra):
    headers = {'Content-Type': 'application/octet-stream',
               'X-Image-Meta-disk_format': 'raw',
               'X-Image-Meta-container_format': 'bare'}
    headers.update(extra)
    return headers


def _limits_upload_headers(**extra):
    """Upload headers in the formats the limits server allows."""
    headers = {'Content-Type': 'application/octet-stream',
               'X-Image-Meta-disk_format': 'ami'}
    headers.update(extra)
    return headers


# The PUT answer (spec §7.8), in its three forms


def _assert_put_answer(api, response, image_id):
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/json'
    assert set(response.json()['image']) == s.DETAIL_KEYS
    assert response.json()['image']['id'] == image_id
    assert response.headers['Location'] == s.image_url(api, image_id)
    s.assert_no_storage_location(response, api)


def test_metadata_only_put_answers_the_image_with_location_and_etag(api):
    image = s.upload(api)

    response = s.put(api, image['id'], {'x-image-meta-name': 'renamed'})

    _assert_put_answer(api, response, image['id'])
    assert response.json()['image']['name'] == 'renamed'
    assert response.headers['ETag'] == s.FIVE_KB_MD5


def test_metadata_only_put_without_checksum_has_no_etag(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], {'x-image-meta-name': 'renamed'})

    _assert_put_answer(api, response, image['id'])
    assert 'ETag' not in response.headers


def test_upload_put_answers_the_active_image_with_location_and_etag(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], _upload_headers(), s.FIVE_KB)

    _assert_put_answer(api, response, image['id'])
    assert response.json()['image']['status'] == 'active'
    assert response.json()['image']['size'] == 5120
    assert response.json()['image']['checksum'] == s.FIVE_KB_MD5
    assert response.headers['ETag'] == s.FIVE_KB_MD5
    assert s.files_of(api, image['id']) == [image['id']]


def test_metadata_and_upload_in_one_put_apply_both(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], _upload_headers(**{
        'x-image-meta-name': 'both at once',
        'x-image-meta-min_ram': '512',
        'x-image-meta-property-os_distro': 'cirros'}), s.FIVE_KB)

    _assert_put_answer(api, response, image['id'])
    body = response.json()['image']
    assert body['name'] == 'both at once'
    assert body['min_ram'] == 512
    assert body['properties'] == {'os_distro': 'cirros'}
    assert body['status'] == 'active'
    assert response.headers['ETag'] == s.FIVE_KB_MD5
    assert s.get(api, image['id']).content == s.FIVE_KB


# 68


def test_is_public_can_be_switched_on_and_off(api):
    image = s.upload(api, headers=s.minimal_headers(public=False))

    public = s.put(api, image['id'], {'X-Image-Meta-is_public': 'True'})
    private = s.put(api, image['id'], {'X-Image-Meta-is_public': 'False'})

    assert public.status_code == 200
    assert public.json()['image']['is_public'] is True
    assert private.status_code == 200
    assert private.json()['image']['is_public'] is False


# 69


def test_put_sets_custom_properties(api):
    image = s.upload(api)

    response = s.put(api, image['id'], {
        'X-Image-Meta-Property-Distro': 'Ubuntu',
        'X-Image-Meta-Property-Arch': 'x86_64'})

    assert response.status_code == 200
    assert response.json()['image']['properties'] == {
        'distro': 'Ubuntu', 'arch': 'x86_64'}


# 70


def test_more_properties_than_the_quota_is_refused_and_changes_nothing(
        limits_api):
    image = s.upload(limits_api, b'data', _limits_upload_headers(**{
        'X-Image-Meta-Is-Public': 'True',
        'X-Image-Meta-Property-Distro': 'Ubuntu',
        'X-Image-Meta-Property-Arch': 'x86_64'}))

    response = s.put(limits_api, image['id'], {
        'X-Image-Meta-Property-foo%d' % i: 'bar' for i in range(3)})

    assert response.status_code == 413
    assert 'Attempted: 3, Maximum: 2' in s.message(response)
    assert _detail(limits_api, image['id'])['properties'] == {
        'distro': 'Ubuntu', 'arch': 'x86_64'}


# 71, 72, 73


def test_put_without_purge_header_replaces_the_properties(api):
    image = s.upload(api)
    s.put(api, image['id'], {'X-Image-Meta-Property-Distro': 'Ubuntu',
                             'X-Image-Meta-Property-Arch': 'x86_64'})

    response = s.put(api, image['id'], {'X-Image-Meta-Property-Arch':
                                        'x86_64'})

    assert response.status_code == 200
    assert _detail(api, image['id'])['properties'] == {'arch': 'x86_64'}


def test_put_moves_updated_at_past_created_at(api):
    image = s.upload(api)
    time.sleep(0.01)

    response = s.put(api, image['id'], {'X-Image-Meta-Property-Arch':
                                        'x86_64'})

    detail = _detail(api, image['id'])
    assert response.status_code == 200
    assert detail['updated_at'] > detail['created_at']
    assert detail['updated_at'] > image['updated_at']


def test_purge_props_false_merges_properties(api):
    image = s.reserve(api, {'x-image-meta-property-key1': 'value1'})
    s.put(api, image['id'], {'x-image-meta-property-key2': 'value2'})
    assert _properties_in_head(api, image['id']) == {'key2': 'value2'}

    response = s.put(api, image['id'], {
        'x-image-meta-property-key3': 'value3',
        'x-glance-registry-purge-props': 'false'})

    assert response.status_code == 200
    assert _properties_in_head(api, image['id']) == {'key2': 'value2',
                                                     'key3': 'value3'}


def test_purge_props_false_overwrites_named_properties(api):
    image = s.reserve(api, {'x-image-meta-property-a': '1',
                            'x-image-meta-property-b': '2'})

    response = s.put(api, image['id'], {
        'x-image-meta-property-a': '9',
        'x-glance-registry-purge-props': 'False'})

    assert response.json()['image']['properties'] == {'a': '9', 'b': '2'}


def test_put_of_only_a_name_purges_every_property(api):
    image = s.reserve(api, {'x-image-meta-property-a': '1',
                            'x-image-meta-property-b': '2',
                            'x-image-meta-is_public': 'true'})

    response = s.put(api, image['id'], {'x-image-meta-name': 'new'})

    assert response.status_code == 200
    assert response.json()['image']['name'] == 'new'
    assert response.json()['image']['properties'] == {}
    assert _detail(api, image['id'])['properties'] == {}


# 74


def test_upload_keeps_properties_not_named_in_the_request(api):
    image = s.reserve(api, {'x-image-meta-property-key1': 'value1'})
    assert image['properties'] == {'key1': 'value1'}

    response = s.put(api, image['id'], _upload_headers(**{
        'x-image-meta-property-key2': 'value2'}), b'chunk00000remainder')

    assert response.status_code == 200
    assert _properties_in_head(api, image['id']) == {'key1': 'value1',
                                                     'key2': 'value2'}
    assert s.status_of(api, image['id']) == 'active'


# 75, 76


def test_status_of_a_queued_image_cannot_be_changed(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], {'X-Image-Meta-Status': 'active'})

    assert response.status_code == 403
    assert "Forbidden to modify 'status' of image." in s.message(response)
    assert s.status_of(api, image['id']) == 'queued'


def test_restating_the_current_status_is_accepted(api):
    queued = s.reserve(api)
    active = s.upload(api)

    restate_queued = s.put(api, queued['id'], {'X-Image-Meta-Status':
                                               'queued'})
    restate_active = s.put(api, active['id'], {'X-Image-Meta-Status':
                                               'active'})

    assert restate_queued.status_code == 200
    assert restate_queued.json()['image']['status'] == 'queued'
    assert restate_active.status_code == 200
    assert restate_active.json()['image']['status'] == 'active'


def test_status_of_an_active_image_cannot_go_back_to_queued(api):
    image = s.reserve(api)
    uploaded = s.put(api, image['id'], _upload_headers(), b'data')
    assert uploaded.json()['image']['status'] == 'active'

    response = s.put(api, image['id'], {'X-Image-Meta-Status': 'queued'})

    assert response.status_code == 403
    assert s.status_of(api, image['id']) == 'active'


def test_metadata_put_declaring_size_zero_keeps_a_queued_image_queued(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], {'x-image-meta-size': '0'})

    assert response.status_code == 200
    assert response.json()['image']['status'] == 'queued'


# 77


@pytest.mark.parametrize('new_id', ['000000-000-0000-0000-000', 'other'])
def test_id_of_an_image_cannot_be_changed(api, new_id):
    image = s.reserve(api)
    if new_id == 'other':
        new_id = s.reserve(api)['id']

    response = s.put(api, image['id'], {'x-image-meta-id': new_id})

    assert response.status_code == 403
    assert "Forbidden to modify 'id' of image." in s.message(response)
    assert s.head(api, image['id']).status_code == 200


def test_restating_the_id_is_accepted(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], {'x-image-meta-id': image['id']})

    assert response.status_code == 200


# 78 (admin half: the no-auth caller is an admin)


def test_admin_may_change_size_and_checksum_of_an_active_image(api):
    image = s.upload(api)

    response = s.put(api, image['id'], {'x-image-meta-checksum': '1234',
                                        'x-image-meta-size': '12345'})

    assert response.status_code == 200
    meta = s.head(api, image['id'])
    assert meta.headers['x-image-meta-checksum'] == '1234'
    assert meta.headers['x-image-meta-size'] == '12345'


# 93 (admin half: the no-auth caller is an admin)


def test_admin_may_change_the_owner(api):
    image = s.reserve(api, {'X-Image-Meta-Owner': 'tenant1'})

    changed = s.put(api, image['id'], {'X-Image-Meta-Owner': 'tenant2'})
    cleared = s.put(api, image['id'], {'X-Image-Meta-Owner': ''})

    assert changed.status_code == 200
    assert changed.json()['image']['owner'] == 'tenant2'
    assert cleared.status_code == 200
    assert cleared.json()['image']['owner'] is None


def test_created_at_header_is_ignored_on_update(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], {
        'x-image-meta-created_at': '2012-01-01T00:00:00',
        'x-image-meta-deleted': 'true'})

    assert response.status_code == 200
    assert response.json()['image']['created_at'] == image['created_at']
    assert response.json()['image']['deleted'] is False


# 79, 84


def test_upload_to_an_active_image_conflicts(api):
    image = s.upload(api)

    response = s.put(api, image['id'], _upload_headers(), b'more data')

    assert response.status_code == 409
    assert 'Cannot upload to an unqueued image' in s.message(response)
    assert s.get(api, image['id']).content == s.FIVE_KB


def test_upload_shorter_than_declared_size_kills_the_image_for_good(api):
    image = s.reserve(api, {'x-image-meta-size': '19'})

    response = s.put(api, image['id'], _upload_headers(), b'12345')

    assert response.status_code == 400
    assert 'did not match' in s.message(response)
    assert s.status_of(api, image['id']) == 'killed'
    assert s.files_of(api, image['id']) == []
    again = s.put(api, image['id'], _upload_headers(), b'x' * 19)
    assert again.status_code == 409
    assert s.files_of(api, image['id']) == []


def test_upload_not_matching_a_checksum_declared_at_reserve_kills_image(
        api):
    image = s.reserve(api, {'x-image-meta-checksum': 'asdf'})

    response = s.put(api, image['id'], _upload_headers(), s.FIVE_KB)

    assert response.status_code == 400
    assert s.status_of(api, image['id']) == 'killed'
    assert s.files_of(api, image['id']) == []


def test_failed_upload_keeps_the_metadata_sent_with_it(api):
    # §7.5: headers sent with an upload are stored before the data is read.
    image = s.reserve(api)

    response = s.put(api, image['id'], _upload_headers(**{
        'x-image-meta-name': 'renamed with the upload',
        'x-image-meta-checksum': 'not the md5'}), s.FIVE_KB)

    assert response.status_code == 400
    meta = s.head(api, image['id'])
    assert meta.headers['x-image-meta-status'] == 'killed'
    assert meta.headers['x-image-meta-name'] == 'renamed with the upload'


def test_killed_image_can_still_be_renamed(api):
    image = s.reserve(api, {'x-image-meta-size': '19'})
    assert s.put(api, image['id'], _upload_headers(), b'12').status_code == (
        400)

    response = s.put(api, image['id'], {'x-image-meta-name': 'dead'})

    assert response.status_code == 200
    assert response.json()['image']['name'] == 'dead'
    assert response.json()['image']['status'] == 'killed'


# 80, 81, 82


def test_location_activates_a_queued_image(api, source):
    image = s.reserve(api)
    uri = source.add('/for-put', b'located')

    response = s.put(api, image['id'], {
        'x-image-meta-location': uri,
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'})

    _assert_put_answer(api, response, image['id'])
    assert response.json()['image']['status'] == 'active'
    assert response.json()['image']['size'] == len(b'located')
    assert uri not in response.text
    assert s.get(api, image['id']).content == b'located'


def test_location_with_a_different_declared_size_conflicts(api, source):
    image = s.reserve(api)

    response = s.put(api, image['id'], {
        'x-image-meta-location': source.add('/two', b'ab'),
        'x-image-meta-size': '1',
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'})

    assert response.status_code == 409
    assert 'Provided image size must match the stored image size' in (
        s.message(response))
    assert s.status_of(api, image['id']) == 'queued'


def test_location_on_an_active_image_is_refused(api, source):
    image = s.upload(api)

    response = s.put(api, image['id'], {
        'x-image-meta-location': source.add('/late', b'late')})

    assert response.status_code == 400
    assert ('Attempted to update Location field for an image not in '
            'queued status.') in s.message(response)
    assert s.get(api, image['id']).content == s.FIVE_KB


def test_malformed_location_on_a_queued_image_is_refused(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], {
        'x-image-meta-location': 'http://',
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'})

    assert response.status_code == 400
    assert 'Invalid location' in s.message(response)
    assert s.status_of(api, image['id']) == 'queued'


def test_copy_from_on_a_queued_image_copies_in_the_background(api, source):
    image = s.reserve(api)
    uri = source.add('/copy-into-reserved', s.FIVE_KB)

    response = s.put(api, image['id'], {
        'x-glance-api-copy-from': uri,
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'})

    _assert_put_answer(api, response, image['id'])
    assert response.json()['image']['status'] == 'queued'
    assert response.json()['image']['size'] == 5120
    assert s.wait_for_status(api, image['id'], ('active', 'killed')) == (
        'active')
    assert s.get(api, image['id']).content == s.FIVE_KB


# 83


@pytest.mark.parametrize('missing,message', [
    ('X-Image-Meta-disk_format', 'Disk format is not specified'),
    ('X-Image-Meta-container_format', 'Container format is not specified'),
])
def test_upload_without_a_format_leaves_the_image_queued(api, missing,
                                                         message):
    image = s.reserve(api, {'X-Image-Meta-Name': 'no formats'})
    headers = s.minimal_headers()
    del headers[missing]

    response = s.put(api, image['id'], headers, s.FIVE_KB)

    assert response.status_code == 400
    assert message in s.message(response)
    assert s.status_of(api, image['id']) == 'queued'
    assert s.files_of(api, image['id']) == []


def test_upload_with_wrong_content_type_leaves_the_image_queued(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], _upload_headers(**{
        'Content-Type': 'text/plain'}), s.FIVE_KB)

    assert response.status_code == 400
    assert 'Content-Type must be application/octet-stream' in (
        s.message(response))
    assert s.status_of(api, image['id']) == 'queued'


# 85, 86


def test_deleted_image_cannot_be_updated(api):
    image = s.upload(api)
    assert s.delete(api, image['id']).status_code == 200

    response = requests.put(s.image_url(api, image['id']),
                            json={'image': {'name': 'x'}})

    assert response.status_code == 403
    assert 'Forbidden to update deleted image' in s.message(response)
    assert s.head(api, image['id']).headers['x-image-meta-name'] == 'Image1'


def test_put_to_an_unknown_image_is_not_found(api):
    response = s.put(api, s.new_id(), s.minimal_headers(), b'test')

    assert response.status_code == 404


@pytest.mark.parametrize('headers', [
    {'x-image-meta-foo': 'bar'},
    {'x-image-meta-size': str(1099511627776 + 1)},
])
def test_request_errors_are_found_before_the_image_lookup(api, headers):
    # §7.2 steps 1-2 come before step 4.
    response = s.put(api, s.new_id(), headers)

    assert response.status_code == 400


# 88


def test_declared_size_over_the_cap_is_refused(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], {
        'x-image-meta-size': str(1099511627776 + 1)})

    assert response.status_code == 400
    assert 'Denying attempt to upload image larger than' in (
        s.message(response))
    assert s.head(api, image['id']).headers['x-image-meta-size'] == '0'


def test_content_length_over_the_cap_is_refused(limits_api):
    image = s.upload(limits_api, b'small', _limits_upload_headers())

    response = s.put(limits_api, image['id'], _limits_upload_headers(),
                     b'x' * 513)

    assert response.status_code == 400
    assert 'Denying attempt to upload image larger than 512 bytes' in (
        s.message(response))
    assert s.get(limits_api, image['id']).content == b'small'


def test_chunked_upload_over_the_cap_is_too_large_and_kills(limits_api):
    image = s.reserve(limits_api)

    response = s.put(limits_api, image['id'], {
        'Content-Type': 'application/octet-stream',
        'x-image-meta-disk_format': 'ami'}, iter([b'x' * 500, b'x' * 13]))

    assert response.status_code == 413
    assert s.status_of(limits_api, image['id']) == 'killed'
    assert s.files_of(limits_api, image['id']) == []


def test_upload_to_an_unknown_store_leaves_the_image_queued(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], _upload_headers(**{
        'x-image-meta-store': 'bad'}), s.FIVE_KB)

    assert response.status_code == 400
    assert 'bad' in s.message(response)
    assert s.status_of(api, image['id']) == 'queued'


# 89, 90


def test_upload_into_a_store_that_takes_no_writes_is_gone(api):
    image = s.reserve(api)

    response = s.put(api, image['id'], _upload_headers(**{
        'x-image-meta-store': 'http'}), s.FIVE_KB)

    assert response.status_code == 410
    assert 'Adding images to store is disabled' in s.message(response)
    s.assert_no_storage_location(response, api)
    assert s.status_of(api, image['id']) == 'killed'
    assert s.files_of(api, image['id']) == []


def test_unexpected_store_failure_is_a_server_error_and_kills(limits_api):
    image = s.reserve(limits_api)
    datadir = limits_api.datadir
    # A file where the store expects its directory: writes fail with an
    # error the store has no meaning for (ENOTDIR).
    os.rename(datadir, datadir + '.aside')
    try:
        with open(datadir, 'w'):
            pass
        response = s.put(limits_api, image['id'], _limits_upload_headers(),
                         b'data')
    finally:
        os.remove(datadir)
        os.rename(datadir + '.aside', datadir)

    assert response.status_code == 500
    s.assert_no_storage_location(response, limits_api)
    assert s.status_of(limits_api, image['id']) == 'killed'
    assert s.files_of(limits_api, image['id']) == []


# 91, 92


class _SlowBody:
    """A chunked request body that sends one chunk, then waits for
    ``release`` before sending the rest."""

    def __init__(self, first=b'a' * 1024, rest=(b'b' * 1024,) * 3):
        self.first = first
        self.rest = rest
        self.release = threading.Event()

    def __iter__(self):
        yield self.first
        self.release.wait(15)
        for chunk in self.rest:
            yield chunk


def _put_in_thread(api, image_id, headers, body):
    result = {}

    def run():
        try:
            result['response'] = s.put(api, image_id, headers, body)
        except requests.RequestException as e:
            result['error'] = e

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_delete_during_upload_fails_the_upload_and_leaves_no_data(api):
    image = s.reserve(api)
    body = _SlowBody()
    thread, result = _put_in_thread(api, image['id'], _upload_headers(),
                                    body)
    try:
        assert s.wait_for_status(api, image['id'], ('saving',)) == 'saving'
        deleted = s.delete(api, image['id'])
    finally:
        body.release.set()
        thread.join(30)

    assert deleted.status_code == 200
    assert result['response'].status_code == 412
    assert 'may have been deleted during the upload' in (
        s.message(result['response']))
    meta = s.head(api, image['id'])
    assert meta.headers['x-image-meta-deleted'] == 'True'
    assert meta.headers['x-image-meta-status'] == 'deleted'
    assert s.files_of(api, image['id']) == []


def test_concurrent_uploads_to_one_image_let_exactly_one_win(api):
    image = s.reserve(api)
    body = _SlowBody()
    thread, result = _put_in_thread(api, image['id'], _upload_headers(),
                                    body)
    try:
        assert s.wait_for_status(api, image['id'], ('saving',)) == 'saving'
        second = s.put(api, image['id'], _upload_headers(), b'c' * 4096)
    finally:
        body.release.set()
        thread.join(30)

    assert sorted([result['response'].status_code,
                   second.status_code]) == [200, 409]
    assert s.files_of(api, image['id']) == [image['id']]
    data = s.get(api, image['id']).content
    assert data == body.first + b''.join(body.rest)
    assert s.head(api, image['id']).headers['x-image-meta-size'] == str(
        len(data))


# 94


def test_merged_properties_count_against_the_quota(limits_api):
    image = s.reserve(limits_api, {'x-image-meta-property-a': '1',
                                   'x-image-meta-property-b': '2'})

    response = s.put(limits_api, image['id'], {
        'x-image-meta-property-c': '3',
        'x-glance-registry-purge-props': 'False'})

    assert response.status_code == 413
    assert 'Attempted: 3, Maximum: 2' in s.message(response)
    assert _properties_in_head(limits_api, image['id']) == {'a': '1',
                                                            'b': '2'}


def test_purging_put_counts_only_the_named_properties(limits_api):
    image = s.reserve(limits_api, {'x-image-meta-property-a': '1',
                                   'x-image-meta-property-b': '2'})

    too_many = s.put(limits_api, image['id'], {
        'x-image-meta-property-c': '3', 'x-image-meta-property-d': '4',
        'x-image-meta-property-e': '5'})
    replaced = s.put(limits_api, image['id'], {
        'x-image-meta-property-c': '3', 'x-image-meta-property-d': '4'})

    assert too_many.status_code == 413
    assert 'Attempted: 3, Maximum: 2' in s.message(too_many)
    assert replaced.status_code == 200
    assert replaced.json()['image']['properties'] == {'c': '3', 'd': '4'}


def test_overwriting_a_property_does_not_count_twice(limits_api):
    image = s.reserve(limits_api, {
        'x-image-meta-property-x_all_permitted_create': '1'})

    response = s.put(limits_api, image['id'], {
        'x-image-meta-property-x_all_permitted_create': '3',
        'x-image-meta-property-x_all_permitted': '1',
        'x-glance-registry-purge-props': 'False'})

    assert response.status_code == 200
    assert response.json()['image']['properties'] == {
        'x_all_permitted_create': '3', 'x_all_permitted': '1'}


@pytest.mark.parametrize('field', ['size', 'min_disk', 'min_ram'])
def test_empty_integer_header_keeps_the_current_value(api, field):
    image = s.reserve(api, {'x-image-meta-' + field: '7'})

    response = s.put(api, image['id'], {'x-image-meta-' + field: ''})

    assert response.status_code == 200
    assert response.json()['image'][field] == 7


# 96, 97


def test_public_image_can_be_renamed(api):
    image = s.upload(api)

    response = s.put(api, image['id'], {'x-image-meta-name': 'new name'})

    assert response.status_code == 200
    assert response.json()['image']['name'] == 'new name'
    assert response.json()['image']['is_public'] is True


def test_put_with_no_headers_and_empty_body_changes_nothing_else(api):
    image = s.upload(api)

    response = requests.put(s.image_url(api, image['id']), data=b'')

    _assert_put_answer(api, response, image['id'])
    body = response.json()['image']
    assert body['name'] == 'Image1'
    assert body['status'] == 'active'
    assert body['size'] == 5120


# Amazon formats on update (spec §5.5 rule 2, §18 Q19)


def test_amazon_disk_format_alone_also_sets_the_container_format(api):
    image = s.upload(api)

    response = s.put(api, image['id'], {'x-image-meta-disk_format': 'aki'})

    assert response.status_code == 200
    assert response.json()['image']['disk_format'] == 'aki'
    assert response.json()['image']['container_format'] == 'aki'


# Client disconnect (spec §7.9)


# tests/reliability/test_disconnects.py hangs up mid-upload (POST and PUT,
# Content-Length and chunked) and checks the store and the quota too.


# Malformed input is a client error, never a 500 (spec §12.3)


@pytest.mark.parametrize('headers', s.MALFORMED_HEADERS)
def test_malformed_update_headers_never_cause_a_server_error(api, headers):
    image = s.reserve(api)

    response = s.put(api, image['id'], s.with_formats_for_sources(headers))

    assert response.status_code < 500, response.text
