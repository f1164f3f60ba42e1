"""glance-lite-api's own TLS, worker processes and keep-alive (spec §24.4,
scenarios §24.5): real servers started with certificates this test makes
(cryptography), clients that speak plain HTTP, no TLS at all or TLS with
a client certificate, workers killed and a parent stopped mid-upload."""

import datetime
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID
import pytest
import requests

from tests import processes
from tests import server as test_server

pytestmark = pytest.mark.skipif(
    test_server.SERVER_KIND != 'standalone',
    reason='TLS, workers and keep-alive are glance-lite-api\'s own')


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, key, issuer=None, issuer_key=None, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject))
               .issuer_name(_name(issuer or subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                              critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName('localhost')]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


class Pki:
    """A CA, a server certificate for localhost and a client certificate
    it signed, and an unrelated key, as PEM files under ``directory``."""

    def __init__(self, directory):
        self.directory = directory
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _certificate('test CA', ca_key, ca=True)
        self.ca = self._write('ca.pem', ca)
        for role in ('server', 'client'):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = _certificate('localhost' if role == 'server' else role,
                                key, issuer='test CA', issuer_key=ca_key)
            setattr(self, role + '_cert', self._write(role + '.pem', cert))
            setattr(self, role + '_key', self._write_key(role + '.key', key))
        self.other_key = self._write_key(
            'other.key', ec.generate_private_key(ec.SECP256R1()))

    def _write(self, name, cert):
        path = os.path.join(self.directory, name)
        with open(path, 'wb') as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        return path

    def _write_key(self, name, key):
        path = os.path.join(self.directory, name)
        with open(path, 'wb') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        return path


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp('pki')))


def _https(server):
    # The certificate names localhost.
    return server.url.replace('127.0.0.1', 'localhost')


@pytest.fixture(scope='module')
def tls_api(pki):
    server = _start_tls(pki, {})
    yield server
    server.stop()


def _start_tls(pki, extra):
    options = {'cert_file': pki.server_cert, 'key_file': pki.server_key}
    options.update(extra)
    server = test_server.Server({'DEFAULT': options})
    # Server.start checks an http URL; a TLS server is started and waited
    # for here, its catalogue migrated first as Server.start does for a
    # PostgreSQL or MariaDB database of its own (GLANCE_LITE_TEST_DB).
    if server.db_name:
        synced = server.manage('db', 'sync')
        assert synced.returncode == 0, synced.stdout + synced.stderr
    server._stdout = open(os.path.join(server.workdir, 'stdout'), 'w+')
    server.process = subprocess.Popen(
        [os.path.join(test_server.BIN_DIR, 'glance-lite-api'),
         '--config-file', server.config_file],
        stdout=server._stdout, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(server.output())
        out = server.output()
        if 'listening on https://' in out:
            server.url = out.split('listening on ')[1].split()[0]
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError('no TLS server: ' + server.output())


def _run_api(config_file):
    return subprocess.run(
        [os.path.join(test_server.BIN_DIR, 'glance-lite-api'),
         '--config-file', config_file],
        capture_output=True, text=True, timeout=60)


# 175


def test_versions_over_tls_have_https_hrefs(tls_api, pki):
    response = requests.get(_https(tls_api) + '/versions', verify=pki.ca,
                            timeout=10)

    assert response.status_code == 200
    hrefs = [link['href'] for version in response.json()['versions']
             for link in version['links']]
    assert hrefs and all(h.startswith('https://') for h in hrefs), hrefs


def test_a_tls_1_2_client_is_served(tls_api, pki):
    context = ssl.create_default_context(cafile=pki.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    host, port = tls_api.url.split('//')[1].split(':')
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname='localhost') as tls:
            assert tls.version() == 'TLSv1.2'
            tls.sendall(b'GET /versions HTTP/1.1\r\nHost: localhost\r\n'
                        b'Connection: close\r\n\r\n')
            assert tls.recv(64).startswith(b'HTTP/1.1 200')


def test_plain_http_on_the_tls_port_is_closed_at_once(tls_api):
    started = time.monotonic()

    with pytest.raises(requests.ConnectionError):
        requests.get(tls_api.url.replace('https', 'http') + '/versions',
                     timeout=5)

    assert time.monotonic() - started < 1.5


# 178


def test_a_client_that_never_handshakes_delays_no_one(tls_api, pki):
    host, port = tls_api.url.split('//')[1].split(':')
    silent = [socket.create_connection((host, int(port))) for _ in range(3)]
    try:
        started = time.monotonic()
        response = requests.get(_https(tls_api) + '/versions',
                                verify=pki.ca, timeout=10)
        assert response.status_code == 200
        assert time.monotonic() - started < 2
    finally:
        for sock in silent:
            sock.close()


# 176


@pytest.mark.parametrize('options, named', [
    ({'cert_file': 'SERVER_CERT'}, 'key_file'),
    ({'key_file': 'SERVER_KEY'}, 'cert_file'),
    ({'cert_file': 'SERVER_CERT', 'key_file': 'OTHER_KEY'}, 'key_file'),
    ({'cert_file': '/nonexistent.pem', 'key_file': 'SERVER_KEY'},
     'cert_file'),
    ({'cert_file': 'SERVER_CERT', 'key_file': 'SERVER_KEY',
      'ca_file': '/nonexistent-ca.pem'}, 'ca_file'),
])
def test_bad_tls_options_refuse_the_start(pki, options, named):
    files = {'SERVER_CERT': pki.server_cert, 'SERVER_KEY': pki.server_key,
             'OTHER_KEY': pki.other_key}
    server = test_server.Server({'DEFAULT': {
        k: files.get(v, v) for k, v in options.items()}})
    try:
        result = _run_api(server.config_file)
    finally:
        server.stop()

    assert result.returncode != 0
    assert named in result.stderr


# 177


def test_ca_file_requires_a_client_certificate(pki):
    server = _start_tls(pki, {'ca_file': pki.ca})
    try:
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(_https(server) + '/versions', verify=pki.ca,
                         timeout=10)
        response = requests.get(_https(server) + '/versions', verify=pki.ca,
                                cert=(pki.client_cert, pki.client_key),
                                timeout=10)
        assert response.status_code == 200
    finally:
        server.stop()


# 180


def test_without_keepalive_every_answer_closes():
    server = test_server.Server({'DEFAULT': {'http_keepalive': 'false'}})
    server.start()
    try:
        with requests.Session() as session:
            answers = [session.get(server.url + '/versions', timeout=10),
                       session.get(server.url + '/v1/images', timeout=10)]
    finally:
        server.stop()

    assert [a.headers.get('Connection') for a in answers] == ['close'] * 2


def test_with_keepalive_the_connection_stays_open():
    server = test_server.Server().start()
    try:
        response = requests.get(server.url + '/versions', timeout=10)
    finally:
        server.stop()

    assert response.headers.get('Connection') != 'close'


# 179


def _children(pid):
    with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
        return [int(p) for p in f.read().split()]


def _wait(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def workers_api():
    server = test_server.Server({'DEFAULT': {'workers': 2}}).start()
    yield server
    server.stop()


def test_two_workers_answer_and_a_killed_one_is_replaced(workers_api):
    parent = workers_api.process.pid
    workers = _wait(lambda: len(_children(parent)) == 2 and
                    _children(parent))
    assert len(workers) == 2

    os.kill(workers[0], signal.SIGKILL)

    # The other worker serves meanwhile; a new one appears.
    assert requests.get(workers_api.url + '/versions',
                        timeout=10).status_code == 200
    replaced = _wait(lambda: (len(_children(parent)) == 2 and
                              workers[0] not in _children(parent) and
                              _children(parent)))
    assert replaced and workers[1] in replaced
    for _ in range(10):
        assert requests.get(workers_api.url + '/versions',
                            timeout=10).status_code == 200


def test_sigkill_of_the_parent_leaves_no_worker_on_the_port(workers_api):
    parent = workers_api.process.pid
    workers = _wait(lambda: len(_children(parent)) == 2 and
                    _children(parent))

    os.kill(parent, signal.SIGKILL)
    workers_api.process.wait()

    # With the parent and every worker gone, nothing holds the listening
    # socket. (Connecting to the port proves nothing here: in a parallel
    # run another test's server may already listen on the freed port.)
    assert _wait(lambda: all(processes.gone(pid) for pid in workers), 10)


def test_sigterm_during_an_upload_lets_it_finish(workers_api):
    answers = []
    sent = threading.Event()

    def body():
        yield b'x' * 65536
        sent.set()
        for _ in range(20):
            time.sleep(0.1)
            yield b'x' * 65536

    def upload():
        answers.append(requests.post(
            workers_api.url + '/v1/images', data=body(), timeout=60,
            headers={'x-image-meta-name': 'slow',
                     'x-image-meta-disk_format': 'raw',
                     'x-image-meta-container_format': 'bare',
                     'Content-Type': 'application/octet-stream'}))

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert sent.wait(10)
    workers_api.process.send_signal(signal.SIGTERM)
    uploader.join(60)

    assert answers and answers[0].status_code == 201, answers
    assert answers[0].json()['image']['size'] == 21 * 65536
    assert workers_api.process.wait(timeout=30) == 0


# SIGHUP (spec §24.4 rule 4: reload without dropping accepted connections)


class Prober:
    """Opens a new connection for a GET /versions every few milliseconds
    until stopped; records what went wrong and the Connection header of
    every answer."""

    def __init__(self, url):
        self.url = url
        self.failures = []
        self.closing = 0
        self.answers = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        while not self.stop.is_set():
            try:
                response = requests.get(self.url + '/versions', timeout=10)
            except requests.RequestException as e:
                self.failures.append(repr(e))
            else:
                self.answers += 1
                if response.status_code != 200:
                    self.failures.append(response.status_code)
                if response.headers.get('Connection') == 'close':
                    self.closing += 1
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def _slow_upload(url, answers, sent, chunks=30):
    def body():
        yield b'x' * 65536
        sent.set()
        for _ in range(chunks):
            time.sleep(0.1)
            yield b'x' * 65536

    answers.append(requests.post(
        url + '/v1/images', data=body(), timeout=60,
        headers={'x-image-meta-name': 'slow',
                 'x-image-meta-disk_format': 'raw',
                 'x-image-meta-container_format': 'bare',
                 'Content-Type': 'application/octet-stream'}))


def _workers(server):
    return _wait(lambda: len(_children(server.process.pid)) == 2 and
                 sorted(_children(server.process.pid)))


def test_sighup_applies_a_changed_configuration_without_a_refusal(
        workers_api):
    before = _workers(workers_api)
    answers, sent = [], threading.Event()
    uploader = threading.Thread(target=_slow_upload,
                                args=(workers_api.url, answers, sent))
    uploader.start()
    assert sent.wait(10)

    workers_api.rewrite_config({'DEFAULT': {'http_keepalive': 'false'}})
    with Prober(workers_api.url) as prober:
        workers_api.process.send_signal(signal.SIGHUP)
        # The new workers answer with the new configuration: every
        # answer closes its connection.
        assert _wait(lambda: prober.closing >= 20, 60), workers_api.log()
        uploader.join(60)
    after = _workers(workers_api)

    assert prober.failures == [], prober.failures
    assert not set(before) & set(after), (before, after)
    assert _wait(lambda: all(processes.gone(pid) for pid in before), 30)
    # The upload begun before the reload finished on its old worker.
    assert answers and answers[0].status_code == 201, answers
    assert answers[0].json()['image']['size'] == 31 * 65536
    assert workers_api.process.poll() is None


@pytest.mark.parametrize('broken, logged', [
    # Refused by the parent: the TLS pair does not load.
    ({'DEFAULT': {'cert_file': '/nonexistent.pem'}},
     'Reloaded configuration refused'),
    # Accepted by the parent, but the new workers cannot load the
    # application: they exit, the old ones go on.
    ({'paste_deploy': {'flavor': 'no-such-flavor'}},
     'did not start (exited)'),
])
def test_sighup_with_a_broken_configuration_keeps_the_workers(
        workers_api, broken, logged):
    before = _workers(workers_api)
    workers_api.rewrite_config(broken)
    with Prober(workers_api.url) as prober:
        workers_api.process.send_signal(signal.SIGHUP)
        assert _wait(lambda: logged in workers_api.log(), 60), \
            workers_api.log()
        time.sleep(1)

    assert prober.failures == [] and prober.answers > 0, prober.failures
    assert _workers(workers_api) == before
    assert workers_api.process.poll() is None


def test_sighup_does_not_end_a_single_process_server():
    server = test_server.Server().start()
    try:
        server.process.send_signal(signal.SIGHUP)
        assert _wait(lambda: 'SIGHUP ignored' in server.log(), 10), \
            server.log()
        assert requests.get(server.url + '/versions',
                            timeout=10).status_code == 200
        assert server.process.poll() is None
    finally:
        server.stop()


def test_sighup_applies_a_new_certificate(pki, tmp_path):
    # A second CA and server pair: after the reload, clients that trust
    # only the new CA are served, and the old certificate is no longer
    # presented.
    renewed = Pki(str(tmp_path))
    server = _start_tls(pki, {'workers': 2})
    try:
        url = _https(server) + '/versions'
        assert requests.get(url, verify=pki.ca, timeout=10).ok
        server.rewrite_config({'DEFAULT': {
            'cert_file': renewed.server_cert,
            'key_file': renewed.server_key}})
        server.process.send_signal(signal.SIGHUP)

        def served_by_new():
            try:
                return requests.get(url, verify=renewed.ca, timeout=10).ok
            except requests.exceptions.SSLError:
                return False
        assert _wait(served_by_new, 60), server.log()
        # Once the old workers are gone, nothing presents the old
        # certificate.
        assert _wait(lambda: server.log().count(
            'of the previous configuration stopped') == 2, 60), server.log()
        for _ in range(5):
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(url, verify=pki.ca, timeout=10)
    finally:
        server.stop()


# A stop that comes while the server starts (CI once saw a worker told to
# stop during its start serve on until the parent's grace ran out).

_STARTING_SERVER = '''
import os, signal, sys
from cheroot import wsgi
from glance_lite.cmd import api

def app(environ, start_response):
    start_response('200 OK', [])
    return [b'']

server = wsgi.Server(('127.0.0.1', 0), app)
when = sys.argv[1]
prepare = server.prepare

def prepare_then_signal():
    if when == 'starting':
        os.kill(os.getpid(), signal.SIGTERM)
    prepare()

server.prepare = prepare_then_signal
sys.exit(api._serve(server, announce=False, ready=(
    (lambda: os.kill(os.getpid(), signal.SIGTERM)) if when == 'ready'
    else None)))
'''


@pytest.mark.parametrize('when, status', [('starting', -signal.SIGTERM),
                                          ('ready', 0)])
def test_a_sigterm_while_starting_or_ready_ends_the_server(when, status):
    process = subprocess.Popen([sys.executable, '-c', _STARTING_SERVER,
                                when])
    try:
        assert process.wait(timeout=20) == status
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
