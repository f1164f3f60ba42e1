"""Format inspection of uploaded data through the paste app (v2 spec §12.2,
for v1 too: X-16, v2 spec §21.8): data of container format bare must be
what its disk_format says and pass the format's safety checks; the
inspector's virtual size is recorded. A refused upload leaves nothing
stored: through v2 the image is queued again (415), through v1 it is
killed (400)."""

import pytest

from tests import disk_images
from tests.inprocess import support
from tests.inprocess.v2 import test_image_data as v2_data

T1 = v2_data.T1
OCTETS = v2_data.OCTETS
GIB = 1024 ** 3


@pytest.fixture
def app(make_app):
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'}})


def upload_v2(app, data, **formats):
    image_id = v2_data.create(app, **formats)
    return image_id, v2_data.put_file(app, image_id, data)


def refused_v2(app, image_id, response, message):
    assert response.status_int == 415, response.text
    assert message in response.text
    v2_data.assert_queued_without_data(app, image_id)
    image = v2_data.show(app, image_id)
    assert (image['virtual_size'], image['os_hash_value']) == (None, None)
    assert v2_data.get_file(app, image_id).status_int == 204


def test_raw_data_of_a_raw_image_has_its_size_as_virtual_size(app):
    """v2 spec §25 scenario 86."""
    image_id, response = upload_v2(app, b'ZZZZZ')
    assert response.status_int == 204, response.text
    image = v2_data.show(app, image_id)
    assert (image['status'], image['size'], image['virtual_size']) == (
        'active', 5, 5)


def test_raw_data_declared_qcow2_is_refused_and_queued(app):
    """v2 spec §25 scenario 97."""
    image_id, response = upload_v2(app, b'ZZZZZ', disk_format='qcow2')
    refused_v2(app, image_id, response,
               'Image disk_format qcow2 does not match stream data raw')


def test_refused_data_may_be_uploaded_again(app):
    image_id, _ = upload_v2(app, b'ZZZZZ', disk_format='qcow2')
    image = disk_images.qcow2(GIB)
    response = v2_data.put_file(app, image_id, image)
    assert response.status_int == 204, response.text
    assert v2_data.get_file(app, image_id).body == image


def test_qcow2_data_records_its_virtual_size(app):
    """v2 spec §25 scenario 98."""
    image = disk_images.qcow2(GIB)
    image_id, response = upload_v2(app, image, disk_format='qcow2')
    assert response.status_int == 204, response.text
    shown = v2_data.show(app, image_id)
    assert (shown['status'], shown['size'], shown['virtual_size']) == (
        'active', len(image), GIB)


@pytest.mark.parametrize('image', [
    disk_images.qcow2(GIB, backing_file='/etc/hostname'),
    disk_images.qcow2(
        GIB, incompatible_features=disk_images.QCOW2_EXTERNAL_DATA_FILE),
], ids=['backing-file', 'external-data-file'])
def test_unsafe_qcow2_is_refused(app, image):
    """v2 spec §25 scenario 98: a qcow2 that makes a reader open another
    file of the host is refused, whatever the image claims to be."""
    image_id, response = upload_v2(app, image, disk_format='qcow2')
    refused_v2(app, image_id, response, 'Image failed safety checks')


def test_unsafe_qcow2_is_refused_under_a_raw_disk_format(app):
    image_id, response = upload_v2(
        app, disk_images.qcow2(GIB, backing_file='/etc/hostname'))
    refused_v2(app, image_id, response, 'Image failed safety checks')


def test_a_raw_disk_format_accepts_any_safe_data(app):
    """v2 spec §12.2: a raw disk is its bytes, so a qcow2 uploaded as raw
    is accepted with its length as virtual size."""
    image = disk_images.qcow2(GIB)
    image_id, response = upload_v2(app, image)
    assert response.status_int == 204, response.text
    assert v2_data.show(app, image_id)['virtual_size'] == len(image)


def test_qcow2_data_declared_vmdk_is_refused(app):
    image_id, response = upload_v2(app, disk_images.qcow2(GIB),
                                   disk_format='vmdk')
    refused_v2(app, image_id, response,
               'Image disk_format vmdk does not match stream data qcow2')


@pytest.mark.parametrize('disk_format', ['ami', 'aki', 'ari', 'ploop'])
def test_formats_the_inspector_does_not_know_accept_raw_data(
        app, disk_format):
    image_id, response = upload_v2(app, b'ZZZZZ', disk_format=disk_format)
    assert response.status_int == 204, response.text
    assert v2_data.show(app, image_id)['virtual_size'] is None


def test_other_containers_are_not_inspected(app):
    """v2 spec §25 scenario 99, and a qcow2 inside an ovf."""
    image_id, response = upload_v2(app, b'ZZZZZ', disk_format='aki',
                                   container_format='aki')
    assert response.status_int == 204, response.text
    assert v2_data.show(app, image_id)['virtual_size'] is None
    image_id, response = upload_v2(app, b'ZZZZZ', disk_format='qcow2',
                                   container_format='ovf')
    assert response.status_int == 204, response.text
    assert v2_data.show(app, image_id)['virtual_size'] is None


def test_a_mismatch_is_accepted_when_matching_is_not_required(make_app):
    """v2 spec §25 scenario 97, require_image_format_match = false."""
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'image_format': {'require_image_format_match': False}})
    image_id, response = upload_v2(app, b'ZZZZZ', disk_format='qcow2')
    assert response.status_int == 204, response.text
    image = v2_data.show(app, image_id)
    assert (image['status'], image['virtual_size']) == ('active', None)


def test_safety_checks_refuse_even_when_matching_is_not_required(make_app):
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'image_format': {'require_image_format_match': False}})
    image_id, response = upload_v2(
        app, disk_images.qcow2(GIB, backing_file='/etc/hostname'),
        disk_format='qcow2')
    refused_v2(app, image_id, response, 'Image failed safety checks')


@pytest.mark.parametrize('data', [b'ZZZZZ', b'Z' * 1024 * 1024],
                         ids=['seen-at-the-end', 'seen-in-the-header'])
def test_v1_upload_of_mismatched_data_is_400_and_kills(app, data):
    """v2 spec §25 scenario 162 (X-16)."""
    image = app.create(headers=T1, disk_format='qcow2',
                       container_format='bare')
    response = app.request('PUT', '/v1/images/' + image['id'],
                           dict(T1, **OCTETS), data)
    assert response.status_int == 400, response.text
    assert 'does not match stream data raw' in response.text
    shown = app.request('HEAD', '/v1/images/' + image['id'], T1)
    assert shown.headers['x-image-meta-status'] == 'killed'
    assert image['id'] not in v2_data.stored_files(app)


def test_v1_create_with_unsafe_data_is_400_and_kills(app):
    sent = dict(T1, **support.OCTETS)
    sent.update({'x-image-meta-name': 'unsafe',
                 'x-image-meta-disk_format': 'qcow2',
                 'x-image-meta-container_format': 'bare'})
    response = app.request('POST', '/v1/images', sent, disk_images.qcow2(
        GIB, backing_file='/etc/hostname'))
    assert response.status_int == 400, response.text
    assert 'Image failed safety checks' in response.text
    # Lists show killed images only to a changes-since query (spec §10).
    listed = app.request(
        'GET', '/v1/images/detail?changes-since=2000-01-01T00:00:00', T1)
    assert [(i['name'], i['status']) for i in listed.json['images']] == [
        ('unsafe', 'killed')]
    assert v2_data.stored_files(app) == []


def test_v1_uploads_record_the_virtual_size(app):
    """v2 spec §25 scenario 162: raw/bare through v1, virtual_size 5 in
    both APIs."""
    image = app.create(b'ZZZZZ', headers=T1, disk_format='raw',
                       container_format='bare')
    assert image['virtual_size'] == 5
    assert v2_data.show(app, image['id'])['virtual_size'] == 5
    qcow2 = app.create(disk_images.qcow2(GIB), headers=T1,
                       disk_format='qcow2', container_format='bare')
    head = app.request('HEAD', '/v1/images/' + qcow2['id'], T1)
    assert head.headers['x-image-meta-virtual_size'] == str(GIB)


def test_an_iso_that_is_also_a_gpt_disk_is_an_iso(app):
    """v2 spec §12.2: hybrid boot images are detected as both."""
    image = disk_images.iso(40, hybrid=True)
    image_id, response = upload_v2(app, image, disk_format='iso')
    assert response.status_int == 204, response.text
    assert v2_data.show(app, image_id)['virtual_size'] == 40 * 2048


def test_a_disk_with_an_invalid_mbr_is_refused(app):
    image_id, response = upload_v2(app, disk_images.mbr(boot_flag=0x12))
    refused_v2(app, image_id, response, 'Image failed safety checks')


def test_gpt_checks_listed_as_nonfatal_only_log(make_app):
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'image_format': {'gpt_safety_checks_nonfatal': 'mbr'}})
    image = disk_images.mbr(boot_flag=0x12)
    image_id, response = upload_v2(app, image)
    assert response.status_int == 204, response.text
    assert v2_data.show(app, image_id)['virtual_size'] == len(image)
    # The option names GPT checks only: a qcow2's still refuse.
    image_id, response = upload_v2(
        app, disk_images.qcow2(GIB, backing_file='/etc/hostname'),
        disk_format='qcow2')
    refused_v2(app, image_id, response, 'Image failed safety checks')


@pytest.mark.parametrize('disk_format', ['qcow2', 'iso', 'raw'])
def test_data_of_several_formats_at_once_is_refused(app, disk_format):
    image_id, response = upload_v2(app, disk_images.qcow2_and_iso(),
                                   disk_format=disk_format)
    refused_v2(app, image_id, response, 'Image format inspection failed')
    assert 'Multiple formats detected' in response.text
