"""The request log: one line per request once its body has been sent,
with method, path, status, bytes in and out and the request id; answers
made early in the pipeline are logged too."""

import logging
import re

import pytest

from tests.inprocess import support

LOGGER = 'glance_lite.api.requests'
LINE = re.compile(r'^(?P<method>\S+) (?P<path>\S+) status (?P<status>\S+) '
                  r'in (?P<in>\d+) B out (?P<out>\d+) B [\d.]+ ms '
                  r'request_id (?P<rid>\S+)$')


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)

    def _lines():
        return [LINE.match(record.getMessage()).groupdict()
                for record in caplog.records if record.name == LOGGER]
    return _lines


def test_upload_is_logged_with_bytes_in_out_and_request_id(app, lines):
    response = app.request('POST', '/v1/images',
                           dict(support.MINIMAL, **support.OCTETS),
                           b'*' * 1000)
    assert response.status_int == 201
    logged, = lines()
    assert logged == {'method': 'POST', 'path': '/v1/images',
                      'status': '201', 'in': '1000',
                      'out': str(len(response.body)),
                      'rid': response.headers['x-openstack-request-id']}


def test_download_is_logged_with_its_size(app, lines):
    image = app.create(data=b'x' * 4096)
    response = app.request('GET', '/v1/images/' + image['id'])
    assert response.body == b'x' * 4096
    logged = lines()[-1]
    assert (logged['method'], logged['status'], logged['out']) == (
        'GET', '200', '4096')
    assert logged['path'] == '/v1/images/' + image['id']


@pytest.mark.parametrize('path, status', [('/versions', '200'),
                                          ('/', '300'),
                                          ('/v3/images', '300')])
def test_versions_answers_are_logged(app, lines, path, status):
    app.request('GET', path)
    logged, = lines()
    assert (logged['path'], logged['status']) == (path, status)
    # The request id filter runs first: the line carries its id.
    assert logged['rid'].startswith('req-')


def test_errors_are_logged(app, lines):
    app.request('GET', '/v1/nothing')
    logged, = lines()
    assert logged['status'] == '404'


def test_trusted_401_is_logged(trusted_app, lines):
    assert trusted_app.request('GET', '/v1/images').status_int == 401
    logged, = lines()
    assert (logged['path'], logged['status']) == ('/v1/images', '401')
