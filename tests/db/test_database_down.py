"""A real glance-lite-api whose PostgreSQL or MySQL/MariaDB catalogue is
unreachable: it starts (after oslo.db's start-up retries), v1 requests
answer 503 at once instead of 500 or hanging, and it serves again by
itself when the database is back."""

import time
import uuid

import pytest
import requests
from sqlalchemy.engine import url as sa_url

from tests import databases
from tests import relay as relay_mod
from tests import server as test_server

# Nothing listens on port 1.
UNREACHABLE = {
    'postgresql': 'postgresql+psycopg2://glance:x@127.0.0.1:1/glance',
    'mysql': 'mysql+pymysql://glance:x@127.0.0.1:1/glance?charset=utf8mb4',
}
RETRY_INTERVAL = 4


@pytest.fixture(params=sorted(UNREACHABLE))
def api(request):
    srv = test_server.Server({'database': {
        'connection': UNREACHABLE[request.param],
        'max_retries': 1, 'retry_interval': RETRY_INTERVAL}})
    started = time.monotonic()
    srv.start(timeout=60)
    srv.start_seconds = time.monotonic() - started
    yield srv
    srv.stop()


def test_unreachable_database_is_a_quick_503(api):
    # Start-up waited for the database as [database] max_retries and
    # retry_interval say, then went on.
    assert api.start_seconds >= RETRY_INTERVAL
    assert 'SQL connection failed' in api.log()
    assert 'Could not check the catalogue schema' in api.log()

    # A well-formed id: a malformed one is 404 before the catalogue.
    image_path = '/v1/images/%s' % uuid.uuid4()
    for method, path in [('GET', '/v1/images'), ('HEAD', image_path),
                         ('POST', '/v1/images')]:
        started = time.monotonic()
        response = requests.request(method, api.url + path, timeout=30)
        # No start-up retries for a request: it is not held.
        assert time.monotonic() - started < RETRY_INTERVAL - 1
        assert response.status_code == 503, (method, path, response.text)
        assert response.headers['x-openstack-request-id'].startswith('req-')
        # Neither the database URL nor its credentials are shown.
        assert 'x@127.0.0.1' not in response.text
    assert 'Database unreachable' in api.log()


@pytest.fixture(params=['postgresql', 'mysql'])
def relayed_api(request):
    """A server whose catalogue (migrated, holding one image) is reached
    through a tests.relay.TcpRelay."""
    database = databases.Database(request.param)
    url = sa_url.make_url(database.url)
    relay = relay_mod.TcpRelay(url.host, url.port)
    relay.start()
    srv = test_server.Server({'database': {
        'connection': url.set(host='127.0.0.1', port=relay.port)
        .render_as_string(hide_password=False),
        'max_retries': 1, 'retry_interval': 1}})
    try:
        assert srv.manage('db', 'sync').returncode == 0
        srv.start(timeout=60)
        yield srv, relay
    finally:
        srv.stop()
        relay.cut()
        database.drop()


def test_the_api_serves_again_when_the_database_comes_back(relayed_api):
    srv, relay = relayed_api
    created = requests.post(srv.url + '/v1/images',
                            headers={'x-image-meta-name': 'kept',
                                     'x-image-meta-is_public': 'true'})
    assert created.status_code == 201
    image_url = srv.url + '/v1/images/' + created.json()['image']['id']
    assert requests.head(image_url).status_code == 200

    relay.cut()
    for _ in range(3):
        started = time.monotonic()
        assert requests.head(image_url, timeout=30).status_code == 503
        assert requests.get(srv.url + '/v1/images',
                            timeout=30).status_code == 503
        assert time.monotonic() - started < 5
    assert requests.get(srv.url + '/healthcheck').status_code == 200

    relay.start()  # same port
    # The pool's dead connections are replaced: back at the first request.
    response = requests.head(image_url, timeout=30)
    assert response.status_code == 200
    assert response.headers['x-image-meta-name'] == 'kept'
    names = [i['name'] for i in requests.get(srv.url + '/v1/images').json()[
        'images']]
    assert names == ['kept']
