"""Image data in Ceph RBD (issue 17), on a real single-node cluster
(tests/ceph_cluster.py) reached as an operator's ``client.glance`` with
``profile rbd pool=images``: uploads chunked and with a Content-Length,
downloads checked by MD5, the rbd image and its protected ``snap`` while
the image lives and nothing (trash included) after DELETE, a 1 GiB image
with bounded server memory, uploads cut by the client or by a SIGKILL of
the API, a DELETE while a clone of the snapshot exists, and
``store check`` on the pool."""

import concurrent.futures
import hashlib
import os
import threading
import time
import uuid

import pytest
import requests

from tests import processes
from tests.reliability import faults_support as fs
from tests import server as test_server
from tests.stores import test_object_stores as objects

MIB = 1024 * 1024
GIB = 1024 * MIB
# Two 8 MiB rbd objects and a bit: more than one write and one resize.
SMALL = 17 * MIB + 3
PEAK_RSS_LIMIT = objects.PEAK_RSS_LIMIT


def rbd_config(ceph, **options):
    """glance_lite's configuration for the rbd store on ``ceph``."""
    store = dict(ceph.glance_config(), stores='file, rbd',
                 default_store='rbd')
    return dict({'glance_store': store}, **options)


@pytest.fixture(scope='module')
def api(ceph):
    srv = test_server.Server(rbd_config(ceph)).start()
    yield srv
    srv.stop()


def rbd_images(ceph):
    return ceph.rbd_json('ls') or []


def snapshots(ceph, name):
    return [(s['name'], s['protected']) for s in
            ceph.rbd_json('snap', 'ls', name)]


def trash(ceph):
    return ceph.rbd_json('trash', 'ls') or []


def assert_nothing_of(ceph, image_id):
    assert image_id not in rbd_images(ceph)
    assert not [t for t in trash(ceph) if t.get('name') == image_id]


def assert_no_store_details(ceph, srv, *responses):
    """No rbd URI, cluster fsid or keyring path in answers or logs."""
    secrets = ['rbd://', ceph.fsid, ceph.conf]
    for response in responses:
        text = response.text + ' '.join(
            '%s: %s' % item for item in response.headers.items())
        for secret in secrets:
            assert secret not in text, (secret, response.request.method)
    log = srv.log()
    for secret in secrets:
        assert secret not in log, secret


def create(srv, payload, chunked=True, **headers):
    return objects.create(srv, 'rbd', payload, chunked=chunked, **headers)


@pytest.mark.parametrize('chunked', [True, False],
                         ids=['chunked', 'content-length'])
def test_round_trip_and_delete(api, ceph, chunked):
    payload = objects.Payload(SMALL)

    created = create(api, payload, chunked=chunked)

    assert created.status_code == 201, created.text
    image = created.json()['image']
    assert (image['status'], image['size'], image['checksum']) == (
        'active', SMALL, payload.md5)
    assert objects.download_md5(api, image['id']) == (payload.md5, SMALL)
    # The rbd image is the image id, as large as the data, with the
    # protected snapshot Nova and Cinder clone from.
    info = ceph.rbd_json('info', image['id'])
    assert info['size'] == SMALL
    assert snapshots(ceph, image['id']) == [('snap', 'true')]
    head = requests.head(api.url + '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-size'] == str(SMALL)

    deleted = requests.delete(api.url + '/v1/images/' + image['id'])

    assert deleted.status_code == 200, deleted.text
    assert_nothing_of(ceph, image['id'])
    gone = requests.get(api.url + '/v1/images/' + image['id'])
    assert gone.status_code == 404
    assert_no_store_details(ceph, api, created, head, deleted, gone)


def test_declared_size_creates_the_image_that_large_without_a_warning(
        api, ceph):
    payload = objects.Payload(SMALL)

    created = create(api, payload, chunked=True,
                     **{'x-image-meta-size': str(SMALL)})

    assert created.status_code == 201, created.text
    assert objects.download_md5(api, created.json()['image']['id']) == (
        payload.md5, SMALL)
    # glance_store's own add warned on every upload it got size 0 for.
    assert 'resize-before-write' not in api.log()


@pytest.mark.parametrize('declared', [SMALL - 1, SMALL + 1])
def test_a_declared_size_that_differs_kills_the_image(api, ceph, declared):
    payload = objects.Payload(SMALL)

    created = create(api, payload, chunked=True,
                     **{'x-image-meta-size': str(declared),
                        'x-image-meta-id': str(uuid.uuid4())})

    assert created.status_code == 400, created.text
    assert 'size' in created.text.lower()
    image_id = created.request.headers['x-image-meta-id']
    assert fs.status_of(api, image_id, missing_ok=True) in ('killed', None)
    assert_nothing_of(ceph, image_id)


@pytest.mark.parametrize('size', [0, 1, 8 * MIB], ids=['0', '1', 'object'])
def test_edge_sizes_round_trip(api, ceph, size):
    payload = objects.Payload(size)

    created = create(api, payload)

    assert created.status_code == 201, created.text
    image = created.json()['image']
    assert (image['size'], image['checksum']) == (size, payload.md5)
    assert objects.download_md5(api, image['id']) == (payload.md5, size)
    assert requests.delete(
        api.url + '/v1/images/' + image['id']).status_code == 200
    assert_nothing_of(ceph, image['id'])


def test_concurrent_uploads_of_unknown_size(api, ceph):
    # glance_store's add grows every upload's image from one counter of
    # the store: uploads side by side must not share it.
    sizes = [SMALL, 3 * SMALL + 7, 2 * MIB + 1, 40 * MIB]
    payloads = [objects.Payload(size) for size in sizes]
    with concurrent.futures.ThreadPoolExecutor(len(sizes)) as pool:
        answers = list(pool.map(lambda p: create(api, p), payloads))

    for payload, created in zip(payloads, answers):
        assert created.status_code == 201, created.text
        image = created.json()['image']
        assert (image['size'], image['checksum']) == (payload.size,
                                                      payload.md5)
        assert ceph.rbd_json('info', image['id'])['size'] == payload.size
        assert objects.download_md5(api, image['id']) == (payload.md5,
                                                          payload.size)


def test_one_gib_image_round_trips_in_bounded_memory(ceph):
    # A server of its own: its peak memory is this transfer's.
    srv = test_server.Server(rbd_config(ceph)).start()
    try:
        payload = objects.Payload(GIB)

        created = create(srv, payload)

        assert created.status_code == 201, created.text
        image = created.json()['image']
        assert (image['size'], image['checksum']) == (GIB, payload.md5)
        assert objects.download_md5(srv, image['id']) == (payload.md5, GIB)
        print('rbd: API peak RSS %d MiB' % (srv.peak_rss() // MIB))
        assert srv.peak_rss() < PEAK_RSS_LIMIT
        assert requests.delete(
            srv.url + '/v1/images/' + image['id']).status_code == 200
        assert_nothing_of(ceph, image['id'])
        assert_no_store_details(ceph, srv, created)
    finally:
        srv.stop()


def test_memory_stays_flat_over_repeated_transfers(ceph):
    # Each transfer's 8 MiB pieces are allocated by whichever of the
    # server's threads serves it: without a bound on glibc's arenas
    # (malloc_arena_max), every thread kept its own, and the server grew
    # by ~50 MiB with every round (220, 284, 331 MiB after each); with
    # them it moves by +-40 MiB as glibc trims, and does not grow.
    srv = test_server.Server(rbd_config(ceph)).start()
    try:
        after = []
        for _round in range(4):
            payload = objects.Payload(GIB)
            created = create(srv, payload)
            assert created.status_code == 201, created.text
            image_id = created.json()['image']['id']
            assert objects.download_md5(srv, image_id) == (payload.md5, GIB)
            assert requests.delete(
                srv.url + '/v1/images/' + image_id).status_code == 200
            after.append(srv.rss())
        print('rbd: RSS after each round %s MiB, peak %d MiB' % (
            [rss // MIB for rss in after], srv.peak_rss() // MIB))
        assert after[3] - after[0] < 96 * MIB
        assert srv.peak_rss() < PEAK_RSS_LIMIT
    finally:
        srv.stop()


def test_a_client_cut_mid_upload_leaves_nothing(api, ceph):
    image_id = str(uuid.uuid4())
    upload = fs.RawUpload(api, image_id, length=SMALL)
    upload.send(os.urandom(10 * MIB))
    fs.wait_until(lambda: fs.status_of(api, image_id,
                                       missing_ok=True) == 'saving',
                  what='the upload to start')
    fs.wait_until(lambda: image_id in rbd_images(ceph),
                  what='the rbd image')

    upload.hang_up()

    fs.wait_until(lambda: fs.status_of(api, image_id) == 'killed',
                  what='the image to be killed')
    fs.wait_until(lambda: image_id not in rbd_images(ceph),
                  what='the rbd image to go')
    assert_nothing_of(ceph, image_id)


def test_delete_while_a_clone_exists_keeps_the_image(api, ceph):
    payload = objects.Payload(SMALL)
    created = create(api, payload)
    image_id = created.json()['image']['id']
    # What Nova or Cinder do with an image in rbd: a copy-on-write clone.
    clone = 'volume-' + image_id
    ceph.rbd('clone', '%s/%s@snap' % (ceph.pool, image_id),
             '%s/%s' % (ceph.pool, clone))

    refused = requests.delete(api.url + '/v1/images/' + image_id)

    assert refused.status_code == 409, refused.text
    assert 'in use' in refused.text
    assert fs.status_of(api, image_id) == 'active'
    assert objects.download_md5(api, image_id) == (payload.md5, SMALL)
    assert snapshots(ceph, image_id) == [('snap', 'true')]
    assert_no_store_details(ceph, api, refused)

    # Once the volume no longer depends on it, the image goes.
    ceph.rbd('flatten', clone)
    assert requests.delete(
        api.url + '/v1/images/' + image_id).status_code == 200
    assert_nothing_of(ceph, image_id)
    assert clone in rbd_images(ceph)
    ceph.rbd('rm', clone)


def _wait_for_no_watchers(ceph, name):
    """A process killed with an image open keeps watching it until the
    OSD times the watch out (30 s): what clean-stale, run long after the
    crash, meets."""
    fs.wait_until(lambda: not ceph.rbd_json('status', name)['watchers'],
                  timeout=60, what='the dead watch to time out')


@pytest.mark.parametrize('when', ['watch timed out', 'watch alive'])
def test_sigkill_mid_upload_then_clean_stale_leaves_nothing(ceph, when):
    config = rbd_config(ceph, DEFAULT={'stale_upload_check_interval': 0})
    first = test_server.Server(config).start()
    image_id = str(uuid.uuid4())
    try:
        partial = fs.RawUpload(first, image_id)  # chunked
        partial.send(os.urandom(20 * MIB))
        fs.wait_until(lambda: image_id in rbd_images(ceph),
                      what='the rbd image')
        fs.wait_until(
            lambda: ceph.rbd_json('info', image_id)['size'] >= 8 * MIB,
            what='data in the rbd image')
        first.process.kill()  # SIGKILL: no cleanup of any kind runs
        first.process.wait()
        partial.hang_up()
    except BaseException:
        first.stop()
        raise
    srv = test_server.Server(config, workdir=first.workdir).start()
    try:
        assert fs.status_of(srv, image_id) == 'saving'
        assert image_id in rbd_images(ceph)
        if when == 'watch timed out':
            _wait_for_no_watchers(ceph, image_id)
        else:
            # The dead client still holds the image (lock and watch): it
            # is fenced.
            assert ceph.rbd_json('status', image_id)['watchers']
        srv.execute_sql('UPDATE images SET updated_at = :then '
                        'WHERE id = :id',
                        {'then': '2000-01-01 00:00:00', 'id': image_id})

        cleaned = srv.manage('images', 'clean-stale',
                             '--saving-older-than', '3600')

        assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
        assert '%s saving since' % image_id in cleaned.stdout
        assert 'data left' not in cleaned.stdout
        assert fs.status_of(srv, image_id) == 'killed'
        assert_nothing_of(ceph, image_id)
        check = srv.manage('store', 'check')
        assert image_id not in check.stdout
    finally:
        srv.stop()


def test_the_restarted_service_removes_a_killed_upload_itself(ceph):
    # Heartbeats every second: an upload silent for 10 s is dead.
    config = rbd_config(ceph, DEFAULT={'upload_heartbeat_interval': 1,
                                       'stale_upload_check_interval': 1})
    first = test_server.Server(config).start()
    image_id = str(uuid.uuid4())
    try:
        partial = fs.RawUpload(first, image_id, length=SMALL)
        partial.send(os.urandom(12 * MIB))
        fs.wait_until(lambda: image_id in rbd_images(ceph),
                      what='the rbd image')
        first.process.kill()
        first.process.wait()
        partial.hang_up()
    except BaseException:
        first.stop()
        raise
    srv = test_server.Server(config, workdir=first.workdir).start()
    try:
        fs.wait_until(lambda: fs.status_of(srv, image_id) == 'killed',
                      timeout=60, what='the service to kill the upload')
        fs.wait_until(lambda: image_id not in rbd_images(ceph), timeout=60,
                      what='the rbd image to go')
        assert_nothing_of(ceph, image_id)
    finally:
        srv.stop()


def test_store_check_finds_and_repairs_orphans_on_rbd(api, ceph):
    kept = create(api, objects.Payload(SMALL)).json()['image']['id']
    orphan = str(uuid.uuid4())
    ceph.rbd('create', '--size', '4', orphan)
    lost = create(api, objects.Payload(MIB)).json()['image']['id']
    ceph.rbd('snap', 'unprotect', '%s@snap' % lost)
    ceph.rbd('snap', 'rm', '%s@snap' % lost)
    ceph.rbd('rm', lost)

    check = api.manage('store', 'check')

    assert check.returncode == 1, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert [line for line in lines if orphan in line and 'no image' in line]
    assert [line for line in lines
            if lost in line and 'data missing' in line]
    assert kept not in check.stdout

    repaired = api.manage('store', 'check', '--repair')

    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert orphan not in rbd_images(ceph)
    assert fs.status_of(api, lost) == 'killed'
    assert kept in rbd_images(ceph)
    again = api.manage('store', 'check').stdout
    assert orphan not in again and lost not in again


def test_two_clients_read_one_image_at_once(api, ceph):
    payload = objects.Payload(SMALL)
    image_id = create(api, payload).json()['image']['id']
    results = []

    def read():
        results.append(objects.download_md5(api, image_id))

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()

    assert results == [(payload.md5, SMALL)] * 4
    assert hashlib.md5(requests.get(
        api.url + '/v1/images/' + image_id).content).hexdigest() == (
            payload.md5)


def test_an_unreachable_cluster_answers_503_in_bounded_time(ceph, tmp_path):
    # The cluster's configuration, its monitor moved to a port nothing
    # listens on (librados alone would wait 300 s for it).
    conf = tmp_path / 'ceph.conf'
    with open(ceph.conf) as f:
        text = f.read().replace(ceph.mon_addrs, '127.0.0.1:%d' %
                                processes.free_port())
    conf.write_text(text)
    config = rbd_config(ceph)
    config['glance_store']['rbd_store_ceph_conf'] = str(conf)
    srv = test_server.Server(config).start()
    try:
        started = time.monotonic()
        created = create(srv, objects.Payload(SMALL),
                         **{'x-image-meta-id': str(uuid.uuid4())})
        took = time.monotonic() - started

        assert created.status_code == 503, created.text
        assert 'image store is unavailable' in created.text
        # [store_requests] timeout (4 s) for the monitor, with margin.
        assert took < 30
        image_id = created.request.headers['x-image-meta-id']
        assert fs.status_of(srv, image_id) == 'killed'
        assert 'Cannot connect to the Ceph cluster' in srv.log()
        assert_no_store_details(ceph, srv, created)
    finally:
        srv.stop()
