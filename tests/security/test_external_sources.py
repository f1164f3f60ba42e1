"""Server-side request forgery: external sources (x-image-meta-location,
x-glance-api-copy-from) reach only public addresses unless the operator
allows a network, checked again on every redirect hop and on the address
each connection really opens."""

import socket
import ssl
import subprocess
import time

import pytest
import requests

from tests.security import support
from tests import server as test_server

# Live targets are on loopback, so that no test depends on the network
# of the machine it runs on.
SOURCE_HEADERS = ('x-image-meta-location', 'x-glance-api-copy-from')


@pytest.fixture(scope='module')
def guarded():
    """A server on the default: no network allowed beyond public ones."""
    srv = test_server.Server(
        {'DEFAULT': {'external_source_allowed_networks': ''}}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope='module')
def narrow():
    """A server allowing exactly one loopback address, 127.0.0.1."""
    srv = test_server.Server(
        {'DEFAULT': {'external_source_allowed_networks': '127.0.0.1/32'}}
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope='module')
def target():
    """An "internal" service on 127.0.0.2 holding a secret object."""
    srv = support.RecordingServer('127.0.0.2')
    srv.add('/secret', b'internal data')
    yield srv
    srv.close()


@pytest.fixture(scope='module')
def public():
    """A source on 127.0.0.1: allowed by ``narrow`` (and by the functional
    tests' default of 127.0.0.0/8), not by ``guarded``."""
    srv = support.RecordingServer('127.0.0.1')
    srv.add('/image', b'image data')
    yield srv
    srv.close()


@pytest.fixture(scope='module')
def tls_source(tmp_path_factory):
    """An HTTPS source on 127.0.0.1 whose certificate (for 127.0.0.1)
    is self-signed: no CA a client trusts by default vouches for it.
    Yields (source, certificate file)."""
    directory = tmp_path_factory.mktemp('tls')
    cert, key = directory / 'cert.pem', directory / 'key.pem'
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
         '-days', '1', '-subj', '/CN=127.0.0.1',
         '-addext', 'subjectAltName=IP:127.0.0.1',
         '-keyout', str(key), '-out', str(cert)],
        check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    srv = support.RecordingServer('127.0.0.1', tls=context)
    srv.add('/image', b'image data over tls')
    yield srv, cert
    srv.close()


def _create(api, header, uri):
    image_id = support.new_id()
    response = requests.post(
        api.url + '/v1/images', timeout=30,
        headers=support.image_headers(**{header: uri,
                                         'x-image-meta-id': image_id}))
    return image_id, response


def _assert_not_created(api, image_id):
    response = requests.head('%s/v1/images/%s' % (api.url, image_id),
                             timeout=30)
    assert response.status_code == 404


def _wait_for_status(api, image_id, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        status = requests.head('%s/v1/images/%s' % (api.url, image_id),
                               timeout=30).headers.get('x-image-meta-status')
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def _create_active_and_read(api, header, uri):
    """Create an image from ``uri``; once active, its data."""
    image_id, response = _create(api, header, uri)
    assert response.status_code == 201, response.text
    assert _wait_for_status(api, image_id, ('active', 'killed')) == 'active'
    return requests.get('%s/v1/images/%s' % (api.url, image_id),
                        timeout=30).content


@pytest.mark.parametrize('header', SOURCE_HEADERS)
@pytest.mark.parametrize('host,reason', [
    ('127.0.0.1', 'loopback'),
    ('localhost', 'loopback'),
    ('2130706433', 'loopback'),        # decimal 127.0.0.1
    ('0177.0.0.1', 'loopback'),        # octal
    ('0x7f.0.0.1', 'loopback'),        # hex
    ('127.1', 'loopback'),             # short form
    ('[::ffff:127.0.0.1]', 'loopback'),
])
def test_default_refuses_loopback_sources_and_never_connects(
        guarded, public, header, host, reason):
    before = len(public.requests)
    uri = 'http://%s:%d/image' % (host, public.port)

    image_id, response = _create(guarded, header, uri)

    assert response.status_code == 400, response.text
    assert reason in response.text
    assert len(public.requests) == before
    _assert_not_created(guarded, image_id)


@pytest.mark.parametrize('header', SOURCE_HEADERS)
@pytest.mark.parametrize('uri,reason', [
    ('http://[::1]:9/image', 'loopback'),
    ('http://10.1.2.3/image', 'private'),
    ('http://172.16.0.1/image', 'private'),
    ('http://192.168.1.1/image', 'private'),
    ('http://169.254.169.254/latest/meta-data/', 'link-local'),
    ('http://[fe80::1]/image', 'link-local'),
    ('http://[fd00::1]/image', 'private'),
    ('http://100.64.0.1/image', 'private or reserved'),
    ('http://0.0.0.0:9/image', 'unspecified'),
    ('http://224.0.0.1/image', 'multicast'),
    ('http://240.0.0.1/image', 'private or reserved'),
    ('https://10.0.0.1/image', 'private'),
])
def test_default_refuses_internal_addresses(guarded, header, uri, reason):
    image_id, response = _create(guarded, header, uri)

    assert response.status_code == 400, response.text
    assert reason in response.text
    _assert_not_created(guarded, image_id)


@pytest.mark.parametrize('header', SOURCE_HEADERS)
@pytest.mark.parametrize('uri', [
    'file:///etc/passwd', 'filesystem:///etc/passwd', 'ftp://10.0.0.1/x',
    'gopher://127.0.0.1:25/x', 'swift+config://ref/container/obj',
    'dict://127.0.0.1:11211/stats', 'data:text/plain,hello',
    'jar:http://127.0.0.1/x!/', 'HTTP+unix://%2Ftmp%2Fsock/x',
    # Schemes of stores a deployment may configure: their drivers would
    # connect to a host the caller names.
    'swift://user:key@10.0.0.1/v1/container/obj',
    'swift+http://user:key@127.0.0.1/v1/container/obj',
    's3://key:secret@10.0.0.1/bucket/obj', 'rbd://fsid/pool/image/snap',
    'cinder://volume-id', 'vsphere://10.0.0.1/folder/file',
])
def test_non_http_schemes_are_refused(guarded, header, uri):
    image_id, response = _create(guarded, header, uri)

    assert response.status_code == 400, response.text
    _assert_not_created(guarded, image_id)


@pytest.mark.parametrize('header', SOURCE_HEADERS)
def test_refusal_does_not_echo_credentials(guarded, header):
    image_id, response = _create(
        guarded, header, 'http://alice:s3cr3t-pw@10.0.0.1/image')

    assert response.status_code == 400
    assert 's3cr3t-pw' not in response.text
    assert 's3cr3t-pw' not in str(response.headers)
    assert 's3cr3t-pw' not in guarded.log()


def test_allowed_network_lets_the_source_through(narrow, public):
    image_id, response = _create(narrow, 'x-image-meta-location',
                                 public.base + '/image')

    assert response.status_code == 201, response.text
    data = requests.get('%s/v1/images/%s' % (narrow.url, image_id),
                        timeout=30)
    assert data.content == b'image data'


def test_allowance_is_by_address_not_by_name(narrow, target):
    # 127.0.0.2 is loopback too, but not the one address narrow allows.
    image_id, response = _create(narrow, 'x-image-meta-location',
                                 target.base + '/secret')

    assert response.status_code == 400
    assert 'loopback' in response.text
    assert target.requests == []


@pytest.mark.parametrize('header', SOURCE_HEADERS)
def test_redirect_to_a_forbidden_address_is_refused(api, narrow, public,
                                                    target, header):
    """public (allowed) redirects to target (not allowed by narrow): the
    hop is refused and the target never sees a request. The same redirect
    through a server that allows all of loopback (the functional tests'
    default, ``api``) does reach the target: the refusal is the redirect
    check, not a broken setup."""
    uri = public.redirect('/to-internal-' + header, target.base + '/secret')
    seen = len(target.requests)

    image_id, response = _create(narrow, header, uri)

    assert response.status_code == 400, response.text
    assert 'loopback' in response.text
    assert len(target.requests) == seen
    _assert_not_created(narrow, image_id)

    assert _create_active_and_read(api, header, uri) == b'internal data'
    assert len(target.requests) > seen


def test_copy_from_rechecks_redirects_in_the_background(
        narrow, public, target):
    """The size probe (HEAD) is served directly; only the GET of the
    background copy redirects to the forbidden target: the copy fails,
    the image is killed, the target sees nothing."""
    uri = public.add('/flip', b'image data')
    public.redirect('/flip', target.base + '/secret', get_only=True)
    seen = len(target.requests)

    image_id, response = _create(narrow, 'x-glance-api-copy-from', uri)

    assert response.status_code == 201, response.text
    assert _wait_for_status(narrow, image_id, ('killed', 'active')) == (
        'killed')
    assert ('GET', '/flip') in public.requests
    assert len(target.requests) == seen
    assert 'loopback' in narrow.log()


def test_location_that_later_redirects_inside_is_not_served(
        narrow, public, target):
    uri = public.add('/later', b'image data')
    image_id, response = _create(narrow, 'x-image-meta-location', uri)
    assert response.status_code == 201, response.text

    public.redirect('/later', target.base + '/secret')
    seen = len(target.requests)
    download = requests.get('%s/v1/images/%s' % (narrow.url, image_id),
                            timeout=30)

    assert download.status_code == 503
    assert b'internal data' not in download.content
    assert len(target.requests) == seen


@pytest.mark.parametrize('status', [301, 302, 303, 307, 300])
@pytest.mark.parametrize('header', SOURCE_HEADERS)
def test_a_redirect_without_location_is_a_400(narrow, public, header,
                                              status):
    # glance_store's http driver read the missing header: a KeyError, 500.
    uri = public.redirect_nowhere('/nowhere-%s-%d' % (header, status),
                                  status)

    image_id, response = _create(narrow, header, uri)

    assert response.status_code == 400, response.text
    assert 'Invalid location' in response.text
    _assert_not_created(narrow, image_id)


def test_a_location_that_later_redirects_nowhere_is_a_503(narrow, public):
    uri = public.add('/later-nowhere', b'image data')
    image_id, response = _create(narrow, 'x-image-meta-location', uri)
    assert response.status_code == 201, response.text

    public.redirect_nowhere('/later-nowhere')
    download = requests.get('%s/v1/images/%s' % (narrow.url, image_id),
                            timeout=30)

    assert download.status_code == 503
    assert 'Traceback' not in narrow.log()


def test_update_with_a_forbidden_source_leaves_the_image_queued(guarded):
    created = requests.post(guarded.url + '/v1/images', timeout=30,
                            headers={'x-image-meta-name': 'queued'})
    image_id = created.json()['image']['id']

    response = requests.put(
        '%s/v1/images/%s' % (guarded.url, image_id), timeout=30,
        headers=support.image_headers(
            **{'x-image-meta-location': 'http://169.254.169.254/'}))

    assert response.status_code == 400
    assert 'link-local' in response.text
    head = requests.head('%s/v1/images/%s' % (guarded.url, image_id),
                         timeout=30)
    assert head.headers['x-image-meta-status'] == 'queued'


def test_invalid_allowed_network_stops_the_server_at_start():
    srv = test_server.Server(
        {'DEFAULT': {'external_source_allowed_networks': 'not-a-network',
                     'use_stderr': 'true'}})
    with pytest.raises(RuntimeError) as error:
        srv.start(timeout=60)
    assert 'external_source_allowed_networks' in str(error.value)


def test_connection_goes_to_the_checked_address(monkeypatch):
    """DNS rebinding: the name resolves to a public address when the URL
    is checked and to loopback when the connection opens. The guard
    checks the addresses it connects to, so nothing reaches loopback.
    (A real resolver cannot be made to do this in a test; getaddrinfo is
    replaced for this one.)"""
    from oslo_config import cfg

    from glance_lite.conf import api as api_conf
    from glance_lite.store import external

    conf = cfg.ConfigOpts()
    api_conf.register_opts(conf)
    conf([], project='glance-lite-test')
    monkeypatch.setattr(external, 'CONF', conf)
    victim = support.RecordingServer('127.0.0.1')
    answers = iter([
        [(socket.AF_INET, socket.SOCK_STREAM, 6, '', ('93.184.216.34', 80))],
        [(socket.AF_INET, socket.SOCK_STREAM, 6, '',
          ('127.0.0.1', victim.port))],
    ])
    monkeypatch.setattr(external.socket, 'getaddrinfo',
                        lambda *args, **kwargs: next(answers))
    try:
        with pytest.raises(external.ForbiddenDestination) as error:
            external.GuardedSession().get(
                'http://rebind.example:%d/x' % victim.port, timeout=10)
        assert 'loopback' in str(error.value)
        assert victim.requests == []
    finally:
        victim.close()


@pytest.mark.parametrize('uri', [
    'swift://user:key@10.0.0.1/v1/container/obj',
    's3://key:secret@10.0.0.1/bucket/obj', 'rbd://fsid/pool/image/snap',
])
def test_other_configured_stores_are_not_external_sources(monkeypatch, uri):
    """Even with their store configured, swift, s3 or rbd URIs are refused
    as sources (their drivers are not installed here, so the configured
    schemes are stood in for)."""
    from glance_lite.common import exception
    from glance_lite import store

    monkeypatch.setattr(store, 'known_schemes',
                        lambda: {'file', 'http', 'https', 'swift', 's3',
                                 'rbd'})
    with pytest.raises(exception.Invalid) as error:
        store.validate_external_source(uri)
    assert 'External sources are not supported' in error.value.msg
    assert 'key' not in error.value.msg.split('://', 1)[1]


@pytest.mark.parametrize('header', SOURCE_HEADERS)
def test_https_source_with_an_untrusted_certificate_is_refused(
        narrow, tls_source, header):
    # Certificates are verified by default (glance_store's own default,
    # https_insecure = True, does not): a source impersonated by a
    # machine in the middle gives no image.
    # The size probe at create time is what fails: 400, nothing created.
    source, _cert = tls_source
    image_id, response = _create(narrow, header, source.base + '/image')

    assert response.status_code == 400, response.text
    assert 'Invalid location' in response.text
    _assert_not_created(narrow, image_id)


@pytest.mark.parametrize('header', SOURCE_HEADERS)
def test_https_source_trusted_through_the_ca_file(tls_source, header):
    source, cert = tls_source
    srv = test_server.Server({
        'DEFAULT': {'external_source_allowed_networks': '127.0.0.1/32'},
        'glance_store': {'https_ca_certificates_file': str(cert)}}).start()
    try:
        data = _create_active_and_read(srv, header, source.base + '/image')
        assert data == b'image data over tls'
    finally:
        srv.stop()
