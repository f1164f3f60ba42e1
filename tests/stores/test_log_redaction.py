"""No store location or credential in any log line, at any level (issue
13, finding 10): a server logging at DEBUG goes through failures on the
file store, Swift and S3 — data gone behind its back, an S3 endpoint that
refuses connections — and its whole log is searched for what would tell
a reader where image data lives or how to reach it."""

import os

import pytest
import requests

from tests import processes
from tests import server as test_server
from tests.stores import conftest as stores
from tests.stores import test_object_stores as common
from tests import swift_server


@pytest.fixture
def debug_api(swift):
    srv = test_server.Server({
        'DEFAULT': {'debug': 'true'},
        'glance_store': stores.store_config(swift, swift.keystone)}).start()
    yield srv
    srv.stop()


@pytest.fixture
def dead_s3_api(swift):
    """S3 as the default store, at an address nothing listens on."""
    config = stores.store_config(swift, swift.keystone, default_store='s3')
    config['s3_store_host'] = 'http://127.0.0.1:%d' % processes.free_port()
    srv = test_server.Server({'DEFAULT': {'debug': 'true'},
                              'glance_store': config}).start()
    srv.dead_s3 = config['s3_store_host']
    yield srv
    srv.stop()


def _forbidden_in_logs(srv, swift):
    account = swift.account_url.rsplit('/', 1)[1]
    return ['swift://', 'swift+', 's3://', 's3+', 'file://', 'rbd://',
            account, swift.proxy_url + '/', swift.keystone.glance.password,
            swift_server.S3_SECRET_KEY, swift.keystone.token('glance'),
            srv.datadir]


def _assert_clean(srv, forbidden):
    log = srv.log()
    found = [word for word in forbidden if word in log]
    lines = [line for line in log.splitlines()
             if any(word in line for word in found)]
    assert not found, '\n'.join(lines[:20])


def test_store_failures_leave_no_location_in_the_log(debug_api, swift,
                                                     swift_client,
                                                     s3_client):
    created = {}
    for store in ('file', 'swift', 's3'):
        answer = common.create(debug_api, store, common.Payload(1024))
        assert answer.status_code == 201, answer.text
        created[store] = answer.json()['image']['id']
    # The data goes missing behind the service's back.
    os.remove(os.path.join(debug_api.datadir, created['file']))
    swift_client.delete_object(stores.CONTAINER, created['swift'])
    s3_client.delete_object(Bucket=stores.BUCKET, Key=created['s3'])

    for image_id in created.values():
        answer = requests.get(debug_api.url + '/v1/images/' + image_id,
                              timeout=60)
        assert answer.status_code in (404, 500, 503), answer.status_code
        assert requests.delete(debug_api.url + '/v1/images/' + image_id,
                               timeout=60).status_code == 200

    _assert_clean(debug_api, _forbidden_in_logs(debug_api, swift))


def test_an_unreachable_s3_endpoint_is_not_named_in_the_log(dead_s3_api,
                                                            swift):
    answer = common.create(dead_s3_api, 's3', common.Payload(1024))

    assert answer.status_code >= 500, answer.text
    log = dead_s3_api.log()
    assert 'Could not connect to the endpoint URL' in log  # the failure
    _assert_clean(dead_s3_api, _forbidden_in_logs(dead_s3_api, swift) + [
        dead_s3_api.dead_s3 + '/'])
