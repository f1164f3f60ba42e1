"""v2 image data through the paste app (v2 spec §12.1, §12.3, §13): uploads
and their refusals (the image queued again, nothing stored), downloads
whole and in ranges, deactivate and reactivate, and data crossing the
APIs (v2 spec §21.8)."""

import hashlib
import os

import pytest

from glance_lite.db import api as db_api
from tests.inprocess import support

T1 = support.trusted('T1')
T2 = support.trusted('T2')
T3 = support.trusted('T3')
READER = support.trusted('T1', roles='reader')
ADMIN = support.ADMIN
JSON = {'Accept': 'application/json'}
OCTETS = {'Content-Type': 'application/octet-stream'}
LETTERS = b'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e'


@pytest.fixture
def app(make_app):
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'}})


def create(app, headers=T1, **body):
    body.setdefault('disk_format', 'raw')
    body.setdefault('container_format', 'bare')
    body = {k: v for k, v in body.items() if v is not None}
    response = app.request('POST', '/v2/images', dict(headers, **JSON), body)
    assert response.status_int == 201, response.text
    return response.json['id']


def put_file(app, image_id, data, headers=T1, **extra):
    return app.request('PUT', '/v2/images/%s/file' % image_id,
                       dict(headers, **dict(OCTETS, **extra)), data)


def get_file(app, image_id, headers=T1, **extra):
    return app.request('GET', '/v2/images/%s/file' % image_id,
                       dict(headers, **extra))


def show(app, image_id, headers=T1):
    response = app.request('GET', '/v2/images/' + image_id,
                           dict(headers, **JSON))
    assert response.status_int == 200, response.text
    return response.json


def action(app, image_id, name, headers=T1):
    return app.request('POST', '/v2/images/%s/actions/%s' % (image_id, name),
                       headers)


def stored_files(app):
    return sorted(os.listdir(app.datadir)) if os.path.isdir(
        app.datadir) else []


def active(app, data=LETTERS, headers=T1, **body):
    image_id = create(app, headers, **body)
    response = put_file(app, image_id, data, headers)
    assert response.status_int == 204, response.text
    return image_id


def assert_queued_without_data(app, image_id):
    image = show(app, image_id)
    assert (image['status'], image['size'], image['checksum']) == (
        'queued', None, None)
    assert image_id not in stored_files(app)


def test_queued_image_has_no_data(app):
    """v2 spec §25 scenario 85 and 105."""
    image_id = create(app)
    response = get_file(app, image_id)
    assert (response.status_int, response.body) == (204, b'')
    assert get_file(app, image_id, Range='bytes=0-4').status_int == 204


def test_upload_activates_with_checksum_and_multihash(app):
    """v2 spec §25 scenarios 86-88."""
    image_id = create(app)

    response = put_file(app, image_id, b'ZZZZZ')

    assert (response.status_int, response.body) == (204, b'')
    image = show(app, image_id)
    assert (image['status'], image['size']) == ('active', 5)
    assert image['checksum'] == hashlib.md5(b'ZZZZZ').hexdigest()
    assert image['os_hash_algo'] == 'sha512'
    assert image['os_hash_value'] == hashlib.sha512(b'ZZZZZ').hexdigest()
    downloaded = get_file(app, image_id)
    assert downloaded.status_int == 200
    assert downloaded.headers['Content-Type'] == 'application/octet-stream'
    assert downloaded.headers['Content-Length'] == '5'
    assert downloaded.headers['Content-MD5'] == image['checksum']
    assert 'ETag' not in downloaded.headers
    assert not [h for h in downloaded.headers if h.lower().startswith(
        'x-image-meta-')]
    assert downloaded.body == b'ZZZZZ'

    again = put_file(app, image_id, b'other')
    assert again.status_int == 409
    assert ('Image status transition from active to saving is not allowed'
            in again.text)
    assert get_file(app, image_id).body == b'ZZZZZ'


@pytest.mark.parametrize('content_type, shown', [
    ('text/plain', 'text/plain'), (None, 'None'),
    ('application/json', 'application/json')])
def test_upload_needs_octet_stream(app, content_type, shown):
    """v2 spec §25 scenario 89."""
    image_id = create(app)
    response = put_file(app, image_id, b'ZZZZZ',
                        **{'Content-Type': content_type})
    assert response.status_int == 415
    assert 'Invalid content type %s' % shown in response.text
    assert_queued_without_data(app, image_id)


def test_media_type_parameters_are_ignored(app):
    image_id = create(app)
    response = put_file(app, image_id, b'Z', **{
        'Content-Type': 'Application/Octet-Stream; charset=binary'})
    assert response.status_int == 204


@pytest.mark.parametrize('formats, message', [
    ({'disk_format': None, 'container_format': None},
     'Properties disk_format, container_format must be set prior to '
     'saving data.'),
    ({'container_format': None},
     'Property container_format must be set prior to saving data.'),
    ({'disk_format': None},
     'Property disk_format must be set prior to saving data.')])
def test_upload_needs_both_formats(app, formats, message):
    """v2 spec §25 scenario 90."""
    image_id = create(app, **formats)
    response = put_file(app, image_id, b'ZZZZZ')
    assert response.status_int == 400
    assert message in response.text
    assert_queued_without_data(app, image_id)


def test_chunked_upload(app):
    """v2 spec §25 scenario 91."""
    image_id = create(app)
    response = app.request(
        'PUT', '/v2/images/%s/file' % image_id,
        dict(T1, **dict(OCTETS, **{'Transfer-Encoding': 'chunked'})),
        body_file=_Unframed(LETTERS))
    assert response.status_int == 204, response.text
    assert show(app, image_id)['size'] == 26
    assert get_file(app, image_id).body == LETTERS


class _Unframed:
    """A request body with no Content-Length, read until it ends, as a
    server hands over a chunked body."""

    def __init__(self, data):
        self._data = data

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self._data)
        block, self._data = self._data[:size], self._data[size:]
        return block


def test_over_the_cap_queues_the_image_again(make_app):
    """v2 spec §25 scenario 92: chunked, then declared."""
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'image_size_cap': '512'}})
    image_id = create(app)
    response = app.request(
        'PUT', '/v2/images/%s/file' % image_id,
        dict(T1, **dict(OCTETS, **{'Transfer-Encoding': 'chunked'})),
        body_file=_Unframed(b'x' * 513))
    assert response.status_int == 413
    assert 'The incoming image is too large: ' in response.text
    assert_queued_without_data(app, image_id)

    declared = put_file(app, image_id, b'x' * 513)
    assert declared.status_int == 413
    assert 'The incoming image is too large: ' in declared.text
    assert_queued_without_data(app, image_id)

    assert put_file(app, image_id, b'x' * 100).status_int == 204
    assert show(app, image_id)['status'] == 'active'


def test_declared_size(app):
    """v2 spec §25 scenario 93."""
    image_id = create(app)
    mismatch = put_file(app, image_id, b'ZZZZZ',
                        **{'x-openstack-image-size': '6'})
    assert mismatch.status_int == 400
    assert 'did not match' in mismatch.text
    assert "Setting image status to 'queued'" in mismatch.text
    assert_queued_without_data(app, image_id)
    for bad in ('abc', '-1', '1.5', ''):
        response = put_file(app, image_id, b'ZZZZZ',
                            **{'x-openstack-image-size': bad})
        assert response.status_int == 400, bad
        assert ('Invalid or missing image size in request headers.'
                in response.text)
    assert_queued_without_data(app, image_id)
    assert put_file(app, image_id, b'ZZZZZ',
                    **{'x-openstack-image-size': '5'}).status_int == 204


def test_storage_quota(make_app):
    """v2 spec §25 scenario 94, the quota counted for v1 and v2 data
    alike."""
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'user_storage_quota': '10B'}})
    active(app, b'x' * 8)
    second = create(app)
    response = put_file(app, second, b'y' * 5)
    assert response.status_int == 413
    assert 'Image exceeds the storage quota: ' in response.text
    assert_queued_without_data(app, second)
    chunked = app.request(
        'PUT', '/v2/images/%s/file' % second,
        dict(T1, **dict(OCTETS, **{'Transfer-Encoding': 'chunked'})),
        body_file=_Unframed(b'y' * 5))
    assert chunked.status_int == 413
    assert 'Image exceeds the storage quota: ' in chunked.text
    assert_queued_without_data(app, second)
    assert put_file(app, second, b'y' * 2).status_int == 204


def test_who_may_upload(app):
    """v2 spec §25 scenario 96, and a reader."""
    shared = create(app)
    member = app.request('POST', '/v2/images/%s/members' % shared,
                         dict(T1, **JSON), {'member': 'T3'})
    assert member.status_int == 200, member.text
    response = put_file(app, shared, b'Z', T3)
    assert response.status_int == 403
    assert 'Not allowed to upload image data for image %s' % shared in (
        response.text)
    private = create(app, visibility='private')
    assert put_file(app, private, b'Z', T2).status_int == 404
    assert put_file(app, private, b'Z', READER).status_int == 403
    assert_queued_without_data(app, shared)
    assert_queued_without_data(app, private)
    assert put_file(app, private, b'Z', ADMIN).status_int == 204


def test_unknown_image(app):
    response = put_file(app, 'f' * 36, b'Z')
    assert response.status_int == 404
    assert get_file(app, 'f' * 36).status_int == 404


def test_empty_body(app):
    """v2 spec §25 scenario 100."""
    image_id = create(app)
    assert put_file(app, image_id, b'').status_int == 204
    image = show(app, image_id)
    assert (image['status'], image['size'], image['checksum']) == (
        'active', 0, EMPTY_MD5)
    response = get_file(app, image_id)
    assert response.status_int == 200
    assert (response.headers['Content-Length'], response.body) == ('0', b'')


def test_a_short_body_queues_the_image_again(app):
    image_id = create(app)
    response = app.request(
        'PUT', '/v2/images/%s/file' % image_id,
        dict(T1, **dict(OCTETS, **{'Content-Length': '100'})),
        body_file=_Unframed(b'only some'))
    assert response.status_int == 400
    assert_queued_without_data(app, image_id)


def test_a_failed_v2_upload_can_be_retried_through_v1(app):
    """v2 spec §21.8: a v1 client may upload to an image a failed v2
    upload left queued."""
    image_id = create(app)
    put_file(app, image_id, b'ZZZZZ', **{'x-openstack-image-size': '9'})
    response = app.request('PUT', '/v1/images/' + image_id,
                           dict(T1, **OCTETS), b'from v1')
    assert response.status_int == 200, response.text
    assert get_file(app, image_id).body == b'from v1'
    image = show(app, image_id)
    assert image['os_hash_value'] == hashlib.sha512(b'from v1').hexdigest()


def test_v1_uploads_record_the_multihash(app):
    """v2 spec §21.5 (X-11): v1 data gets os_hash_* too."""
    image = app.create(b'through v1', headers=T1)
    shown = show(app, image['id'])
    assert shown['os_hash_algo'] == 'sha512'
    assert shown['os_hash_value'] == hashlib.sha512(
        b'through v1').hexdigest()
    assert get_file(app, image['id']).body == b'through v1'


def test_hashing_algorithm_option(make_app):
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'hashing_algorithm': 'sha256'}})
    image = show(app, active(app))
    assert (image['os_hash_algo'], image['os_hash_value']) == (
        'sha256', hashlib.sha256(LETTERS).hexdigest())


def test_an_image_uploading_through_v1_takes_no_v2_upload(app):
    """v2 spec §21.8: the move out of queued decides."""
    image_id = create(app)
    db_api.image_transition(image_id, 'saving')
    response = put_file(app, image_id, b'Z')
    assert response.status_int == 409
    assert ('Image status transition from saving to saving is not allowed'
            in response.text)


@pytest.mark.parametrize('header, body, content_range', [
    ('bytes=3-10', b'DEFGHIJK', 'bytes 3-10/26'),
    ('bytes=20-', b'UVWXYZ', 'bytes 20-25/26'),
    ('bytes=-3', b'XYZ', 'bytes 23-25/26'),
    ('bytes=-30', LETTERS, 'bytes 0-25/26'),
    ('bytes=25-100', b'Z', 'bytes 25-25/26'),
])
def test_ranges(app, header, body, content_range):
    """v2 spec §25 scenario 103."""
    image_id = active(app)
    response = get_file(app, image_id, Range=header)
    assert response.status_int == 206
    assert response.body == body
    assert response.headers['Content-Range'] == content_range
    assert response.headers['Content-Length'] == str(len(body))
    assert response.headers['Content-MD5'] == hashlib.md5(
        LETTERS).hexdigest()


@pytest.mark.parametrize('header, status, message', [
    ('bytes=10-5', 416, 'Invalid Range header.'),
    ('items=0-1', 416, 'Invalid Range header.'),
    ('bytes=26-30', 416, 'Invalid start position in Range header. Start '
     'position MUST be in the inclusive range [0, 25].'),
    ('bytes=0-1,3-4', 400, 'Requests with multiple ranges are not '
     'supported in Glance.'),
])
def test_refused_ranges(app, header, status, message):
    image_id = active(app)
    response = get_file(app, image_id, Range=header)
    assert response.status_int == status
    assert message in response.text
    if status == 416:
        assert response.headers['Content-Range'] == 'bytes */26'


def test_content_range_requests(app):
    """v2 spec §25 scenario 104."""
    data = b'0123456789abcde'
    image_id = active(app, data)
    pieces = []
    for x in range(15):
        response = get_file(app, image_id,
                            **{'Content-Range': 'bytes %d-%d/15' % (x, x)})
        assert response.status_int == 206
        pieces.append(response.body)
    assert b''.join(pieces) == data
    response = get_file(app, image_id, **{'Content-Range': 'bytes 3-16/15'})
    assert response.status_int == 416
    assert 'Invalid stop position in Content-Range header.' in response.text


def test_ranges_of_a_large_image_stream_the_right_bytes(app):
    data = os.urandom(3 * 1024 * 1024 + 17)
    image_id = active(app, data)
    first, last = 1024 * 1024 - 5, 2 * 1024 * 1024 + 9
    response = get_file(app, image_id, Range='bytes=%d-%d' % (first, last))
    assert response.body == data[first:last + 1]


def test_deactivate_and_reactivate(app):
    """v2 spec §25 scenarios 106 and 109."""
    image_id = active(app)
    for _ in range(2):
        response = action(app, image_id, 'deactivate')
        assert (response.status_int, response.body) == (204, b'')
        assert show(app, image_id)['status'] == 'deactivated'
    listed = app.request('GET', '/v2/images', dict(T1, **JSON)).json
    assert image_id in [image['id'] for image in listed['images']]
    refused = get_file(app, image_id)
    assert refused.status_int == 403
    assert ('The requested image has been deactivated. Image data download '
            'is forbidden.' in refused.text)
    assert get_file(app, image_id, ADMIN).body == LETTERS
    v1 = app.request('GET', '/v1/images/' + image_id, T1)
    assert v1.status_int == 403
    for _ in range(2):
        assert action(app, image_id, 'reactivate').status_int == 204
        assert show(app, image_id)['status'] == 'active'
    assert get_file(app, image_id).body == LETTERS


def test_actions_need_the_right_status(app):
    """v2 spec §25 scenario 110."""
    image_id = create(app)
    for name in ('deactivate', 'reactivate'):
        response = action(app, image_id, name)
        assert response.status_int == 403
        assert ("Not allowed to %s image in status 'queued'" % name
                in response.text)
    assert show(app, image_id)['status'] == 'queued'


def test_actions_need_the_owner(app):
    """v2 spec §25 scenario 111."""
    public = active(app, headers=ADMIN, visibility='public', owner='T1')
    private = active(app, visibility='private')
    response = action(app, public, 'deactivate', T2)
    assert response.status_int == 403
    assert 'You do not own this image' in response.text
    assert action(app, private, 'deactivate', T2).status_int == 404
    assert action(app, public, 'deactivate', READER).status_int == 403
    assert show(app, public)['status'] == 'active'
    assert action(app, public, 'deactivate', ADMIN).status_int == 204


def test_actions_and_download_take_no_body(app):
    image_id = active(app)
    response = app.request('POST', '/v2/images/%s/actions/deactivate'
                           % image_id, dict(T1, **OCTETS), b'x')
    assert response.status_int == 400
    assert show(app, image_id)['status'] == 'active'
    assert app.request('GET', '/v2/images/%s/file' % image_id,
                       dict(T1, **OCTETS), b'x').status_int == 400


def test_download_policy(make_app, tmp_path):
    """v2 spec §25 scenario 107."""
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"download_image": "!"\n')
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'oslo_policy': {'policy_file': str(policy_file)}})
    image_id = active(app)
    assert get_file(app, image_id).status_int == 403
    assert show(app, image_id)['status'] == 'active'


def test_data_missing_from_the_store(app):
    """v2 spec §25 scenario 108 (V6)."""
    image_id = active(app)
    os.unlink(os.path.join(app.datadir, image_id))
    response = get_file(app, image_id)
    assert (response.status_int, response.body) == (204, b'')
    assert show(app, image_id)['status'] == 'active'


def test_delete_during_upload_answers_410_and_keeps_nothing(app):
    """v2 spec §25 scenario 101."""
    image_id = create(app)

    class DeletingBody(_Unframed):
        def read(self, size=-1):
            block = super().read(size)
            if not block:
                deleted = app.request('DELETE', '/v2/images/' + image_id, T1)
                assert deleted.status_int == 204, deleted.text
            return block

    response = app.request(
        'PUT', '/v2/images/%s/file' % image_id,
        dict(T1, **dict(OCTETS, **{'Transfer-Encoding': 'chunked'})),
        body_file=DeletingBody(b'x' * 1000))
    assert response.status_int == 410
    assert ('Image %s could not be found after upload. The image may have '
            'been deleted during the upload, cleaning up the chunks '
            'uploaded.' % image_id) in response.text
    assert stored_files(app) == []
