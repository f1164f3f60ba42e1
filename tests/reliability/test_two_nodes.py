"""Two API nodes behind a real HAProxy, sharing one catalogue and one
store (issue 13): one node is killed (SIGKILL) while uploads and downloads
stream through the balancer. The other node's clients are unaffected,
nothing acknowledged is lost, new requests keep succeeding, and the
uploads the dead node was serving are settled by the surviving node on
its own (its periodic stale-upload check), with no command run."""

import hashlib
import os
import socket
import threading
import time
import types
import urllib.parse
import uuid

import pytest
import requests

from tests import haproxy as test_haproxy
from tests.reliability import faults_support as fs
from tests import server as test_server

# A heartbeat every second: an upload silent for 10 s is dead.
CONFIG = {'upload_heartbeat_interval': 1}
IMAGE_SIZE = 24 * fs.MB
STREAMS = 4  # of each kind: round robin puts two on each node


@pytest.fixture
def cluster():
    first = test_server.Server({'DEFAULT': CONFIG}).start()
    nodes = [first]
    balancer = None
    try:
        nodes.append(test_server.Server({
            'DEFAULT': CONFIG,
            'database': {'connection': first.database_url},
            'glance_store': {'filesystem_store_datadir': first.datadir},
        }).start())
        balancer = test_haproxy.HAProxy([n.url for n in nodes]).start()
        yield types.SimpleNamespace(nodes=nodes, balancer=balancer,
                                    url=balancer.url, datadir=first.datadir)
    finally:
        if balancer is not None:
            balancer.stop()
        for node in reversed(nodes):
            node.stop()


class SlowDownload:
    """A GET of an image's data read a little at a time, in a thread."""

    def __init__(self, url, image_id):
        address = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection(
            (address.hostname, address.port), timeout=60)
        self.sock.sendall(('GET /v1/images/%s HTTP/1.1\r\nHost: %s\r\n'
                           'Connection: close\r\n\r\n'
                           % (image_id, address.netloc)).encode())
        self.received = b''
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                block = self.sock.recv(65536)
                if not block:
                    break
                self.received += block
                time.sleep(0.01)
        except OSError:
            pass
        finally:
            self.sock.close()

    def result(self):
        """(status, md5 of the body, body length) once it ended."""
        self.thread.join(timeout=120)
        head, _, body = self.received.partition(b'\r\n\r\n')
        status = int(head.split(b' ', 2)[1]) if head else None
        return status, hashlib.md5(body).hexdigest(), len(body)


def _stored(datadir):
    return sorted(os.listdir(datadir)) if os.path.isdir(datadir) else []


def test_killing_one_node_leaves_the_other_nodes_clients_whole(cluster):
    node_a = cluster.nodes[0]
    balancer = types.SimpleNamespace(url=cluster.url)
    data = os.urandom(IMAGE_SIZE)
    response = fs.upload(balancer, data)
    assert response.status_code == 201, response.text
    acknowledged = response.json()['image']
    assert acknowledged['checksum'] == hashlib.md5(data).hexdigest()

    uploads = [fs.RawUpload(balancer, str(uuid.uuid4()))
               for _ in range(STREAMS)]  # chunked, as glanceclient sends
    for upload in uploads:
        upload.send(os.urandom(2 * fs.STORE_CHUNK))
    for upload in uploads:
        fs.wait_until(lambda: fs.status_of(balancer, upload.image_id,
                                           missing_ok=True) == 'saving',
                      what='every upload saving')
    downloads = [SlowDownload(cluster.url, acknowledged['id'])
                 for _ in range(STREAMS)]
    fs.wait_until(lambda: all(d.received for d in downloads),
                  what='every download under way')

    node_a.process.kill()
    node_a.process.wait()
    killed_at = time.monotonic()

    # New requests go to the surviving node, at once.
    for _ in range(10):
        assert requests.get(cluster.url + '/v1/images',
                            timeout=30).status_code == 200

    finished, cut = [], []
    for upload in uploads:
        try:
            upload.send(os.urandom(fs.STORE_CHUNK))
            status, body = upload.finish()
        except OSError:
            status, body = None, 'connection lost'
        (finished if status == 201 else cut).append((upload, status, body))
    # Round robin gave each node some of them: the test is not vacuous.
    assert finished and cut, (finished, cut)
    for upload, _status, body in finished:
        image = requests.head('%s/v1/images/%s' % (cluster.url,
                                                   upload.image_id),
                              timeout=30).headers
        assert image['x-image-meta-status'] == 'active', body
        assert image['x-image-meta-checksum'] == upload.md5.hexdigest()

    results = [d.result() for d in downloads]
    whole = [r for r in results if r == (200, acknowledged['checksum'],
                                         IMAGE_SIZE)]
    assert whole and len(whole) < STREAMS, results

    # The surviving node settles the cut uploads by itself.
    deadline = killed_at + 40
    for upload, _status, _body in cut:
        while fs.status_of(balancer, upload.image_id) != 'killed':
            assert time.monotonic() < deadline, (
                'cut upload %s still %s; the surviving node logged:\n%s' % (
                    upload.image_id,
                    fs.status_of(balancer, upload.image_id),
                    cluster.nodes[1].log()[-3000:]))
            time.sleep(0.2)
    expected = sorted([acknowledged['id']] +
                      [upload.image_id for upload, _s, _b in finished])
    assert _stored(cluster.datadir) == expected
    assert fs.download_md5(balancer, acknowledged['id']) == (
        acknowledged['checksum'])
