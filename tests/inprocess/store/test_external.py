"""The SSRF address rules of glance_lite.store.external (spec §6.4): which
addresses an external source may reach, by default and with
external_source_allowed_networks, on the caller's URI, on redirects and
on the address a connection really opens; and their effect through the
paste app (400 before anything is stored)."""

import http.server
import socket
import threading

from oslo_config import cfg
import pytest

from glance_lite.common import exception
from glance_lite import conf
from glance_lite.store import external
from tests.inprocess import support

CONF = cfg.CONF


@pytest.fixture
def configured():
    """CONF parsed on defaults; ``allow(...)`` sets the allowed networks."""
    support.reset()
    conf.parse_args([], default_config_files=[])

    def allow(*networks):
        CONF.set_override('external_source_allowed_networks',
                          list(networks))
    yield allow
    support.reset()


def resolving_to(monkeypatch, *addresses):
    """Make every name resolve to ``addresses`` (no DNS in tests)."""
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ':' in a else socket.AF_INET,
                 socket.SOCK_STREAM, 6, '', (a, port)) for a in addresses]
    monkeypatch.setattr(external.socket, 'getaddrinfo', getaddrinfo)


@pytest.mark.parametrize('address, reason', [
    ('127.0.0.1', 'loopback address'),
    ('127.1.2.3', 'loopback address'),
    ('::1', 'loopback address'),
    ('::ffff:127.0.0.1', 'loopback address'),
    ('169.254.169.254', 'link-local address'),
    ('fe80::1', 'link-local address'),
    ('fe80::1%eth0', 'link-local address'),
    ('0.0.0.0', 'unspecified address'),
    ('::', 'unspecified address'),
    ('224.0.0.1', 'multicast address'),
    ('ff02::1', 'multicast address'),
    ('10.1.2.3', 'private or reserved address'),
    ('172.16.0.1', 'private or reserved address'),
    ('192.168.1.1', 'private or reserved address'),
    ('::ffff:10.0.0.1', 'private or reserved address'),
    ('fd00::1', 'private or reserved address'),
    ('100.64.0.1', 'private or reserved address'),
    ('240.0.0.1', 'private or reserved address'),
    ('192.0.2.1', 'private or reserved address'),
])
def test_internal_addresses_are_refused_by_default(configured, address,
                                                   reason):
    assert external.address_refusal(address) == reason


@pytest.mark.parametrize('address', ['93.184.216.34', '8.8.8.8',
                                     '2606:4700::1111',
                                     '::ffff:93.184.216.34'])
def test_public_unicast_addresses_are_allowed(configured, address):
    assert external.address_refusal(address) is None


@pytest.mark.parametrize('networks, address', [
    (['127.0.0.0/8'], '127.0.0.1'),
    (['127.0.0.1'], '127.0.0.1'),
    (['127.0.0.0/8'], '::ffff:127.0.0.1'),
    (['10.0.0.0/8', '192.168.0.0/16'], '192.168.3.4'),
    (['169.254.169.254/32'], '169.254.169.254'),
    (['::1/128'], '::1'),
    (['fd00::/8'], 'fd12::1'),
])
def test_allowed_networks_let_their_addresses_through(configured, networks,
                                                      address):
    configured(*networks)
    assert external.address_refusal(address) is None


def test_allowance_covers_its_networks_only(configured):
    configured('10.0.0.0/24')
    assert external.address_refusal('10.0.0.5') is None
    assert external.address_refusal('10.0.1.5') == (
        'private or reserved address')
    assert external.address_refusal('127.0.0.1') == 'loopback address'


def test_bad_allowed_network_is_a_value_error(configured):
    configured('not-a-network')
    with pytest.raises(ValueError):
        external.allowed_networks()


@pytest.mark.parametrize('url', [
    'file:///etc/passwd', 'ftp://93.184.216.34/x', 'gopher://h/x',
    'swift://u:k@93.184.216.34/v1/c/o', 'data:text/plain,x'])
def test_only_http_and_https_schemes(configured, monkeypatch, url):
    resolving_to(monkeypatch, '93.184.216.34')
    with pytest.raises(external.ForbiddenDestination) as error:
        external.check_url(url)
    assert 'scheme' in str(error.value)


@pytest.mark.parametrize('url', ['http:///x', 'http://[::1/x',
                                 'http://h:99999/x'])
def test_urls_without_a_usable_host_are_refused(configured, url):
    with pytest.raises(external.ForbiddenDestination):
        external.check_url(url)


def test_a_name_is_refused_if_any_of_its_addresses_is(configured,
                                                      monkeypatch):
    resolving_to(monkeypatch, '93.184.216.34', '10.0.0.1')
    with pytest.raises(external.ForbiddenDestination) as error:
        external.check_url('http://mixed.example/image')
    assert 'mixed.example' in str(error.value)
    assert 'private or reserved' in str(error.value)


def test_a_name_of_public_addresses_is_allowed(configured, monkeypatch):
    resolving_to(monkeypatch, '93.184.216.34')
    external.check_url('https://images.example/cirros.img')


def test_allowance_is_by_address_not_by_name(configured, monkeypatch):
    configured('10.0.0.0/8')
    resolving_to(monkeypatch, '10.2.3.4')
    external.check_url('http://internal.example/x')
    resolving_to(monkeypatch, '127.0.0.1')
    with pytest.raises(external.ForbiddenDestination):
        external.check_url('http://internal.example/x')


def test_unresolvable_name_is_refused(configured, monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror('Name or service not known')
    monkeypatch.setattr(external.socket, 'getaddrinfo', fail)
    with pytest.raises(external.ForbiddenDestination) as error:
        external.check_url('http://nowhere.invalid/x')
    assert 'cannot be resolved' in str(error.value)


def test_refusal_names_the_host_never_the_credentials(configured):
    with pytest.raises(exception.Invalid) as error:
        external.validate_source('http://alice:s3cr3t@10.0.0.1/image')
    assert '10.0.0.1' in error.value.msg
    assert 's3cr3t' not in error.value.msg


# -- the guarded session, against a source in this process --------------------

class _Source(http.server.BaseHTTPRequestHandler):
    """Serves b'image data' at /image; /redirect?to=URL redirects."""

    def do_GET(self):
        self.server.paths.append(self.path)
        if self.path.startswith('/redirect?to='):
            self.send_response(302)
            self.send_header('Location', self.path.split('=', 1)[1])
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        body = b'image data'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def source():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Source)
    server.paths = []
    server.base = 'http://127.0.0.1:%d' % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_session_refuses_loopback_by_default(configured, source):
    with pytest.raises(external.ForbiddenDestination):
        external.GuardedSession().get(source.base + '/image', timeout=10)
    assert source.paths == []


def test_session_reaches_an_allowed_network(configured, source):
    configured('127.0.0.0/8')
    response = external.GuardedSession().get(source.base + '/image',
                                             timeout=10)
    assert response.content == b'image data'


def test_session_checks_every_redirect(configured, source):
    configured('127.0.0.1/32')
    with pytest.raises(external.ForbiddenDestination) as error:
        external.GuardedSession().get(
            source.base + '/redirect?to=http://10.0.0.1/x', timeout=10)
    assert 'private or reserved' in str(error.value)
    assert source.paths == ['/redirect?to=http://10.0.0.1/x']


def test_session_connects_to_the_checked_address(configured, source,
                                                 monkeypatch):
    # DNS rebinding: public when the URL is checked, loopback when the
    # connection opens; the connection's own check refuses it.
    port = source.server_address[1]
    answers = iter([
        [(socket.AF_INET, socket.SOCK_STREAM, 6, '',
          ('93.184.216.34', port))],
        [(socket.AF_INET, socket.SOCK_STREAM, 6, '', ('127.0.0.1', port))],
    ])
    monkeypatch.setattr(external.socket, 'getaddrinfo',
                        lambda *args, **kwargs: next(answers))
    with pytest.raises(external.ForbiddenDestination) as error:
        external.GuardedSession().get('http://rebind.example:%d/image'
                                      % port, timeout=10)
    assert 'loopback' in str(error.value)
    assert source.paths == []


# -- through the paste app ----------------------------------------------------

SOURCE_HEADERS = ['x-image-meta-location', 'x-glance-api-copy-from']


@pytest.mark.parametrize('header', SOURCE_HEADERS)
@pytest.mark.parametrize('uri, reason', [
    ('http://127.0.0.1:9/image', 'loopback'),
    ('http://169.254.169.254/latest/meta-data/', 'link-local'),
    ('http://10.1.2.3/image', 'private'),
    ('http://[::1]:9/image', 'loopback'),
])
def test_app_refuses_internal_sources_with_400(app, header, uri, reason):
    response = app.request('POST', '/v1/images', dict(
        support.MINIMAL, **{header: uri}))
    assert response.status_int == 400, response.text
    assert reason in response.text
    assert app.request('GET', '/v1/images/detail?is_public=None').json == {
        'images': []}


def test_app_serves_a_location_on_an_allowed_network(make_app, source):
    app = make_app({'DEFAULT': {
        'external_source_allowed_networks': '127.0.0.0/8'}})
    response = app.request('POST', '/v1/images', dict(
        support.MINIMAL, **{'x-image-meta-location':
                            source.base + '/image'}))
    assert response.status_int == 201, response.text
    image_id = response.json['image']['id']
    response = app.request('GET', '/v1/images/' + image_id)
    assert response.body == b'image data'


def test_app_update_with_a_forbidden_source_leaves_the_image_queued(app):
    image = app.create()
    response = app.request('PUT', '/v1/images/' + image['id'], {
        'x-glance-api-copy-from': 'http://10.0.0.1/image'})
    assert response.status_int == 400
    head = app.request('HEAD', '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-status'] == 'queued'


def test_app_refuses_to_load_with_a_bad_allowed_network(make_app):
    with pytest.raises(RuntimeError) as error:
        make_app({'DEFAULT': {
            'external_source_allowed_networks': 'not-a-network'}})
    assert 'external_source_allowed_networks' in str(error.value)
