"""Uploads to glance_store's S3 store with a bounded number of parts in
memory.

glance_store's s3 driver reads the request as fast as the client sends
it and hands every part to its thread pool without waiting: when the
client is faster than S3, the parts queue in memory, so an upload's
memory grows with the image (a 1 GiB upload in 5 MiB parts took the API
server past 400 MiB in CI, 190-260 MiB on a quiet run). Here the next
part is read from the request only when one of ``s3_store_thread_pools``
upload slots is free: an upload holds at most that many parts (being
read or being sent), whatever the image size, and a slow S3 slows the
client down instead (TCP backpressure).

Only the upload is done here, with the driver's own client, bucket
handling and location; reads and deletes stay with the driver. Every
upload is a multipart upload of ``s3_store_large_object_chunk_size``
parts (the size is not known in advance, so there is no single-part
path); an empty image is a plain empty object, as S3 cannot complete a
multipart upload of no parts.
"""

from concurrent import futures
import hashlib
import threading

from glance_store._drivers import s3 as s3_driver
from glance_store import exceptions as store_exc
from oslo_log import log as logging

from glance_lite.common import exception

LOG = logging.getLogger(__name__)

# Bytes per read from the request while a part is assembled.
READ_BLOCK = 256 * 1024
# S3's limit on the parts of one upload.
MAX_PARTS = s3_driver.MAX_PART_NUM


def handles(driver):
    """True for glance_store's S3 store."""
    return isinstance(driver, s3_driver.Store)


def add(driver, image_id, data):
    """Write ``data`` (read until b'') as the S3 object of ``image_id``.

    :returns: (location_url, bytes_written, md5_hex, metadata), as the
        driver's add.
    :raises: Duplicate if the object exists, LimitExceeded past
        MAX_PARTS parts; S3 client errors and anything ``data`` raises
        pass through, after the multipart upload is aborted (S3 then
        drops the parts already sent).
    """
    location = s3_driver.StoreLocation(
        store_specs={'scheme': driver.scheme, 'bucket': driver.bucket,
                     'key': image_id, 's3serviceurl': driver.full_s3_host},
        conf=driver.conf, backend_group=driver.backend_group)
    # The driver's private helpers (glance_store is pinned in
    # constraints.txt): the same client, bucket creation and existence
    # checks as its own add.
    client, bucket, key = driver._operation_set(location)
    _ensure_bucket(driver, client, bucket)
    if driver._object_exists(client, bucket, key):
        raise store_exc.Duplicate(image=key)

    upload_id = client.create_multipart_upload(Bucket=bucket,
                                               Key=key)['UploadId']
    try:
        parts, size, checksum = _send_parts(driver, client, bucket, key,
                                            upload_id, data)
        if parts:
            client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id,
                MultipartUpload={'Parts': parts})
    except BaseException as e:
        if _abort(client, bucket, key, upload_id):
            LOG.info("Aborted the S3 multipart upload of image %s after "
                     "%s: S3 drops the parts sent", key, type(e).__name__)
        raise
    if not parts:
        _abort(client, bucket, key, upload_id)
        client.put_object(Body=b'', Bucket=bucket, Key=key)
    metadata = {'store': driver.backend_group} if driver.backend_group else {}
    return location.get_uri(), size, checksum, metadata


def _ensure_bucket(driver, client, bucket):
    if driver._bucket_exists(client, bucket):
        return
    if not driver._option_get('s3_store_create_bucket_on_put'):
        raise store_exc.BackendException(
            "The bucket %s does not exist in S3 and "
            "s3_store_create_bucket_on_put is false" % bucket)
    driver._create_bucket(client, driver._option_get('s3_store_host'),
                          bucket, driver._option_get('s3_store_region_name'))


def _send_parts(driver, client, bucket, key, upload_id, data):
    """Read ``data`` part by part and upload the parts side by side, with
    no more than ``s3_store_thread_pools`` in flight.

    :returns: ([{'PartNumber': n, 'ETag': etag}, ...] in order, size,
        md5 hex of the data).
    :raises: the first part's error, or whatever ``data`` raises; parts
        not yet started are cancelled and the ones being sent finished
        before it propagates, so the caller's abort is the last word.
    """
    threads = driver.s3_store_thread_pools
    part_size = driver.s3_store_large_object_chunk_size
    free_slots = threading.Semaphore(threads)
    md5 = hashlib.md5(usedforsecurity=False)
    failures = []
    sent = []
    size = 0

    def part_done(future):
        if not future.cancelled() and future.exception() is not None:
            failures.append(future.exception())
        free_slots.release()

    with futures.ThreadPoolExecutor(max_workers=threads,
                                    thread_name_prefix='s3-part') as pool:
        try:
            while True:
                free_slots.acquire()
                if failures:
                    raise failures[0]
                body = _read_part(data, part_size)
                if not body:
                    break
                if len(sent) == MAX_PARTS:
                    raise exception.LimitExceeded(
                        "Image exceeds the S3 store's limit of %d parts of "
                        "%d MiB (s3_store_large_object_chunk_size)"
                        % (MAX_PARTS, part_size // (1024 * 1024)))
                md5.update(body)
                size += len(body)
                future = pool.submit(_upload_part, client, bucket, key,
                                     upload_id, len(sent) + 1, body)
                future.add_done_callback(part_done)
                sent.append(future)
                del body  # the pool holds it only while it is sent
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [future.result() for future in sent], size, md5.hexdigest()


def _read_part(data, part_size):
    """Up to ``part_size`` bytes of ``data``; b'' at its end."""
    blocks = []
    have = 0
    while have < part_size:
        block = data.read(min(READ_BLOCK, part_size - have))
        if not block:
            break
        blocks.append(block)
        have += len(block)
    return b''.join(blocks)


def _upload_part(client, bucket, key, upload_id, number, body):
    result = client.upload_part(Body=body, Bucket=bucket, Key=key,
                                PartNumber=number, UploadId=upload_id,
                                ContentLength=len(body))
    return {'PartNumber': number, 'ETag': result['ETag']}


def _abort(client, bucket, key, upload_id):
    """Abort the multipart upload. True if it was; a failure is logged
    (the facade's cleanup looks for the image's uploads once more)."""
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key,
                                      UploadId=upload_id)
    except Exception as e:
        LOG.warning("Could not abort the S3 multipart upload of %s: %s",
                    key, type(e).__name__)
        return False
    return True
