"""The image cache (spec §20) of a real server, over a store whose reads
the test counts and cuts: images whose data lives at an HTTP source (the
http store), so a hit can be shown to read nothing from the store, and a
store failing mid-fill can be made to happen. Also two nodes with one
catalogue and one store, each with its own cache."""

import concurrent.futures
import hashlib
import os
import time

import pytest
import requests

from tests.functional import images_support as s
from tests import server as test_server

CACHE_FLAVOR = {'paste_deploy': {'flavor': 'noauth+cachemanagement'}}


@pytest.fixture(scope='module')
def source():
    src = s.HttpSource()
    yield src
    src.close()


@pytest.fixture(scope='module')
def node():
    """A node of several processes sharing one cache directory: two
    workers of glance-lite-api, or the two processes of the shipped
    Apache site and uWSGI ini."""
    config = dict(CACHE_FLAVOR)
    if test_server.SERVER_KIND == 'standalone':
        config['DEFAULT'] = {'workers': 2}
    srv = test_server.Server(config).start()
    yield srv
    srv.stop()


def remote_image(api, source, data, name=None):
    """An active image whose data is at ``source`` (x-image-meta-location)."""
    path = '/%s' % (name or s.new_id())
    url = source.add(path, data)
    response = requests.post(api.url + '/v1/images', headers={
        'x-image-meta-name': 'remote', 'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare',
        'x-image-meta-checksum': hashlib.md5(data).hexdigest(),
        'x-image-meta-location': url})
    assert response.status_code == 201, response.text
    image = response.json()['image']
    assert image['status'] == 'active'
    return image, path


def store_reads(source, path):
    return sum(1 for method, seen in source.requests
               if method == 'GET' and seen == path)


def cached(api):
    response = requests.get(api.url + '/v1/cached_images')
    assert response.status_code == 200
    return {e['image_id']: e for e in response.json()['cached_images']}


def settled(api, image_id, hits=0, timeout=10):
    """The entry of ``image_id`` once it has ``hits`` hits. A server
    publishes an entry (and counts a hit) when the download's last bytes
    went out, so the client can ask a moment before that: "shortly after"
    (spec §20.11, scenario 146)."""
    deadline = time.monotonic() + timeout
    while True:
        entry = cached(api).get(image_id)
        if entry is not None and entry['hits'] == hits:
            return entry
        if time.monotonic() > deadline:
            raise AssertionError('entry of %s: %r, expected %d hit(s)'
                                 % (image_id, entry, hits))
        time.sleep(0.05)


def test_a_hit_reads_nothing_from_the_store(node, source):
    data = os.urandom(2 * 1024 * 1024 + 3)
    image, path = remote_image(node, source, data)
    url = node.url + '/v1/images/' + image['id']
    miss = requests.get(url)
    assert miss.status_code == 200 and miss.content == data
    assert store_reads(source, path) == 1
    settled(node, image['id'], hits=0)
    for count in range(1, 4):
        hit = requests.get(url)
        assert hit.status_code == 200 and hit.content == data
        assert hit.headers['Content-Length'] == str(len(data))
        assert hit.headers['x-image-meta-checksum'] == image['checksum']
        settled(node, image['id'], hits=count)
    assert store_reads(source, path) == 1
    # The store goes away altogether: the hit does not notice.
    del source.objects[path]
    hit = requests.get(url)
    assert hit.status_code == 200 and hit.content == data


def test_a_store_failing_mid_fill_leaves_no_entry(node, source):
    data = os.urandom(4 * 1024 * 1024)
    image, path = remote_image(node, source, data)
    source.cut[path] = 1024 * 1024
    url = node.url + '/v1/images/' + image['id']
    with pytest.raises(requests.exceptions.RequestException):
        response = requests.get(url, timeout=60)
        # A short body is an error for requests only once it is read.
        response.raise_for_status()
        assert len(response.content) == len(data)
    assert image['id'] not in cached(node)
    incomplete = os.path.join(node.state_path, 'image-cache', 'incomplete')
    assert os.listdir(incomplete) == []
    del source.cut[path]
    response = requests.get(url)
    assert response.content == data
    settled(node, image['id'])


def test_concurrent_first_downloads_make_one_entry(node, source):
    """Concurrent misses in both processes of the node."""
    data = os.urandom(8 * 1024 * 1024)
    image, path = remote_image(node, source, data)
    url = node.url + '/v1/images/' + image['id']
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: requests.get(url).content, range(8)))
    assert all(body == data for body in bodies)
    # Downloads that start after the fill was published are hits (on a
    # busy machine some do): every download was either a store read or a
    # hit of the one entry. The reads are all in once the bodies are; the
    # hits are counted shortly after.
    reads = store_reads(source, path)
    assert reads >= 1
    settled(node, image['id'], hits=8 - reads)
    entry = os.path.join(node.state_path, 'image-cache', image['id'])
    with open(entry, 'rb') as f:
        assert hashlib.md5(f.read()).hexdigest() == image['checksum']


def test_a_file_store_image_is_served_from_the_cache_once_its_file_is_gone(
        node):
    data = os.urandom(3 * 1024 * 1024)
    created = requests.post(node.url + '/v1/images', data=data, headers={
        'Content-Type': 'application/octet-stream',
        'x-image-meta-name': 'local', 'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare'})
    image = created.json()['image']
    url = node.url + '/v1/images/' + image['id']
    assert requests.get(url).content == data
    settled(node, image['id'])
    os.unlink(os.path.join(node.datadir, image['id']))
    hit = requests.get(url)
    assert hit.status_code == 200 and hit.content == data
    settled(node, image['id'], hits=1)
    assert requests.delete(url).status_code == 200
    assert image['id'] not in cached(node)


def test_two_nodes_keep_their_own_caches(node, source):
    second = test_server.Server(dict(CACHE_FLAVOR, **{
        'database': {'connection': node.database_url},
        'glance_store': {'filesystem_store_datadir': node.datadir},
    })).start()
    try:
        data = os.urandom(1024 * 1024)
        image, path = remote_image(node, source, data)
        assert requests.get(
            second.url + '/v1/images/' + image['id']).content == data
        settled(second, image['id'])
        assert image['id'] not in cached(node)
        other, _path = remote_image(node, source, data)
        requests.get(second.url + '/v1/images/' + other['id'])
        settled(second, other['id'])
        # Deleted through the first node: the second, whose entries nobody
        # told about, must not serve them; a GET drops its entry, and so
        # does "cache clean" on that node.
        for deleted in (image, other):
            assert requests.delete(
                node.url + '/v1/images/' + deleted['id']).status_code == 200
        assert set(cached(second)) >= {image['id'], other['id']}
        response = requests.get(second.url + '/v1/images/' + image['id'])
        assert response.status_code == 404
        assert response.content != data
        assert image['id'] not in cached(second)
        result = second.manage('cache', 'clean')
        assert result.returncode == 0, result.stderr
        assert '%s removed (image deleted)' % other['id'] in result.stdout
        assert other['id'] not in cached(second)
    finally:
        second.stop()
