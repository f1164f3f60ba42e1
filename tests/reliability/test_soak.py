"""A soak run: parallel clients mixing create/upload/update/list/HEAD/
download/delete on one real server for GLANCE_LITE_SOAK_SECONDS (60 by
default; set it higher for a longer run, GLANCE_LITE_SOAK_CLIENTS for
more clients). Each client keeps a ledger of the images the server
acknowledged and their MD5; afterwards every live image downloads with
its checksum, every deleted one is gone, the store holds exactly the live
images' bytes, and no answer was a 5xx or outside the documented set.

Each client changes only its own images (one property names the owner),
so the answer to each of its requests is known exactly; the races between
clients on one image are the subject of tests/functional/test_races.py.
The counts are shown in pytest's terminal summary ("glance_lite figures")
and written to soak-summary.json in the test's temporary directory.
"""

import collections
import concurrent.futures
import hashlib
import json
import os
import random
import threading
import time

import requests

from tests import conftest
from tests.reliability import image_checks

SOAK_SECONDS = float(os.environ.get('GLANCE_LITE_SOAK_SECONDS', '60'))
CLIENTS = int(os.environ.get('GLANCE_LITE_SOAK_CLIENTS', '8'))
SEED = int(os.environ.get('GLANCE_LITE_SOAK_SEED', '20261127'))
TIMEOUT = image_checks.TIMEOUT
MIB = 1024 * 1024
# A client keeps at most this many live images; past it, it deletes.
MAX_LIVE_PER_CLIENT = 12
# Weights of the operations a client picks from.
OPERATIONS = {'create': 4, 'reserve': 2, 'upload': 2, 'update': 3,
              'list': 2, 'head': 3, 'download': 3, 'download_any': 2,
              'delete': 3}


def _image_size(rng):
    """Mostly small images, some up to 2 MiB, a few bigger."""
    draw = rng.random()
    if draw < 0.6:
        return rng.randint(1, 64 * 1024)
    if draw < 0.97:
        return rng.randint(64 * 1024, 2 * MIB)
    return rng.randint(2 * MIB, 6 * MIB)


class Ledger:
    """What the server acknowledged, and every answer it gave."""

    def __init__(self):
        self.lock = threading.Lock()
        # image id -> {'md5', 'size', 'status', 'properties', 'deleted'}
        self.images = {}
        self.requests = collections.Counter()
        self.statuses = collections.Counter()
        self.unexpected = []
        # Images another client found gone (404): they must end deleted.
        self.not_found = set()
        self.bytes_up = 0
        self.bytes_down = 0

    def answer(self, kind, status, expected, text=''):
        """Count one answer; a status outside ``expected`` is recorded as
        a failure with its body."""
        with self.lock:
            self.requests[kind] += 1
            self.statuses[status] += 1
            if status not in expected:
                self.unexpected.append((kind, status, text[:300]))
        return status in expected

    def http_answer(self, kind, response, expected):
        return self.answer(kind, response.status_code, expected,
                           response.text)

    def summary(self):
        images = self.images.values()
        errors = {status: count for status, count in self.statuses.items()
                  if status >= 400}
        return {
            'seconds': SOAK_SECONDS, 'clients': CLIENTS,
            'requests': sum(self.requests.values()),
            'requests_by_kind': dict(sorted(self.requests.items())),
            'images_created': len(self.images),
            'images_deleted': sum(1 for i in images if i['deleted']),
            'images_live': sum(1 for i in images if not i['deleted']),
            'bytes_up': self.bytes_up, 'bytes_down': self.bytes_down,
            'errors_by_status': errors,
            'unexpected_answers': len(self.unexpected),
        }


class SoakClient:
    """One client: its own session, random generator and images."""

    def __init__(self, base_url, ledger, number, deadline):
        self.url = base_url
        self.ledger = ledger
        self.number = number
        self.deadline = deadline
        self.rng = random.Random(SEED + number)
        self.session = requests.Session()
        self.mine = {}  # live image id -> ledger entry
        self.counter = 0

    def run(self):
        names = list(OPERATIONS)
        weights = [OPERATIONS[n] for n in names]
        while time.monotonic() < self.deadline:
            operation = self.rng.choices(names, weights)[0]
            if len(self.mine) >= MAX_LIVE_PER_CLIENT:
                operation = 'delete'
            getattr(self, operation)()
        self.session.close()

    # -- helpers ---------------------------------------------------------

    def _pick(self, status=None):
        ids = sorted(i for i, entry in self.mine.items()
                     if status is None or entry['status'] == status)
        return self.rng.choice(ids) if ids else None

    def _headers(self):
        self.counter += 1
        return {'x-image-meta-name': 'soak-%d-%d' % (
                    self.number, self.counter),
                'x-image-meta-disk_format': 'raw',
                'x-image-meta-container_format': 'bare',
                'x-image-meta-property-client': str(self.number)}

    def _record(self, image, data=None):
        entry = {'status': image['status'], 'size': image['size'],
                 'md5': None, 'properties': image['properties'],
                 'deleted': False}
        if data is not None:
            entry['md5'] = hashlib.md5(data, usedforsecurity=False
                                       ).hexdigest()
        with self.ledger.lock:
            self.ledger.images[image['id']] = entry
        self.mine[image['id']] = entry
        return entry

    def _check_uploaded(self, kind, image, data):
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if (image['status'], image['size'], image['checksum']) != (
                'active', len(data), md5):
            self.ledger.unexpected.append(
                (kind, 'acknowledged upload differs', image['id']))
        with self.ledger.lock:
            self.ledger.bytes_up += len(data)

    # -- operations ------------------------------------------------------

    def create(self):
        """POST with data: 201, active, size and checksum of the data."""
        data = self.rng.randbytes(_image_size(self.rng))
        headers = dict(self._headers(),
                       **{'Content-Type': 'application/octet-stream'})
        response = self.session.post(self.url + '/v1/images', data=data,
                                     headers=headers, timeout=TIMEOUT)
        if self.ledger.http_answer('create', response, {201}):
            image = response.json()['image']
            self._check_uploaded('create', image, data)
            self._record(image, data)

    def reserve(self):
        """POST without data: 201, queued."""
        response = self.session.post(self.url + '/v1/images',
                                     headers=self._headers(),
                                     timeout=TIMEOUT)
        if self.ledger.http_answer('reserve', response, {201}):
            self._record(response.json()['image'])

    def upload(self):
        """PUT data to a queued image of ours: 200, active."""
        image_id = self._pick('queued')
        if image_id is None:
            return self.reserve()
        data = self.rng.randbytes(_image_size(self.rng))
        response = self.session.put(
            self.url + '/v1/images/' + image_id, data=data,
            headers={'Content-Type': 'application/octet-stream'},
            timeout=TIMEOUT)
        if self.ledger.http_answer('upload', response, {200}):
            image = response.json()['image']
            self._check_uploaded('upload', image, data)
            self._record(image, data)

    def update(self):
        """PUT metadata (merge, or replace with purge): 200, exactly the
        properties expected."""
        image_id = self._pick()
        if image_id is None:
            return self.create()
        entry = self.mine[image_id]
        purge = self.rng.random() < 0.3
        key = 'k%d' % self.rng.randint(0, 4)
        value = 'v%d' % self.rng.randint(0, 10 ** 6)
        headers = {'x-image-meta-property-' + key: value,
                   'x-image-meta-property-client': str(self.number),
                   'x-glance-registry-purge-props': str(purge).lower()}
        response = self.session.put(self.url + '/v1/images/' + image_id,
                                    headers=headers, timeout=TIMEOUT)
        if self.ledger.http_answer('update', response, {200}):
            expected = ({} if purge else dict(entry['properties']))
            expected.update({key: value, 'client': str(self.number)})
            got = response.json()['image']['properties']
            if got != expected:
                self.ledger.unexpected.append(
                    ('update', 'properties %r, expected %r'
                     % (got, expected), image_id))
            entry['properties'] = got

    def list(self):
        """GET /v1/images/detail filtered on this client: exactly its
        live images."""
        response = self.session.get(
            self.url + '/v1/images/detail',
            params={'property-client': str(self.number), 'limit': 1000,
                    'is_public': 'None'}, timeout=TIMEOUT)
        if self.ledger.http_answer('list', response, {200}):
            listed = {i['id'] for i in response.json()['images']}
            if listed != set(self.mine):
                self.ledger.unexpected.append(
                    ('list', 'listed %d, live %d' % (len(listed),
                                                     len(self.mine)),
                     sorted(listed ^ set(self.mine))))

    def head(self):
        """HEAD: 200 with the recorded status, size and checksum."""
        image_id = self._pick()
        if image_id is None:
            return self.reserve()
        entry = self.mine[image_id]
        response = self.session.head(self.url + '/v1/images/' + image_id,
                                     timeout=TIMEOUT)
        if self.ledger.http_answer('head', response, {200}):
            seen = (response.headers['x-image-meta-status'],
                    int(response.headers['x-image-meta-size']),
                    response.headers.get('x-image-meta-checksum'))
            if seen != (entry['status'], entry['size'], entry['md5']):
                self.ledger.unexpected.append(('head', seen, image_id))

    def download(self):
        """GET data of an active image: 200 and the uploaded bytes."""
        image_id = self._pick('active')
        if image_id is None:
            return self.create()
        entry = self.mine[image_id]
        status, md5, received = image_checks.download(self.session,
                                                      self.url, image_id)
        if self.ledger.answer('download', status, {200}):
            with self.ledger.lock:
                self.ledger.bytes_down += received
            if md5 != entry['md5']:
                self.ledger.unexpected.append(('download', 'md5', image_id))

    def download_any(self):
        """GET data of any client's active image, which its owner may be
        deleting meanwhile: 200 with the uploaded bytes, or 404."""
        with self.ledger.lock:
            active = sorted(i for i, entry in self.ledger.images.items()
                            if entry['status'] == 'active' and entry['size']
                            and not entry['deleted'])
        if not active:
            return self.create()
        image_id = self.rng.choice(active)
        expected_md5 = self.ledger.images[image_id]['md5']
        status, md5, received = image_checks.download(self.session,
                                                      self.url, image_id)
        if self.ledger.answer('download_any', status, {200, 404}):
            with self.ledger.lock:
                self.ledger.bytes_down += received
            if status == 404:
                self.ledger.not_found.add(image_id)
            elif md5 != expected_md5:
                self.ledger.unexpected.append(('download_any', 'md5',
                                               image_id))

    def delete(self):
        """DELETE: 200; the image leaves the ledger's live set."""
        image_id = self._pick()
        if image_id is None:
            return self.reserve()
        response = self.session.delete(self.url + '/v1/images/' + image_id,
                                       timeout=TIMEOUT)
        if self.ledger.http_answer('delete', response, {200}):
            self.mine.pop(image_id)['deleted'] = True


def _verify(api, ledger):
    """Every acknowledged image as the ledger says; the store holding
    exactly the live images' bytes. Returns the problems found."""
    session = requests.Session()
    problems = []
    for image_id, entry in sorted(ledger.images.items()):
        head = session.head(api.url + '/v1/images/' + image_id,
                            timeout=TIMEOUT)
        status, md5, _received = image_checks.download(session, api.url,
                                                       image_id)
        if entry['deleted']:
            # noauth callers are admins: they see deleted records (HEAD).
            if (head.headers.get('x-image-meta-status'), status) != (
                    'deleted', 404):
                problems.append('deleted image %s: HEAD %s, GET %s' % (
                    image_id, head.headers.get('x-image-meta-status'),
                    status))
        elif entry['status'] == 'active':
            if (head.status_code, status, md5) != (200, 200, entry['md5']):
                problems.append('live image %s: HEAD %s, GET %s, md5 %s '
                                'instead of %s' % (image_id,
                                                   head.status_code,
                                                   status, md5,
                                                   entry['md5']))
        elif head.headers.get('x-image-meta-status') != entry['status']:
            problems.append('image %s is %s, expected %s' % (
                image_id, head.headers.get('x-image-meta-status'),
                entry['status']))
    session.close()
    problems += ['image %s was not found, but not deleted' % image_id
                 for image_id in sorted(ledger.not_found)
                 if not ledger.images[image_id]['deleted']]
    live_sizes = {image_id: entry['size']
                  for image_id, entry in ledger.images.items()
                  if not entry['deleted'] and entry['status'] == 'active'}
    return problems + image_checks.store_difference(api, live_sizes)


def test_soak_mixed_traffic_loses_nothing(api, record_property, tmp_path):
    ledger = Ledger()
    deadline = time.monotonic() + SOAK_SECONDS
    clients = [SoakClient(api.url, ledger, n, deadline)
               for n in range(CLIENTS)]
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        for finished in [pool.submit(client.run) for client in clients]:
            finished.result()

    problems = _verify(api, ledger)
    summary = ledger.summary()
    summary['lost_or_wrong_after_run'] = len(problems)
    text = json.dumps(summary, sort_keys=True)
    record_property(conftest.FIGURES, 'soak ' + text)
    (tmp_path / 'soak-summary.json').write_text(text)

    assert ledger.unexpected == [], (text, ledger.unexpected[:20])
    assert problems == [], (text, problems[:20])
    # The run did what it says: every kind of request, many times.
    assert all(ledger.requests[kind] > 0 for kind in OPERATIONS), text
    assert not any(status >= 500 for status in ledger.statuses), text
