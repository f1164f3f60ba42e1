"""glance_lite's S3 uploads (glance_lite.store.s3) where a real S3 cannot
be made to go: past S3's limit of 10 000 parts. The client is a real
boto3 client answered by botocore's Stubber, one part at a time. Uploads
against a real S3 API (Swift's s3api) are in tests/stores."""

import io

import boto3
from botocore import stub
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
    """glance_store's s3 driver, one thread, 5 MiB parts, its client
    stubbed."""
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
    monkeypatch.setattr(driver, '_create_s3_client', lambda: client)
    with stub.Stubber(client) as stubber:
        yield driver, stubber
    CONF.reset()


def test_more_parts_than_s3_takes_is_refused_and_aborted(s3_store,
                                                         monkeypatch):
    driver, stubber = s3_store
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
