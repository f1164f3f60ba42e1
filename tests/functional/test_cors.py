"""CORS through the real server, in every flavor (spec §23, scenarios
171-174): preflights answered before any identity check, simple requests
and errors decorated, a disallowed origin and an unconfigured service
left alone."""

import pytest
import requests

from tests.functional import _parallel

ORIGIN = 'http://horizon.example.test'
ELSEWHERE = 'http://elsewhere.example.test'
UNKNOWN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab'
CORS = {'cors': {'allowed_origin': ORIGIN}}
TRUSTED_ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin',
                 'X-User-Id': 'cors-user', 'X-Tenant-Id': 'cors-project'}
FLAVORS = {
    'noauth': ({'paste_deploy': {'flavor': 'noauth'}}, {}),
    'trusted-auth': ({'paste_deploy': {'flavor': 'trusted-auth'}},
                     TRUSTED_ADMIN),
    # No Keystone: the requests here never carry a token, so auth_token
    # never asks it; without one every v1 answer is a 401.
    'keystone': ({'paste_deploy': {'flavor': 'keystone'},
                  'keystone_authtoken': {
                      'www_authenticate_uri': 'http://127.0.0.1:9/v3',
                      'auth_url': 'http://127.0.0.1:9/v3'}}, None),
}
POST_HEADERS = ('x-auth-token, x-image-meta-name, '
                'x-image-meta-property-distro, content-type')


def _with_cors(config, cors):
    config = {section: dict(options) for section, options in config.items()}
    config.update(cors)
    return config


@pytest.fixture(scope='module')
def servers():
    names = sorted(FLAVORS)
    started = _parallel.start(
        *[_with_cors(FLAVORS[name][0], CORS) for name in names],
        _with_cors(FLAVORS['noauth'][0], {}),
        _with_cors(FLAVORS['noauth'][0], {'cors': {'allowed_origin': '*'}}))
    yield dict(zip(names + ['inert', 'any-origin'], started))
    _parallel.stop(*started)


@pytest.fixture(scope='module')
def image_id(servers):
    """An image in the noauth and trusted servers (each its own)."""
    ids = {}
    for name in ('noauth', 'trusted-auth'):
        answer = requests.post(
            servers[name].url + '/v1/images',
            headers=dict(FLAVORS[name][1], **{'x-image-meta-name': 'cors'}))
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()['image']['id']
    return ids


def _cors_headers(answer):
    return {k: v for k, v in answer.headers.items()
            if k.lower().startswith('access-control-')}


def _preflight(srv, path, method, headers=None, origin=ORIGIN):
    sent = {'Origin': origin, 'Access-Control-Request-Method': method}
    if headers:
        sent['Access-Control-Request-Headers'] = headers
    return requests.options(srv.url + path, headers=sent)


def _assert_accepted(answer, method, requested):
    assert answer.status_code == 200, answer.text
    assert answer.content == b''
    assert answer.headers['Access-Control-Allow-Origin'] == ORIGIN
    assert method in answer.headers['Access-Control-Allow-Methods']
    allowed = [name.strip().lower() for name in
               answer.headers['Access-Control-Allow-Headers'].split(',')]
    for name in requested.split(','):
        assert name.strip().lower() in allowed
    assert 'Origin' in answer.headers['Vary']
    assert answer.headers['Access-Control-Max-Age'] == '3600'
    assert answer.headers['Access-Control-Allow-Credentials'] == 'true'


@pytest.mark.parametrize('flavor', sorted(FLAVORS))
def test_preflight_of_a_create_is_accepted_without_credentials(servers,
                                                               flavor):
    """Scenario 171."""
    answer = _preflight(servers[flavor], '/v1/images', 'POST', POST_HEADERS)
    _assert_accepted(answer, 'POST', POST_HEADERS)


@pytest.mark.parametrize('flavor', sorted(FLAVORS))
def test_preflight_of_a_head_is_accepted(servers, flavor):
    """Scenario 172."""
    answer = _preflight(servers[flavor], '/v1/images/' + UNKNOWN_ID, 'HEAD',
                        'x-auth-token')
    _assert_accepted(answer, 'HEAD', 'x-auth-token')


@pytest.mark.parametrize('flavor', sorted(FLAVORS))
def test_preflight_from_another_origin_gets_no_cors_headers(servers, flavor):
    """Scenario 173: the application's own answer to OPTIONS (Q28)."""
    answer = _preflight(servers[flavor], '/v1/images', 'POST', POST_HEADERS,
                        origin=ELSEWHERE)
    assert _cors_headers(answer) == {}
    if flavor == 'noauth':
        assert answer.status_code == 405
        assert answer.headers['Allow'] == 'GET, POST, OPTIONS'
    else:
        # Identity is needed there, and none was sent.
        assert answer.status_code == 401


@pytest.mark.parametrize('method, headers', [
    ('TRACE', None),                       # a method not allowed
    ('POST', 'x-auth-token, x-evil'),      # a header not allowed
])
def test_refused_preflight_gets_the_q28_answer(servers, method, headers):
    answer = _preflight(servers['noauth'], '/v1/images', method, headers)
    assert answer.status_code == 405
    assert _cors_headers(answer) == {}


@pytest.mark.parametrize('flavor', ['noauth', 'trusted-auth'])
def test_head_exposes_the_image_headers(servers, image_id, flavor):
    """Scenario 174."""
    srv, identity = servers[flavor], FLAVORS[flavor][1]
    assert requests.put(
        srv.url + '/v1/images/' + image_id[flavor],
        headers=dict(identity, **{'x-image-meta-property-distro': 'cirros'})
    ).ok
    answer = requests.head(srv.url + '/v1/images/' + image_id[flavor],
                           headers=dict(identity, Origin=ORIGIN))
    assert answer.status_code == 200
    assert answer.headers['Access-Control-Allow-Origin'] == ORIGIN
    assert answer.headers['Access-Control-Allow-Credentials'] == 'true'
    assert 'Origin' in answer.headers['Vary']
    exposed = [name.strip().lower() for name in
               answer.headers['Access-Control-Expose-Headers'].split(',')]
    for name in ('x-image-meta-checksum', 'x-image-meta-status', 'etag',
                 'x-openstack-request-id', 'x-image-meta-property-distro'):
        assert name in exposed
    plain = requests.head(srv.url + '/v1/images/' + image_id[flavor],
                          headers=identity)
    assert plain.status_code == 200
    assert _cors_headers(plain) == {}


@pytest.mark.parametrize('flavor', sorted(FLAVORS))
def test_error_answers_carry_the_cors_headers(servers, flavor):
    """A 404 (a 401 without a token in the keystone flavor)."""
    identity = FLAVORS[flavor][1] or {}
    answer = requests.head(servers[flavor].url + '/v1/images/' + UNKNOWN_ID,
                           headers=dict(identity, Origin=ORIGIN))
    assert answer.status_code == (401 if flavor == 'keystone' else 404)
    assert answer.headers['Access-Control-Allow-Origin'] == ORIGIN
    from_elsewhere = requests.head(
        servers[flavor].url + '/v1/images/' + UNKNOWN_ID,
        headers=dict(identity, Origin=ELSEWHERE))
    assert _cors_headers(from_elsewhere) == {}


def test_unconfigured_service_is_inert(servers):
    """No allowed_origin: OPTIONS answers Q28's 405, no CORS header."""
    srv = servers['inert']
    answer = _preflight(srv, '/v1/images', 'POST', POST_HEADERS)
    assert answer.status_code == 405
    assert answer.headers['Allow'] == 'GET, POST'
    assert _cors_headers(answer) == {}
    listed = requests.get(srv.url + '/v1/images', headers={'Origin': ORIGIN})
    assert listed.status_code == 200
    assert _cors_headers(listed) == {}


def test_any_origin_is_answered_with_a_star_and_no_credentials(servers):
    srv = servers['any-origin']
    answer = _preflight(srv, '/v1/images', 'POST', POST_HEADERS,
                        origin=ELSEWHERE)
    assert answer.status_code == 200
    assert answer.headers['Access-Control-Allow-Origin'] == '*'
    assert 'Access-Control-Allow-Credentials' not in answer.headers
    listed = requests.get(srv.url + '/v1/images',
                          headers={'Origin': ELSEWHERE})
    assert listed.headers['Access-Control-Allow-Origin'] == '*'
    assert 'Access-Control-Allow-Credentials' not in listed.headers
