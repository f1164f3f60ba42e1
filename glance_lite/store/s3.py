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

:class:`Store` is glance_store's s3 driver with that upload: it is
loaded by glance_store through the ``glance_lite.s3`` entry point (the
facade names it for ``stores = s3``, see docs/stores.md). Reads and
deletes stay the driver's. Every upload is a multipart upload of
``s3_store_large_object_chunk_size`` parts (the size is not known in
advance, so there is no single-part path); an empty image is a plain
empty object, as S3 cannot complete a multipart upload of no parts.

The S3 client is built here from the ``[glance_store]`` options, with
boto3's public API: the driver's own client factory is private and its
signature changes between glance_store releases. It is bounded by
``[store_requests] timeout`` and ``retries`` (botocore's defaults, 60 s
to connect and to read and five attempts, held a request to a
black-holed S3 for minutes), so reads, sizes and deletes use it too
(:meth:`Store.get`, :meth:`Store.get_size`, :meth:`Store.delete`): the
driver's would build its own, unbounded, client.
"""

from concurrent import futures
import hashlib
import threading

from boto3 import session as boto_session
from botocore import client as boto_client
from botocore import exceptions as boto_exceptions
from botocore import utils as boto_utils
import glance_store
from glance_store._drivers import s3 as s3_driver
from glance_store import capabilities
from glance_store.common import utils as store_utils
from glance_store import driver as store_driver
from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Bytes per read from the request while a part is assembled.
READ_BLOCK = 256 * 1024
# S3's limit on the parts of one upload.
MAX_PARTS = s3_driver.MAX_PART_NUM
MIB = 1024 * 1024


class Store(s3_driver.Store):
    """glance_store's s3 driver, uploading with bounded memory (see the
    module) and able to abort the multipart uploads an interrupted upload
    left (:meth:`remove_pieces`)."""

    def configure_add(self):
        """The driver's checks, then the settings this class uses, read
        from the options (not from the driver's attributes)."""
        super().configure_add()
        options = self._lite_options()
        host = options.s3_store_host
        self.lite_settings = {
            'host': host,
            'bucket': options.s3_store_bucket,
            'access_key': options.s3_store_access_key,
            'secret_key': options.s3_store_secret_key,
            'region': options.s3_store_region_name or None,
            'url_format': options.s3_store_bucket_url_format,
            'cacert': getattr(options, 's3_store_cacert', '') or '',
            'create_bucket': options.s3_store_create_bucket_on_put,
            'part_size': options.s3_store_large_object_chunk_size * MIB,
            'threads': options.s3_store_thread_pools,
            'scheme': 's3+https' if host.startswith('https://') else 's3',
            'endpoint': (host if host.startswith(('http://', 'https://'))
                         else 'http://' + host),
            'checksums': _checksum_settings(options),
        }

    def _lite_options(self):
        # The group the driver reads: [glance_store], or the backend's own
        # group under glance_store's multi-store configuration.
        if self.backend_group:
            return store_driver.BackendGroupConfiguration(
                self.OPTIONS, self.backend_group, conf=self.conf)
        return self.conf.glance_store

    def s3_client(self):
        """A new boto3 S3 client for the configured endpoint, built as
        glance_store's driver builds its own: addressing style, region
        (named, or known from an AWS host name), TLS and CA bundle,
        checksum behaviour."""
        settings = self.lite_settings
        if (settings['url_format'] == 'virtual'
                and not boto_utils.check_dns_name(settings['bucket'])):
            raise boto_exceptions.InvalidDNSNameError(
                bucket_name=settings['bucket'])
        limits = CONF.store_requests
        config = boto_client.Config(
            s3={'addressing_style': settings['url_format']},
            connect_timeout=limits.timeout, read_timeout=limits.timeout,
            # total_max_attempts counts the first attempt too.
            retries={'mode': 'standard',
                     'total_max_attempts': limits.retries + 1},
            **settings['checksums'])
        region, endpoint = None, None
        aws_region = s3_driver.get_s3_location(settings['host'])
        if settings['region']:
            region, endpoint = settings['region'], settings['host']
        elif aws_region:
            region = aws_region
        else:
            endpoint = settings['host']
        session = boto_session.Session(
            aws_access_key_id=settings['access_key'],
            aws_secret_access_key=settings['secret_key'])
        return session.client(
            service_name='s3', endpoint_url=endpoint, region_name=region,
            use_ssl=settings['scheme'] == 's3+https',
            verify=settings['cacert'] or None, config=config)

    @capabilities.check
    def get(self, location, offset=0, chunk_size=None, context=None):
        """The driver contract's get (whole object, as the driver's),
        through the bounded client, in one request."""
        loc = location.store_location
        try:
            answer = self.s3_client().get_object(Bucket=loc.bucket,
                                                 Key=loc.key)
        except boto_exceptions.ClientError as e:
            if _not_found(e):
                raise store_exc.NotFound(image=loc.key)
            raise
        size = answer['ContentLength']
        return _Chunks(store_utils.chunkiter(answer['Body'],
                                             self.READ_CHUNKSIZE),
                       size), size

    def get_size(self, location, context=None):
        """The object's size (NotFound if it does not exist)."""
        loc = location.store_location
        try:
            return self.s3_client().head_object(
                Bucket=loc.bucket, Key=loc.key)['ContentLength']
        except boto_exceptions.ClientError as e:
            if _not_found(e):
                raise store_exc.NotFound(image=loc.key)
            raise

    @capabilities.check
    def delete(self, location, context=None):
        """Delete the object (NotFound if it does not exist)."""
        loc = location.store_location
        client = self.s3_client()
        if not _object_exists(client, loc.bucket, loc.key):
            raise store_exc.NotFound(image=loc.key)
        client.delete_object(Bucket=loc.bucket, Key=loc.key)

    def check_access(self):
        """Reach S3 and have the credentials checked once (a HEAD of the
        bucket: 404 is fine, the first upload may create it); raises the
        client's error otherwise."""
        try:
            self.s3_client().head_bucket(Bucket=self.lite_settings['bucket'])
        except boto_exceptions.ClientError as e:
            if not _not_found(e):
                raise

    def get_store_location_class(self):
        # The driver finds its location class in its own module by name.
        return s3_driver.StoreLocation

    @store_driver.back_compat_add
    @capabilities.check
    def add(self, image_id, image_file, image_size, hashing_algo,
            context=None, verifier=None):
        """The driver contract's add; uploads without a signature
        verifier take the bounded path, the others the driver's."""
        if verifier is not None:
            return super().add(image_id, image_file, image_size,
                               hashing_algo, context=context,
                               verifier=verifier)
        return add(self, image_id, image_file, hashing_algo)

    def data_uris(self, image_id):
        """The one URI at which :func:`add` writes the data of
        ``image_id`` (the facade removes an interrupted upload's data by
        image id: the object, and the multipart uploads with
        :meth:`remove_pieces`)."""
        return [_location(self, image_id).get_uri()]

    def list_objects(self):
        """(name, uri, size) of each object of the bucket, then of each
        key that has only incomplete multipart uploads (an upload cut
        before its last step; size: the parts sent), so that those are
        seen and removable (the facade aborts them with
        :meth:`remove_pieces`). ``uri`` is the location :func:`add`
        writes for the key (what the catalogue holds; it carries no
        credentials). A bucket not created yet holds nothing.

        :raises: the S3 client's errors.
        """
        return _listed(self)

    def remove_pieces(self, image_id):
        """Abort every multipart upload of the object of ``image_id``
        (S3 then drops its parts). True if one was aborted."""
        client = self.s3_client()
        bucket = self.lite_settings['bucket']
        removed = False
        uploads = client.list_multipart_uploads(
            Bucket=bucket, Prefix=image_id).get('Uploads', [])
        for upload in uploads:
            if upload['Key'] == image_id:
                client.abort_multipart_upload(
                    Bucket=bucket, Key=image_id,
                    UploadId=upload['UploadId'])
                removed = True
        return removed


class _Chunks(glance_store.Indexable):
    """The chunks of an object being read, as the driver returns them."""

    def another(self):
        try:
            return next(self.wrapped)
        except StopIteration:
            return b''


def _not_found(error):
    return error.response.get('Error', {}).get('Code') in (
        '404', 'NoSuchKey', 'NoSuchBucket', 'NotFound')


def _checksum_settings(options):
    """The botocore Config arguments for glance_store's checksum options
    (``s3_store_enable_data_integrity_protection`` off: checksums only
    where S3 requires them)."""
    if not hasattr(options, 's3_store_enable_data_integrity_protection'):
        return {}
    if not options.s3_store_enable_data_integrity_protection:
        return {'request_checksum_calculation': 'when_required',
                'response_checksum_validation': 'when_required'}
    return {'request_checksum_calculation':
            options.s3_store_request_checksum_calculation,
            'response_checksum_validation':
            options.s3_store_response_checksum_validation}


def add(driver, image_id, data, hashing_algo='md5'):
    """Write ``data`` (read until b'') as the S3 object of ``image_id``
    through ``driver`` (a :class:`Store`).

    :returns: (location_url, bytes_written, md5_hex, multihash_hex,
        metadata), as the driver's add.
    :raises: Duplicate if the object exists, LimitExceeded past
        MAX_PARTS parts; S3 client errors and anything ``data`` raises
        pass through, after the multipart upload is aborted (S3 then
        drops the parts already sent).
    """
    settings = driver.lite_settings
    bucket, key = settings['bucket'], image_id
    location = _location(driver, key)
    client = driver.s3_client()
    _ensure_bucket(client, settings)
    if _object_exists(client, bucket, key):
        raise store_exc.Duplicate(image=key)

    upload_id = client.create_multipart_upload(Bucket=bucket,
                                               Key=key)['UploadId']
    try:
        parts, size, checksum, multihash = _send_parts(
            client, bucket, key, upload_id, data,
            settings['threads'], settings['part_size'], hashing_algo)
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
    return location.get_uri(), size, checksum, multihash, metadata


def _location(driver, key):
    """The location of the object ``key`` in the store's bucket, as the
    driver's own add builds it (no credentials in its URI)."""
    settings = driver.lite_settings
    return s3_driver.StoreLocation(
        store_specs={'scheme': settings['scheme'],
                     'bucket': settings['bucket'], 'key': key,
                     's3serviceurl': settings['endpoint']},
        conf=driver.conf, backend_group=driver.backend_group)


def _listed(driver):
    """What :meth:`Store.list_objects` promises, listed page by page."""
    client = driver.s3_client()
    bucket = driver.lite_settings['bucket']
    try:
        pages = client.get_paginator('list_objects_v2').paginate(
            Bucket=bucket)
        for page in pages:
            for obj in page.get('Contents', []):
                yield (obj['Key'], _location(driver, obj['Key']).get_uri(),
                       obj['Size'])
        uploads = client.get_paginator('list_multipart_uploads').paginate(
            Bucket=bucket)
        pieces = {}
        for page in uploads:
            for upload in page.get('Uploads', []):
                pieces[upload['Key']] = pieces.get(upload['Key'], 0) + (
                    _parts_size(client, bucket, upload))
    except boto_exceptions.ClientError as e:
        if _not_found(e):
            return  # no bucket: the first upload creates it
        raise
    for key, size in pieces.items():
        # A key with an object was listed with it: its uploads go with
        # that object when it is removed.
        if not _object_exists(client, bucket, key):
            yield key, _location(driver, key).get_uri(), size


def _parts_size(client, bucket, upload):
    """Bytes of the parts sent so far to a multipart upload (0 if it
    ended since it was listed)."""
    pages = client.get_paginator('list_parts').paginate(
        Bucket=bucket, Key=upload['Key'], UploadId=upload['UploadId'])
    try:
        return sum(part['Size'] for page in pages
                   for part in page.get('Parts', []))
    except boto_exceptions.ClientError as e:
        if e.response.get('Error', {}).get('Code') in ('404',
                                                       'NoSuchUpload'):
            return 0
        raise


def _head_found(head, what):
    """True if the HEAD request ``head`` finds its target, False on 404.

    :raises BadStoreConfiguration: any other S3 error, as the driver.
    """
    try:
        head()
    except boto_exceptions.ClientError as e:
        if e.response['Error']['Code'] == '404':
            return False
        LOG.error("Failed to get %s info from S3: %s", what, e)
        raise store_exc.BadStoreConfiguration(
            store_name='s3', reason="Failed to get %s info" % what)
    return True


def _object_exists(client, bucket, key):
    return _head_found(lambda: client.head_object(Bucket=bucket, Key=key),
                       'object')


def _ensure_bucket(client, settings):
    bucket = settings['bucket']
    if _head_found(lambda: client.head_bucket(Bucket=bucket), 'bucket'):
        return
    if not settings['create_bucket']:
        raise store_exc.BackendException(
            "The bucket %s does not exist in S3 and "
            "s3_store_create_bucket_on_put is false" % bucket)
    region = settings['region'] or s3_driver.get_s3_location(
        settings['host'])
    kwargs = {'Bucket': bucket}
    if region:
        kwargs['CreateBucketConfiguration'] = {'LocationConstraint': region}
    try:
        client.create_bucket(**kwargs)
    except boto_exceptions.ClientError as e:
        LOG.error("Failed to add bucket %s to S3: %s", bucket, e)
        raise store_exc.BadStoreConfiguration(
            store_name='s3', reason="Failed to add bucket to S3")


def _send_parts(client, bucket, key, upload_id, data, threads, part_size,
                hashing_algo='md5'):
    """Read ``data`` part by part and upload the parts side by side, with
    no more than ``s3_store_thread_pools`` in flight.

    :returns: ([{'PartNumber': n, 'ETag': etag}, ...] in order, size,
        md5 hex of the data, ``hashing_algo`` hex of the data).
    :raises: the first part's error, or whatever ``data`` raises; parts
        not yet started are cancelled and the ones being sent finished
        before it propagates, so the caller's abort is the last word.
    """
    free_slots = threading.Semaphore(threads)
    md5 = hashlib.md5(usedforsecurity=False)
    multihash = md5 if hashing_algo == 'md5' else hashlib.new(hashing_algo)
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
                if multihash is not md5:
                    multihash.update(body)
                size += len(body)
                future = pool.submit(_upload_part, client, bucket, key,
                                     upload_id, len(sent) + 1, body)
                future.add_done_callback(part_done)
                sent.append(future)
                del body  # the pool holds it only while it is sent
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return ([future.result() for future in sent], size, md5.hexdigest(),
            multihash.hexdigest())


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
