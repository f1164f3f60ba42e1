"""glance_lite's S3 uploads (glance_lite.store.s3) where a real S3 cannot
be made to go: past S3's limit of 10 000 parts. The client is a real
boto3 client answered by botocore's Stubber, one part at a time. Uploads
against a real S3 API (Swift's s3api) are in tests/stores."""

import io

import boto3
from boto3 import session as boto_session
from botocore import stub
from glance_store._drivers import s3 as s3_driver
from oslo_config import cfg
import pytest

from glance_lite.common import exception
from glance_lite import conf
from glance_lite import store
from glance_lite.store import s3

CONF = cfg.CONF
IMAGE_ID = '0b9c7c4e-52a4-4c39-9a57-1f1f8d5bd7a1'
BUCKET = 'images'
PART = 5 * 1024 * 1024


@pytest.fixture
def s3_store(tmp_path, monkeypatch):
    """glance_lite's s3 driver as glance_store loads it, one thread, 5 MiB
    parts; every boto3 client it makes is one client answered by a
    Stubber. The kwargs of each client creation are in ``made``."""
    conf.parse_args([], default_config_files=[])
    CONF.set_override('state_path', str(tmp_path))
    for name, value in {
            'stores': ['file', 's3'],
            's3_store_host': 'http://127.0.0.1:9',
            's3_store_access_key': 'key',
            's3_store_secret_key': 'secret',
            's3_store_bucket': BUCKET,
            's3_store_bucket_url_format': 'path',
            's3_store_large_object_chunk_size': 5,
            's3_store_thread_pools': 1}.items():
        CONF.set_override(name, value, group='glance_store')
    store.configure()
    driver = store.glance_store.get_store_from_scheme('s3')
    client = boto3.client('s3', endpoint_url='http://127.0.0.1:9',
                          region_name='us-east-1',
                          aws_access_key_id='key',
                          aws_secret_access_key='secret')
    made = []

    def make_client(session, *args, **kwargs):
        made.append(kwargs)
        return client

    # boto3's public client factory: whoever builds the client (the
    # driver or glance_lite), it is this one.
    monkeypatch.setattr(boto_session.Session, 'client', make_client)
    with stub.Stubber(client) as stubber:
        yield driver, stubber, made
    CONF.reset()


def test_more_parts_than_s3_takes_is_refused_and_aborted(s3_store,
                                                         monkeypatch):
    driver, stubber, _made = s3_store
    monkeypatch.setattr(s3, 'MAX_PARTS', 2)
    stubber.add_response('head_bucket', {}, {'Bucket': BUCKET})
    stubber.add_client_error('head_object', '404', http_status_code=404)
    stubber.add_response('create_multipart_upload', {'UploadId': 'u1'})
    for number in (1, 2):
        stubber.add_response('upload_part', {'ETag': '"e%d"' % number},
                             {'Bucket': BUCKET, 'Key': IMAGE_ID,
                              'UploadId': 'u1', 'PartNumber': number,
                              'Body': stub.ANY, 'ContentLength': PART})
    stubber.add_response('abort_multipart_upload', {},
                         {'Bucket': BUCKET, 'Key': IMAGE_ID,
                          'UploadId': 'u1'})

    with pytest.raises(exception.LimitExceeded) as raised:
        s3.add(driver, IMAGE_ID, io.BytesIO(b'x' * (2 * PART + 1)))

    assert "limit of 2 parts of 5 MiB" in str(raised.value)
    # Two parts sent, the upload aborted, never completed.
    stubber.assert_no_pending_responses()


def test_stores_s3_and_file_load_glance_lites_drivers(s3_store):
    driver, _stubber, _made = s3_store

    # By the entry points glance_store loads (setup.py); the operator's
    # option keeps its names.
    assert type(driver) is s3.Store
    assert type(store.glance_store.get_store_from_scheme('file')) is (
        store.local.Store)
    assert CONF.glance_store.stores == ['file', 's3']


def test_the_client_is_made_from_the_options(s3_store):
    driver, _stubber, made = s3_store

    driver.s3_client()

    assert made[-1]['service_name'] == 's3'
    assert made[-1]['endpoint_url'] == 'http://127.0.0.1:9'
    assert made[-1]['region_name'] is None
    assert made[-1]['use_ssl'] is False
    assert made[-1]['config'].s3 == {'addressing_style': 'path'}


def _factory_of_other_releases(self, loc):
    """glance_store's private client factory as every release but 5.7.0
    has it: it takes the location."""
    raise AssertionError('glance_lite must not need the private factory')


@pytest.mark.parametrize('factory', [
    # 5.7.0's own, and the signature of every other release.
    s3_driver.Store._create_s3_client, _factory_of_other_releases])
def test_leftover_multipart_upload_is_aborted_whatever_the_release(
        s3_store, monkeypatch, factory):
    # An upload interrupted by a crash left a multipart upload; removing
    # the image's partial data aborts it (S3 then drops its parts).
    driver, stubber, _made = s3_store
    monkeypatch.setattr(s3_driver.Store, '_create_s3_client', factory)
    stubber.add_response(
        'list_multipart_uploads',
        {'Uploads': [{'Key': IMAGE_ID, 'UploadId': 'u1'},
                     {'Key': IMAGE_ID + '-other', 'UploadId': 'u2'}]},
        {'Bucket': BUCKET, 'Prefix': IMAGE_ID})
    stubber.add_response('abort_multipart_upload', {},
                         {'Bucket': BUCKET, 'Key': IMAGE_ID,
                          'UploadId': 'u1'})
    # Then the object at the image's location (data_uris): none.
    stubber.add_client_error('head_object', '404', http_status_code=404,
                             expected_params={'Bucket': BUCKET,
                                              'Key': IMAGE_ID})

    removed, unsupported = store.remove_partial_data(IMAGE_ID)

    assert removed is True
    assert unsupported == []
    stubber.assert_no_pending_responses()


def test_client_gone_mid_upload_aborts_and_leaves_nothing(s3_store):
    driver, stubber, _made = s3_store
    stubber.add_response('head_bucket', {}, {'Bucket': BUCKET})
    stubber.add_client_error('head_object', '404', http_status_code=404)
    stubber.add_response('create_multipart_upload', {'UploadId': 'u1'})
    stubber.add_response('upload_part', {'ETag': '"e1"'},
                         {'Bucket': BUCKET, 'Key': IMAGE_ID,
                          'UploadId': 'u1', 'PartNumber': 1,
                          'Body': stub.ANY, 'ContentLength': PART})
    stubber.add_response('abort_multipart_upload', {},
                         {'Bucket': BUCKET, 'Key': IMAGE_ID,
                          'UploadId': 'u1'})
    # The facade's cleanup looks once more for the image's uploads, and
    # for its object.
    stubber.add_response('list_multipart_uploads', {},
                         {'Bucket': BUCKET, 'Prefix': IMAGE_ID})
    stubber.add_client_error('head_object', '404', http_status_code=404,
                             expected_params={'Bucket': BUCKET,
                                              'Key': IMAGE_ID})

    with pytest.raises(exception.ClientDisconnected):
        store.add(IMAGE_ID, _GoneAfter(b'x' * (PART + 10)), scheme='s3')

    stubber.assert_no_pending_responses()


class _GoneAfter:
    """Gives ``good`` bytes, then fails as the request body reader does
    when the client goes away."""

    def __init__(self, good):
        self._data = io.BytesIO(good)

    def read(self, size):
        block = self._data.read(size)
        if not block:
            raise exception.ClientDisconnected()
        return block
