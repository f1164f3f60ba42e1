"""The catalogue's PostgreSQL or MariaDB stops while requests are in
flight (a crash: ``pg_ctl stop -m immediate`` or SIGKILL of mariadbd; an
orderly shutdown: ``-m fast`` or SIGTERM), then comes back on the same
port. The API, never restarted:

- answers 503 with a message to every request while the database is
  away (no 500, no request held past a bound);
- serves again by itself once the database is back;
- leaves nothing half-applied: an update that got 503 did not change the
  image, a create that got 503 is absent or whole, an upload that failed
  left its image killed with no bytes in the store, and an upload whose
  body was still streaming when the database returned completed.

The database is a private PostgreSQL or MariaDB instance
(tests/pg_instance.py, tests/mariadb_instance.py), so stopping it
disturbs no other test. tests/db/test_database_down.py covers
a database unreachable from the start and a connection cut by a relay.
"""

import concurrent.futures
import hashlib
import json
import threading
import time
import uuid

import pytest
import requests

from tests import mariadb_instance
from tests import pg_instance
from tests.reliability import image_checks
from tests import server as test_server

# Every round on one worker: one database server and API per engine.
pytestmark = pytest.mark.xdist_group('database-outage')
TIMEOUT = 30  # no request may be held longer than this
OUTAGE_SECONDS = 3
CHUNK = 64 * 1024
SUCCESS = {'GET': {200}, 'HEAD': {200}, 'POST': {201}, 'PUT': {200}}
# Each engine's server and its stop modes: a crash, an orderly shutdown.
ENGINES = {
    'postgresql': (pg_instance.PostgresInstance,
                   {'crash': 'immediate', 'clean': 'fast'}),
    'mariadb': (mariadb_instance.MariaDBInstance,
                {'crash': 'crash', 'clean': 'clean'}),
}


def _md5(data):
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture(scope='module', params=sorted(ENGINES))
def outage_api(request):
    """A server whose catalogue is a private PostgreSQL or MariaDB,
    migrated with glance-lite-manage db sync as an operator would; the
    database server's stop modes."""
    instance, modes = ENGINES[request.param]
    with instance() as pg:
        url = pg.create_database('glance')
        srv = test_server.Server({'database': {
            'connection': url, 'max_retries': 1, 'retry_interval': 1}})
        try:
            synced = srv.manage('db', 'sync')
            assert synced.returncode == 0, synced.stderr
            srv.start()
            yield srv, pg, modes
        finally:
            srv.stop()


class Traffic:
    """Client threads that keep calling the API, recording every answer
    as (phase, method, status, text) and what they wrote."""

    def __init__(self, base_url):
        self.url = base_url
        self.phase = 'before'
        self.stop = threading.Event()
        self.stop_updates = threading.Event()
        self.answers = []
        self.updates = []  # (sequence number, status)
        self.creates = []  # (image id, status, data or None)
        self.lock = threading.Lock()

    def call(self, session, method, path, **kwargs):
        phase = self.phase
        response = session.request(method, self.url + path,
                                   timeout=TIMEOUT, **kwargs)
        with self.lock:
            self.answers.append((phase, method, path, response.status_code,
                                 response.text))
        return response

    def successes(self, phase):
        return [a for a in self.answers
                if a[0] == phase and a[3] in SUCCESS[a[1]]]

    def updater(self, image_id):
        """Rename and re-property one image, each write distinct, until
        told to stop (before the database returns)."""
        session = requests.Session()
        number = 0
        while not self.stop_updates.is_set():
            number += 1
            response = self.call(
                session, 'PUT', '/v1/images/' + image_id, headers={
                    'x-image-meta-name': 'meta-%d' % number,
                    'x-image-meta-property-sequence': str(number),
                    'x-image-meta-property-copy': str(number)})
            with self.lock:
                self.updates.append((number, response.status_code))
            time.sleep(0.05)

    def creator(self):
        """Create images with ids of our choosing, every other one with
        data, so that a create answered 503 can be looked up."""
        session = requests.Session()
        number = 0
        while not self.stop.is_set():
            number += 1
            image_id = str(uuid.uuid4())
            data = b'%d' % number * 1000 if number % 2 else None
            headers = {'x-image-meta-id': image_id,
                       'x-image-meta-name': 'created-%d' % number,
                       'x-image-meta-disk_format': 'raw',
                       'x-image-meta-container_format': 'bare',
                       'x-image-meta-property-one': image_id,
                       'x-image-meta-property-two': image_id}
            if data:
                headers['Content-Type'] = 'application/octet-stream'
            response = self.call(session, 'POST', '/v1/images',
                                 headers=headers, data=data)
            with self.lock:
                self.creates.append((image_id, response.status_code, data))
            time.sleep(0.05)

    def reader(self, image_id):
        session = requests.Session()
        while not self.stop.is_set():
            self.call(session, 'HEAD', '/v1/images/' + image_id)
            # A JSON client gets its error as JSON (spec §12.1).
            self.call(session, 'GET', '/v1/images/detail',
                      params={'is_public': 'None'},
                      headers={'Accept': 'application/json'})
            time.sleep(0.05)

    def slow_upload(self, image_id, until, chunks_after):
        """Upload to a queued image a body that keeps streaming until the
        event ``until``, then sends ``chunks_after`` more chunks. Returns
        (answer, the bytes sent)."""
        sent = []

        def body():
            while not until.is_set():
                sent.append(b'u' * CHUNK)
                yield sent[-1]
                time.sleep(0.1)
            for _ in range(chunks_after):
                sent.append(b'v' * CHUNK)
                yield sent[-1]

        response = requests.put(
            self.url + '/v1/images/' + image_id, data=body(),
            headers={'Content-Type': 'application/octet-stream'},
            timeout=TIMEOUT + 60)
        return response, b''.join(sent)


def _wait(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'timed out waiting for ' + what
        time.sleep(0.05)


def _create(session, url, headers, data=None):
    response = session.post(url + '/v1/images', headers=headers, data=data,
                            timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()['image']


@pytest.mark.parametrize('mode', ['crash', 'clean'])
def test_database_stopped_mid_run(outage_api, mode):
    srv, pg, modes = outage_api
    session = requests.Session()
    # What an earlier round left, checked then.
    live_sizes = srv.stored_sizes()
    formats = {'x-image-meta-disk_format': 'raw',
               'x-image-meta-container_format': 'bare'}
    kept_data = b'k' * 300000
    kept = _create(session, srv.url, dict(
        formats, **{'x-image-meta-name': 'kept',
                    'Content-Type': 'application/octet-stream'}), kept_data)
    meta = _create(session, srv.url, {'x-image-meta-name': 'meta-0',
                                      'x-image-meta-property-sequence': '0'})
    # Two uploads that start before the outage: one ends while the
    # database is away, the other only after it is back.
    failing = _create(session, srv.url, dict(formats, **{
        'x-image-meta-name': 'upload-during-outage'}))
    surviving = _create(session, srv.url, dict(formats, **{
        'x-image-meta-name': 'upload-across-outage'}))
    database_down = threading.Event()
    database_back = threading.Event()
    traffic = Traffic(srv.url)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        updater = pool.submit(traffic.updater, meta['id'])
        workers = [updater, pool.submit(traffic.creator),
                   pool.submit(traffic.reader, kept['id'])]
        failing_upload = pool.submit(traffic.slow_upload, failing['id'],
                                     database_down, 4)
        surviving_upload = pool.submit(traffic.slow_upload, surviving['id'],
                                       database_back, 4)
        try:
            _wait(lambda: {'PUT', 'POST', 'GET', 'HEAD'} <= {
                a[1] for a in traffic.successes('before')},
                'requests before the outage')
            # Both uploads are saving, their data streaming to the store.
            _wait(lambda: {failing['id'], surviving['id']} <= set(
                srv.stored_files()), 'the uploads to start')

            pg.stop(modes[mode])
            traffic.phase = 'outage'
            database_down.set()
            time.sleep(OUTAGE_SECONDS)
            traffic.stop_updates.set()
            updater.result()

            pg.start()
            traffic.phase = 'back'
            database_back.set()
            # The API process was not restarted: it finds the database
            # again by itself.
            _wait(lambda: session.get(srv.url + '/v1/images',
                                      timeout=TIMEOUT).status_code == 200,
                  'the API to serve again')
            _wait(lambda: {'POST', 'GET', 'HEAD'} <= {
                a[1] for a in traffic.successes('back')},
                'requests after the outage')
        finally:
            database_down.set()
            database_back.set()
            traffic.stop_updates.set()
            traffic.stop.set()
        for worker in workers:
            worker.result()
        failed_answer, _failed_data = failing_upload.result()
        survived_answer, survived_data = surviving_upload.result()

    assert srv.process.poll() is None
    # Every answer is a success or a 503 with a message (HEAD has no
    # body), and the outage was seen.
    for phase, method, path, status, text in traffic.answers:
        assert status in SUCCESS[method] | {503}, (
            phase, method, path, status, text)
        if status == 503 and method != 'HEAD':
            assert 'unavailable' in text, text
        if status == 503 and path == '/v1/images/detail':
            assert 'unavailable' in json.loads(text)['message'], text
    outage = [a for a in traffic.answers if a[0] == 'outage']
    assert {(a[1], a[3]) for a in outage} >= {
        ('GET', 503), ('HEAD', 503), ('POST', 503), ('PUT', 503)}, outage

    # The last acknowledged update is what the image holds: no update
    # answered 503 changed it.
    acknowledged = [n for n, status in traffic.updates if status == 200]
    head = session.head(srv.url + '/v1/images/' + meta['id'],
                        timeout=TIMEOUT).headers
    assert (head['x-image-meta-name'],
            head['x-image-meta-property-sequence'],
            head['x-image-meta-property-copy']) == (
        ('meta-%d' % acknowledged[-1],) + (str(acknowledged[-1]),) * 2)
    assert any(status == 503 for _n, status in traffic.updates)

    # A create answered 503 is either absent or whole; acknowledged ones
    # are whole.
    live_sizes[kept['id']] = len(kept_data)
    for image_id, status, data in traffic.creates:
        response = session.head(srv.url + '/v1/images/' + image_id,
                                timeout=TIMEOUT)
        if status == 503 and response.status_code == 404:
            continue
        assert response.status_code == 200, (image_id, status)
        headers = response.headers
        assert (headers['x-image-meta-property-one'],
                headers['x-image-meta-property-two']) == (image_id,) * 2
        if data is None:
            assert headers['x-image-meta-status'] == 'queued'
        elif headers['x-image-meta-status'] == 'active' or status == 201:
            assert image_checks.download(session, srv.url, image_id)[
                1] == _md5(data)
            live_sizes[image_id] = len(data)
        else:
            # Its upload failed with the database away: still queued (it
            # failed before saving) or killed (once the database was back
            # to record it), never holding data.
            _wait(lambda: session.head(
                srv.url + '/v1/images/' + image_id, timeout=TIMEOUT).headers[
                'x-image-meta-status'] in ('queued', 'killed'),
                'image %s to be killed' % image_id)

    # The upload whose body ended during the outage failed with a 503 and
    # left its image killed; the one that ended after it completed.
    assert failed_answer.status_code == 503, failed_answer.text
    assert 'unavailable' in failed_answer.text
    _wait(lambda: session.head(
        srv.url + '/v1/images/' + failing['id'], timeout=TIMEOUT).headers[
        'x-image-meta-status'] == 'killed', 'the failed upload to be killed')
    assert survived_answer.status_code == 200, survived_answer.text
    image = survived_answer.json()['image']
    assert (image['status'], image['checksum']) == ('active',
                                                    _md5(survived_data))
    live_sizes[surviving['id']] = len(survived_data)

    assert image_checks.store_difference(srv, live_sizes) == []
    kept_download = image_checks.download(session, srv.url, kept['id'])
    assert kept_download[1] == _md5(kept_data)
    # Writes work again too.
    assert session.put(srv.url + '/v1/images/' + meta['id'], headers={
        'x-image-meta-name': 'after'}, timeout=TIMEOUT).status_code == 200
    assert pg.pid() is not None
