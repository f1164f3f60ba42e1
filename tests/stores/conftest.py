"""The store tests' real object store: one Swift all-in-one
(tests/swift_server.py) for the whole run, reached through its Swift API
(authenticated by the integration tests' Keystone) and through its S3
API. Every test here is in the xdist group ``stores``, so that one worker
runs them all and Swift starts once; the rbd tests (test_rbd.py) are in
the group ``ceph``, with the one Ceph cluster (tests/ceph_cluster.py)
they share. When Swift or Keystone cannot be
installed or started the tests fail with their logs: never skipped."""

import os
import subprocess
import sys
import tempfile

import boto3
import botocore.config
import pytest
import swiftclient

from tests import ceph_cluster
from tests.integration.conftest import keystone  # noqa: F401 - fixture
from tests import relay as relay_mod
from tests import server as test_server
from tests import swift_server

# Images go in this container (Swift) and bucket (S3).
CONTAINER = 'glance'
BUCKET = 'glance-s3'
# Segments (Swift) and parts (S3) of this many MiB: the smallest S3
# allows, so that the small images of the failure tests are segmented too.
SEGMENT_MB = 5
# Parts the S3 store sends side by side, behind the relay.
S3_THREADS = 4


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if not str(item.fspath).startswith(here):
            continue
        # The rbd tests need only Ceph: another worker may run them
        # while this one runs the Swift and S3 ones.
        group = ('ceph' if os.path.basename(str(item.fspath)) ==
                 'test_rbd.py' else 'stores')
        item.add_marker(pytest.mark.xdist_group(group))


def _set_up(script, *args):
    """Run a tools/*/setup.sh; the test fails with its output if it
    does (never skipped)."""
    result = subprocess.run(['bash', script] + list(args),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        pytest.fail('%s failed (exit %d):\n%s' % (
            script, result.returncode, result.stdout), pytrace=False)


@pytest.fixture(scope='session')
def swift(keystone, tmp_path_factory):  # noqa: F811 - the fixture above
    """A running tests.swift_server.Swift."""
    _set_up(swift_server.SETUP_SCRIPT)
    server = swift_server.Swift()
    try:
        server.start(tempfile.mkdtemp(
            prefix='swift-', dir=str(tmp_path_factory.getbasetemp())),
            keystone)
    except (swift_server.SwiftError, RuntimeError) as e:
        pytest.fail(str(e), pytrace=False)
    server.keystone = keystone
    yield server
    server.stop()


@pytest.fixture(scope='session')
def ceph(tmp_path_factory):
    """A running tests.ceph_cluster.CephCluster (one for the whole run),
    with the rados and rbd bindings importable in the project's venv."""
    _set_up(ceph_cluster.SETUP_SCRIPT, sys.executable)
    cluster = ceph_cluster.CephCluster()
    try:
        cluster.start(tempfile.mkdtemp(
            prefix='ceph-', dir=str(tmp_path_factory.getbasetemp())))
    except ceph_cluster.CephError as e:
        pytest.fail(str(e), pytrace=False)
    yield cluster
    cluster.stop()


def store_config(swift, keystone, default_store='file'):  # noqa: F811
    """glance_lite's [glance_store] section for every store the tests
    use: file, http, swift (Keystone v3) and s3 (Swift's s3api)."""
    glance = keystone.glance
    return {
        'stores': 'file, http, swift, s3',
        'default_store': default_store,
        'swift_store_auth_address': keystone.url,
        'swift_store_user': '%s:%s' % (glance.project_name,
                                       glance.username),
        'swift_store_key': glance.password,
        'swift_store_container': CONTAINER,
        'swift_store_create_container_on_put': 'true',
        'swift_store_large_object_size': SEGMENT_MB,
        'swift_store_large_object_chunk_size': SEGMENT_MB,
        's3_store_host': swift.s3_url,
        's3_store_access_key': swift_server.S3_ACCESS_KEY,
        's3_store_secret_key': swift_server.S3_SECRET_KEY,
        's3_store_bucket': BUCKET,
        's3_store_create_bucket_on_put': 'true',
        's3_store_bucket_url_format': 'path',
        's3_store_region_name': swift_server.S3_REGION,
        's3_store_large_object_chunk_size': SEGMENT_MB,
    }


@pytest.fixture(scope='module')
def api(swift):
    """A glance-lite-api with the file, http, swift and s3 stores."""
    srv = test_server.Server({'glance_store': store_config(
        swift, swift.keystone)}).start()
    # A credential of the swift store, looked for in answers and logs.
    srv.keystone_password = swift.keystone.glance.password
    yield srv
    srv.stop()


@pytest.fixture
def relayed(swift):
    """A glance-lite-api whose swift and s3 stores reach the Swift proxy
    through a TCP relay the test can break."""
    port = int(swift.proxy_url.rsplit(':', 1)[1])
    relay = relay_mod.TcpRelay('127.0.0.1', port)
    relay.start()
    relay_url = 'http://127.0.0.1:%d' % relay.port
    config = store_config(swift, swift.keystone)
    config.update({
        # The storage URL from Keystone's catalog, through the relay.
        'swift_store_endpoint': relay_url + swift.account_url[
            len(swift.proxy_url):],
        's3_store_host': relay_url,
        's3_store_thread_pools': S3_THREADS,
    })
    srv = test_server.Server({'glance_store': config}).start()
    srv.keystone_password = swift.keystone.glance.password
    try:
        yield srv, relay
    finally:
        srv.stop()
        relay.cut()


@pytest.fixture(scope='session')
def swift_client(swift):
    """python-swiftclient on the account glance_store writes to."""
    return swiftclient.Connection(
        preauthurl=swift.account_url,
        preauthtoken=swift.keystone.token('glance'))


@pytest.fixture(scope='session')
def s3_swift_client(swift):
    """python-swiftclient on the S3 user's account, where s3api keeps
    the parts of multipart uploads (``<bucket>+segments``)."""
    return swiftclient.Connection(
        authurl=swift.tempauth_url, user=swift_server.S3_ACCESS_KEY,
        key=swift_server.S3_SECRET_KEY, auth_version='1')


@pytest.fixture(scope='session')
def s3_client(swift):
    """boto3 on Swift's S3 API, as glance_store's s3 driver uses it."""
    return boto3.client(
        's3', endpoint_url=swift.s3_url, region_name=swift_server.S3_REGION,
        aws_access_key_id=swift_server.S3_ACCESS_KEY,
        aws_secret_access_key=swift_server.S3_SECRET_KEY,
        config=botocore.config.Config(s3={'addressing_style': 'path'}))


def stored_names(store, image_id, swift_client, s3_client, s3_swift_client,
                 container=CONTAINER, bucket=BUCKET):
    """Everything the object store holds for the image, listed on the
    store itself: Swift objects (manifest and segments); S3 objects,
    multipart uploads in progress, and the parts s3api keeps in the
    bucket's +segments container."""
    if store == 'swift':
        try:
            return [o['name'] for o in swift_client.get_container(
                container, prefix=image_id, full_listing=True)[1]]
        except Exception as e:  # the container is made by the first upload
            if getattr(e, 'http_status', None) == 404:
                return []
            raise
    try:
        names = [o['Key'] for o in s3_client.list_objects_v2(
            Bucket=bucket, Prefix=image_id).get('Contents', [])]
    except s3_client.exceptions.NoSuchBucket:
        return []  # the bucket is made by the first upload
    names += ['upload:' + u['Key'] for u in s3_client.list_multipart_uploads(
        Bucket=bucket, Prefix=image_id).get('Uploads', [])]
    try:
        names += ['part:' + o['name'] for o in s3_swift_client.get_container(
            bucket + '+segments', prefix=image_id, full_listing=True)[1]]
    except Exception as e:
        if getattr(e, 'http_status', None) != 404:
            raise
    return names


@pytest.fixture
def listing(swift_client, s3_client, s3_swift_client):
    """listing(store, image_id): what the store holds for the image
    (stored_names)."""
    def _list(store, image_id, **where):
        return stored_names(
            store, image_id, swift_client, s3_client, s3_swift_client,
            **where)
    return _list
