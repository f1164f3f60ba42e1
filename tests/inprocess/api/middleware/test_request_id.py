"""Request ids (spec §12.2): every answer of the v1 app carries one, the
versions documents and the healthcheck none; a trusted caller's own id is
kept (with a req- prefix), a noauth caller's is not."""

import re

import pytest

from tests.inprocess import support

REQUEST_ID = re.compile(r'^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                        r'[0-9a-f]{4}-[0-9a-f]{12}$')
UNKNOWN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab'


@pytest.mark.parametrize('method, path, headers, status', [
    ('GET', '/v1/images', None, 200),
    ('GET', '/v1/images/detail', None, 200),
    ('POST', '/v1/images', support.MINIMAL, 201),
    ('GET', '/v1', None, 302),
    ('GET', '/v1/images?limit=abc', None, 400),
    ('GET', '/v1/images/' + UNKNOWN_ID, None, 404),
    ('HEAD', '/v1/images/' + UNKNOWN_ID, None, 404),
    ('GET', '/v1/nothing', None, 404),
    ('HEAD', '/v1/images/detail', None, 405),
    ('PROPFIND', '/v1/nothing', None, 501),
])
def test_every_v1_answer_has_a_request_id(app, method, path, headers,
                                          status):
    response = app.request(method, path, headers)
    assert response.status_int == status, response.text
    assert REQUEST_ID.match(response.headers['x-openstack-request-id'])


def test_each_request_gets_its_own_id(app):
    ids = {app.request('GET', '/v1/images').headers[
        'x-openstack-request-id'] for _ in range(5)}
    assert len(ids) == 5


def test_noauth_ignores_the_callers_id(app):
    response = app.request('GET', '/v1/images',
                           {'X-Openstack-Request-ID': 'abc'})
    assert REQUEST_ID.match(response.headers['x-openstack-request-id'])


@pytest.mark.parametrize('sent, returned', [('abc', 'req-abc'),
                                            ('req-xyz', 'req-xyz'),
                                            ('a' * 64, 'req-' + 'a' * 64)])
def test_trusted_caller_id_is_returned_with_req_prefix(trusted_app, sent,
                                                       returned):
    response = trusted_app.request('GET', '/v1/images', dict(
        support.trusted('t1'), **{'X-Openstack-Request-ID': sent}))
    assert response.status_int == 200
    assert response.headers['x-openstack-request-id'] == returned


def test_trusted_caller_id_over_the_limit_is_431(trusted_app):
    response = trusted_app.request('GET', '/v1/images', dict(
        support.trusted('t1'), **{'X-Openstack-Request-ID': 'a' * 65}))
    assert response.status_int == 431
    assert 'x-openstack-request-id is too long, max size 64' in (
        response.text)
    assert 'x-openstack-request-id' not in response.headers


def test_request_id_limit_follows_the_option(make_app):
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'max_request_id_length': '0'}})
    response = app.request('GET', '/v1/images', dict(
        support.trusted('t1'), **{'X-Openstack-Request-ID': 'a' * 500}))
    assert response.status_int == 200
    assert response.headers['x-openstack-request-id'] == 'req-' + 'a' * 500


def test_trusted_generates_an_id_when_none_is_sent(trusted_app):
    response = trusted_app.request('GET', '/v1/images',
                                   support.trusted('t1'))
    assert REQUEST_ID.match(response.headers['x-openstack-request-id'])


@pytest.mark.parametrize('path', ['/', '/versions', '/images', '/v3/',
                                  '/healthcheck'])
def test_answers_before_the_v1_app_carry_none(app, path):
    response = app.request('GET', path)
    assert 'x-openstack-request-id' not in response.headers


def test_request_id_header_comes_first(app):
    # Ahead of any header with a non-ASCII name (http.client stops there).
    image = app.create(data=b'x', properties={'caf%C3%A9': 'v'})
    response = app.request('HEAD', '/v1/images/' + image['id'])
    assert response.headerlist[0][0] == 'x-openstack-request-id'


def test_the_request_id_of_the_environment_is_the_answers_id(app):
    # The request_id filter assigns the id first; the context middleware
    # answers with that same id (so log lines and the answer agree).
    seen = {}
    wsgi = app.wsgi

    def spy(environ, start_response):
        response = wsgi(environ, start_response)
        seen['env'] = environ.get('openstack.request_id')
        return response

    app.wsgi = spy
    response = app.request('GET', '/v1/images')
    assert response.headers['x-openstack-request-id'] == seen['env']
