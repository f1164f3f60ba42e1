"""``glance-lite-manage store check [--repair]`` on Swift and S3 (Swift's
s3api): objects written behind the service's back and the pieces an
interrupted upload leaves (Swift segments without their manifest, S3
multipart uploads never completed) are reported as orphans of their
image id and removed by ``--repair``; the data of active images, small
and segmented, is not reported; an active image whose data was deleted
behind its back is reported as "data missing". No line shows a store
credential.

The server here keeps its images in a container and a bucket of its own,
so that the check sees only what these tests put there (the other store
tests' images are in the shared ones, unknown to this server's
catalogue)."""

import hashlib
import os
import uuid

import pytest
import requests

from tests.reliability import faults_support as fs
from tests import server as test_server
from tests.stores import conftest as stores
from tests import swift_server

CONTAINER = 'glance-check'
BUCKET = 'glance-check-s3'
STORES = ['swift', 's3']
MIB = 1024 * 1024
# Three segments (Swift: 5 * 1000 KiB) or parts (S3: 5 MiB).
SEGMENTED = 12 * MIB + 5


@pytest.fixture(scope='module')
def check_api(swift):
    """A glance-lite-api on the file, http, swift and s3 stores, with
    its own container and bucket."""
    config = stores.store_config(swift, swift.keystone)
    config.update({'swift_store_container': CONTAINER,
                   's3_store_bucket': BUCKET})
    srv = test_server.Server({'glance_store': config}).start()
    yield srv
    srv.stop()


@pytest.fixture
def held(listing):
    """held(store, image_id): what the store holds for the image in this
    module's container or bucket."""
    def _held(store, image_id):
        return listing(store, image_id, container=CONTAINER, bucket=BUCKET)
    return _held


def _secrets(swift):
    return [swift.keystone.glance.password, swift_server.S3_SECRET_KEY,
            swift_server.S3_ACCESS_KEY]


def _check(srv, swift, *args):
    """Run the check; (exit status, stdout), with no credential in
    either output."""
    result = srv.manage('store', 'check', *args)
    output = result.stdout + result.stderr
    assert result.returncode in (0, 1), output
    for secret in _secrets(swift):
        assert secret not in output, secret
    return result.returncode, result.stdout


def _line_of(report, image_id):
    lines = [line for line in report.splitlines() if image_id in line]
    assert len(lines) == 1, report
    return lines[0]


def _upload(srv, store, data):
    response = fs.upload(srv, data, headers={'x-image-meta-store': store})
    assert response.status_code == 201, response.text
    image = response.json()['image']
    assert image['status'] == 'active'
    return image['id']


def _ensure_container_or_bucket(srv, store):
    # The first upload creates them, as in production.
    _upload(srv, store, b'first')


def _put_object(store, name, data, swift_client, s3_client):
    if store == 'swift':
        swift_client.put_object(CONTAINER, name, data)
    else:
        s3_client.put_object(Bucket=BUCKET, Key=name, Body=data)


def _put_pieces(store, image_id, swift_client, s3_client):
    """Leave what an upload cut mid-way leaves: two Swift segments and no
    manifest, or an S3 multipart upload with one part. Returns their
    size."""
    if store == 'swift':
        for number, data in ((1, b's' * 3000), (2, b's' * 1000)):
            swift_client.put_object(CONTAINER, '%s-%05d' % (image_id, number),
                                    data)
        return 4000
    upload_id = s3_client.create_multipart_upload(
        Bucket=BUCKET, Key=image_id)['UploadId']
    s3_client.upload_part(Bucket=BUCKET, Key=image_id, PartNumber=1,
                          UploadId=upload_id, Body=b'p' * 2500)
    return 2500


def _location_path(store, image_id):
    """How the end of an orphan's location reads in the report."""
    return '/%s/%s' % (CONTAINER if store == 'swift' else BUCKET, image_id)


@pytest.mark.parametrize('store', STORES)
def test_object_no_image_needs_is_reported_and_removed_by_repair(
        check_api, swift, held, swift_client, s3_client, store):
    _ensure_container_or_bucket(check_api, store)
    orphan = str(uuid.uuid4())
    _put_object(store, orphan, b'nobody' * 100, swift_client, s3_client)

    code, report = _check(check_api, swift)

    assert code == 1
    line = _line_of(report, orphan)
    # Swift's location holds the store user's password: not shown.
    assert line.startswith('orphan swift+http://***@' if store == 'swift'
                           else 'orphan s3://'), line
    assert line.endswith('%s (600 bytes, no image): %s'
                         % (_location_path(store, orphan), orphan)), line

    code, report = _check(check_api, swift, '--repair')

    assert code == 0, report
    assert _line_of(report, orphan).endswith(' -> removed')
    assert held(store, orphan) == []
    code, report = _check(check_api, swift)
    assert code == 0, report
    assert 'Store check: consistent.' in report


@pytest.mark.parametrize('store', STORES)
def test_pieces_of_a_cut_upload_are_an_orphan_of_their_image_and_repair_removes_them(  # noqa: E501
        check_api, swift, held, swift_client, s3_client, store):
    _ensure_container_or_bucket(check_api, store)
    cut = str(uuid.uuid4())
    size = _put_pieces(store, cut, swift_client, s3_client)
    assert held(store, cut) != []

    code, report = _check(check_api, swift)

    assert code == 1
    assert _line_of(report, cut).endswith(
        '%s (%d bytes, no image): %s' % (_location_path(store, cut), size,
                                         cut))

    code, report = _check(check_api, swift, '--repair')

    assert code == 0, report
    assert _line_of(report, cut).endswith(' -> removed')
    # No segment; no multipart upload, nor its parts in s3api's
    # +segments container.
    assert held(store, cut) == []
    code, report = _check(check_api, swift)
    assert code == 0, report
    assert 'Store check: consistent.' in report


@pytest.mark.parametrize('store', STORES)
def test_data_of_active_images_is_not_reported(check_api, swift, held,
                                               store):
    small = _upload(check_api, store, b'a' * 3000)
    data = os.urandom(SEGMENTED)
    segmented = _upload(check_api, store, data)
    assert len(held(store, segmented)) > 1  # pieces and object (manifest)

    code, report = _check(check_api, swift)

    assert code == 0, report
    assert 'Store check: consistent.' in report
    assert small not in report
    assert segmented not in report
    code, report = _check(check_api, swift, '--repair')
    assert code == 0, report
    assert fs.download_md5(check_api, segmented) == (
        hashlib.md5(data).hexdigest())
    assert fs.status_of(check_api, small) == 'active'
    assert len(held(store, segmented)) > 1


@pytest.mark.parametrize('store', STORES)
def test_pieces_of_an_upload_in_flight_are_not_reported(
        check_api, swift, held, store):
    _ensure_container_or_bucket(check_api, store)
    in_flight = fs.RawUpload(check_api, str(uuid.uuid4()),
                             headers={'x-image-meta-store': store})
    in_flight.send(os.urandom(SEGMENTED))
    fs.wait_until(lambda: held(store, in_flight.image_id),
                  what='the first pieces in the store')

    code, report = _check(check_api, swift)

    assert code == 0, report
    assert in_flight.image_id not in report
    status, body = in_flight.finish()
    assert status == 201, body
    assert fs.download_md5(check_api, in_flight.image_id) == (
        in_flight.md5.hexdigest())


@pytest.mark.parametrize('store', STORES)
def test_active_image_whose_data_was_deleted_is_reported_as_data_missing(
        check_api, swift, held, swift_client, s3_client, store):
    lost = _upload(check_api, store, os.urandom(SEGMENTED))
    if store == 'swift':
        # The manifest only: its segments become an orphan once the
        # image is no longer active.
        swift_client.delete_object(CONTAINER, lost)
    else:
        s3_client.delete_object(Bucket=BUCKET, Key=lost)

    code, report = _check(check_api, swift)

    assert code == 1
    line = _line_of(report, lost)
    assert line.startswith('image %s (active) ' % lost), line
    assert line.endswith('%s: data missing' % _location_path(store, lost))

    code, report = _check(check_api, swift, '--repair')

    assert code == 0, report
    assert _line_of(report, lost).endswith(
        ': data missing -> location dropped, image killed')
    assert fs.status_of(check_api, lost) == 'killed'
    answer = requests.get('%s/v1/images/%s' % (check_api.url, lost),
                          timeout=30)
    assert answer.status_code != 200
    if store == 'swift':
        # The segments are the orphan of a killed image now: the next
        # check lists them, the next repair removes them.
        code, report = _check(check_api, swift)
        assert code == 1
        assert _line_of(report, lost).endswith(
            '(%d bytes, image killed): %s' % (SEGMENTED, lost))
        assert _check(check_api, swift, '--repair')[0] == 0
    assert held(store, lost) == []
    code, report = _check(check_api, swift)
    assert code == 0, report
    assert 'Store check: consistent.' in report
