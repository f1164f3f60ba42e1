"""A store that is down: Swift or S3 black-holed (the relay accepts and
never answers) or refusing connections (nothing listens). Uploads,
downloads and deletes answer 503 with a message within the bound the
[store_requests] options set (defaults: 4 s timeout, 1 retry), never
500; an upload's image ends ``killed`` and the store keeps nothing of it.
A Swift store whose password is wrong still starts, logs an ERROR naming
the option, answers 503 to uploads, and /healthcheck's detail view says
so.

Before the fix (main at 43d5083) a refused Swift held an upload 31 s and
answered 500, a black-holed one held it until the client gave up, and a
wrong Swift password answered 500 with nothing logged at start."""

import time

import pytest
import requests

from tests import server as test_server
from tests.stores import conftest as stores
from tests.stores import test_object_stores as common

MIB = common.MIB
# The defaults' bound (see glance_lite/conf/store_requests.py): two
# attempts of at most 4 s with up to 2 s back-off between them, then at
# most 4 s more for the clean-up of an upload; plus the test's own slack.
BOUND = 15.0
# The test client gives up after this long (a store that holds requests
# for ever, as before the fix, fails the test instead of hanging it).
CLIENT_TIMEOUT = 90
OUTAGES = ['black-holed', 'refused']
STORES = ['swift', 's3']


def _break(relay, outage):
    if outage == 'black-holed':
        relay.pause()
    else:
        relay.cut()


def _restore(relay, outage):
    if outage == 'black-holed':
        relay.resume()
    else:
        relay.start()  # the same port again


def _timed(call):
    """(answer or the exception the client raised, seconds taken)."""
    started = time.monotonic()
    try:
        answer = call()
    except requests.RequestException as e:
        answer = e
    return answer, time.monotonic() - started


def _report(what, answer, seconds):
    status = getattr(answer, 'status_code', type(answer).__name__)
    print('%s: %s in %.1f s' % (what, status, seconds))


def _assert_503(answer, seconds):
    assert isinstance(answer, requests.Response), (
        'no answer after %.1f s: %r' % (seconds, answer))
    assert answer.status_code == 503, answer.text
    assert 'unavailable' in answer.text
    assert seconds < BOUND, seconds


def _status(api, image_id):
    return requests.head(api.url + '/v1/images/' + image_id,
                         timeout=30).headers['x-image-meta-status']


def _upload(api, store, image_id, size=MIB):
    headers = {
        'Content-Type': 'application/octet-stream',
        'x-image-meta-name': 'outage', 'x-image-meta-id': image_id,
        'x-image-meta-disk-format': 'raw',
        'x-image-meta-container-format': 'bare',
        'x-image-meta-store': store}
    return requests.post(api.url + '/v1/images', headers=headers,
                         data=common.Payload(size).chunks(),
                         timeout=CLIENT_TIMEOUT)


@pytest.mark.parametrize('outage', OUTAGES)
@pytest.mark.parametrize('store', STORES)
def test_upload_to_a_store_that_is_down_answers_503(relayed, listing,
                                                    store, outage):
    api, relay = relayed
    image_id = common.new_id()
    _break(relay, outage)
    try:
        answer, seconds = _timed(lambda: _upload(api, store, image_id))
    finally:
        _restore(relay, outage)
    _report('upload to %s %s' % (outage, store), answer, seconds)

    _assert_503(answer, seconds)
    assert _status(api, image_id) == 'killed'
    assert listing(store, image_id) == []
    common.assert_no_store_details(api, answer)


@pytest.mark.parametrize('outage', OUTAGES)
@pytest.mark.parametrize('store', STORES)
def test_download_and_delete_from_a_store_that_is_down_answer_503(
        relayed, listing, store, outage):
    api, relay = relayed
    image_id = common.new_id()
    created = _upload(api, store, image_id, size=2 * MIB)
    assert created.status_code == 201, created.text
    _break(relay, outage)
    try:
        got, get_seconds = _timed(lambda: requests.get(
            api.url + '/v1/images/' + image_id, timeout=CLIENT_TIMEOUT))
        deleted, delete_seconds = _timed(lambda: requests.delete(
            api.url + '/v1/images/' + image_id, timeout=CLIENT_TIMEOUT))
    finally:
        _restore(relay, outage)
    _report('download from %s %s' % (outage, store), got, get_seconds)
    _report('delete from %s %s' % (outage, store), deleted, delete_seconds)

    _assert_503(got, get_seconds)
    _assert_503(deleted, delete_seconds)
    # The data is still there: the image is kept, and served again.
    assert _status(api, image_id) == 'active'
    assert common.download_md5(api, image_id)[1] == 2 * MIB
    common.assert_no_store_details(api, got, deleted)


@pytest.fixture(scope='module')
def wrong_password_api(swift):
    """A glance-lite-api whose swift store has a wrong password, with the
    healthcheck's detail view on."""
    config = stores.store_config(swift, swift.keystone)
    config['swift_store_key'] = 'not-the-password'
    srv = test_server.Server({'glance_store': config,
                              'healthcheck': {'detailed': 'true'}}).start()
    srv.keystone_password = swift.keystone.glance.password
    yield srv
    srv.stop()


def test_wrong_swift_password_is_reported_at_start(wrong_password_api):
    api = wrong_password_api
    errors = [line for line in api.log().splitlines()
              if ' ERROR ' in line and 'swift' in line]
    print('\n'.join(errors))
    assert any('swift_store_key' in line and 'authenticate' in line
               for line in errors), api.log()
    assert 'not-the-password' not in api.log()


def test_wrong_swift_password_upload_answers_503(wrong_password_api,
                                                 listing):
    api = wrong_password_api
    image_id = common.new_id()
    answer, seconds = _timed(lambda: _upload(api, 'swift', image_id))
    _report('upload to swift with a wrong password', answer, seconds)

    assert isinstance(answer, requests.Response), answer
    assert answer.status_code == 503, answer.text
    assert 'authenticate' in answer.text
    assert seconds < BOUND
    assert _status(api, image_id) == 'killed'
    assert listing('swift', image_id) == []
    # The other stores still take uploads.
    assert _upload(api, 's3', common.new_id()).status_code == 201


def test_wrong_swift_password_in_healthcheck_detail(wrong_password_api):
    api = wrong_password_api
    plain = requests.get(api.url + '/healthcheck', timeout=30)
    detail = requests.get(api.url + '/healthcheck', timeout=30,
                          headers={'Accept': 'application/json'})

    # A store outage does not take the node out of a load balancer (every
    # node shares the store): the plain view stays 200 OK (with the
    # detail view on, oslo.middleware lists every backend's reason in it).
    assert plain.status_code == 200
    assert plain.text.splitlines()[0] == 'OK'
    head = requests.head(api.url + '/healthcheck', timeout=30)
    assert head.status_code == 204
    assert detail.status_code == 200
    reasons = {r['reason']: r['details'] for r in detail.json()['reasons']}
    stores_reason = [r for r in reasons if r.startswith('stores:')]
    assert stores_reason, reasons
    assert 'swift: cannot authenticate' in stores_reason[0]
    assert 's3: ok' in stores_reason[0]
    assert 'swift_store_key' in reasons[stores_reason[0]]
    assert 'not-the-password' not in detail.text
