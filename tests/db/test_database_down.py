"""A real glance-lite-api whose PostgreSQL or MySQL/MariaDB catalogue is
unreachable: it starts (after oslo.db's start-up retries), and v1 requests
answer 503 at once instead of 500 or hanging."""

import time

import pytest
import requests

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

    for method, path in [('GET', '/v1/images'), ('HEAD', '/v1/images/x'),
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
