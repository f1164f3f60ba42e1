"""glance_lite under a real uWSGI started from the shipped sample,
etc/uwsgi/glance-lite.ini (tests/uwsgi_server.py).

uWSGI 2.0 hands the application an empty wsgi.input for a chunked request
body; glance_lite.wsgi reads it through uwsgi.chunked_read(). These tests
check that chunked uploads arrive whole — whatever the chunk sizes, from a
raw client and from python-glanceclient — as Content-Length ones do, and
that downloads match. Transfer rates are printed (pytest -rP shows them).
"""

import hashlib
import json
import os
import socket
import threading
import time

from glanceclient import Client
import pytest
import requests

from tests.deploy import transfer
from tests import processes
from tests import uwsgi_server

pytestmark = pytest.mark.xdist_group('uwsgi')

MIB = transfer.MIB


@pytest.fixture(scope='module')
def uwsgi():
    server = uwsgi_server.UWSGI().start()
    yield server
    server.stop()


def location(server, image_id):
    return 'http://127.0.0.1:%d/v1/images/%s' % (server.port, image_id)


def upload(server, name, data, chunked):
    headers = dict(transfer.IMAGE_HEADERS, **{'x-image-meta-name': name})
    answer = transfer.send(server.url, 'POST', '/v1/images', headers,
                           data=data, chunked=chunked)
    assert answer.status == 201, answer
    image = answer.json()['image']
    assert image['status'] == 'active'
    assert image['size'] == data.size
    assert image['checksum'] == data.md5
    assert answer.headers['Location'] == location(server, image['id'])
    return image, answer


def check_download(server, image, data):
    answer, size, md5 = transfer.download(
        server.url, '/v1/images/%s' % image['id'])
    assert answer.status == 200
    assert int(answer.headers['Content-Length']) == data.size
    assert answer.headers['x-image-meta-checksum'] == data.md5
    assert (size, md5) == (data.size, data.md5), server.logs()
    return answer


def test_serves_the_api_from_the_sample(uwsgi):
    resp = requests.get(uwsgi.url + '/versions', timeout=30)
    assert resp.status_code == 200
    assert resp.json()['versions'][-1]['links'][0]['href'] == (
        uwsgi.url + '/v1/')
    # A client that keeps its connections (as python-glanceclient does)
    # goes on working although uWSGI closes each one after its answer.
    with requests.Session() as session:
        for _ in range(20):
            assert session.get(uwsgi.url + '/v1/images',
                               timeout=30).status_code == 200
    # The sample's two worker processes and its HTTP router serve it, as
    # the unprivileged user when started as root.
    workers = [pid for pid in processes.children_of(
        uwsgi.pid)]
    assert len(workers) == 3
    assert {os.stat('/proc/%d' % pid).st_uid for pid in workers} == {
        uwsgi.uid}


@pytest.mark.parametrize('size,block', [
    (40 * MIB + 3, transfer.BLOCK),   # 1 MiB chunks, as most clients
    (3 * MIB + 1, 1000),              # many small chunks
    (50 * MIB + 11, 16 * MIB + 5),    # chunks larger than the reads
    (1, 8),                           # a one-byte image
], ids=['1MiB-chunks', '1000B-chunks', '16MiB-chunks', '1-byte'])
def test_chunked_upload_arrives_whole(uwsgi, size, block):
    data = transfer.PatternData(size, seed=size, block=block)
    image, _ = upload(uwsgi, 'chunked', data, chunked=True)
    stored = os.path.join(uwsgi.state_path, 'images', image['id'])
    assert os.path.getsize(stored) == size
    check_download(uwsgi, image, data)


def test_content_length_upload(uwsgi):
    data = transfer.PatternData(40 * MIB + 5, seed=5)
    image, _ = upload(uwsgi, 'content-length', data, chunked=False)
    check_download(uwsgi, image, data)


def test_chunked_upload_over_1_gib(uwsgi):
    size = transfer.GIB + 12345
    data = transfer.PatternData(size, seed=6)
    image, answer = upload(uwsgi, 'big-chunked', data, chunked=True)
    print('uWSGI chunked upload: %d bytes in %.1f s, %.0f MiB/s'
          % (size, answer.elapsed, transfer.mib_per_s(size, answer.elapsed)))
    got = check_download(uwsgi, image, data)
    print('uWSGI download: %d bytes in %.1f s, %.0f MiB/s'
          % (size, got.elapsed, transfer.mib_per_s(size, got.elapsed)))


def test_put_chunked_data_to_a_queued_image(uwsgi):
    headers = dict(transfer.IMAGE_HEADERS, **{'x-image-meta-name': 'q'})
    del headers['Content-Type']
    queued = transfer.send(uwsgi.url, 'POST', '/v1/images', headers)
    assert queued.status == 201, queued
    image_id = queued.json()['image']['id']
    data = transfer.PatternData(8 * MIB + 1, seed=7)
    answer = transfer.send(
        uwsgi.url, 'PUT', '/v1/images/%s' % image_id,
        {'Content-Type': 'application/octet-stream'}, data=data,
        chunked=True)
    assert answer.status == 200, answer
    assert answer.headers['Location'] == location(uwsgi, image_id)
    image = answer.json()['image']
    assert (image['status'], image['size'], image['checksum']) == (
        'active', data.size, data.md5)


def test_glanceclient_v1_create_with_data(uwsgi, tmp_path):
    # python-glanceclient sends the file chunked, in 64 KiB chunks.
    data = transfer.PatternData(20 * MIB + 9, seed=8)
    path = tmp_path / 'disk.raw'
    with open(path, 'wb') as f:
        for block in data.blocks():
            f.write(block)
    client = Client('1', endpoint=uwsgi.url, token='unused', timeout=300)
    with open(path, 'rb') as f:
        image = client.images.create(
            name='from-glanceclient', disk_format='raw',
            container_format='bare', data=f,
            properties={'os_distro': 'cirros'})
    assert (image.status, image.size, image.checksum) == (
        'active', data.size, data.md5)
    assert image.properties == {'os_distro': 'cirros'}
    md5 = hashlib.md5()
    for chunk in client.images.data(image.id):
        md5.update(chunk)
    assert md5.hexdigest() == data.md5


def test_chunked_upload_straight_to_the_workers():
    # The sample's alternative: HTTP straight to the workers (http-socket,
    # no router), which never answers Expect: 100-continue.
    server = uwsgi_server.UWSGI(router=False).start()
    try:
        data = transfer.PatternData(30 * MIB + 1, seed=9)
        image, _ = upload(server, 'via-http-socket', data, chunked=True)
        check_download(server, image, data)
    finally:
        server.stop()


def _raw(server, head, timeout=10):
    sock = socket.create_connection(('127.0.0.1', server.port))
    sock.settimeout(timeout)
    sock.sendall(head)
    return sock


def _read_answer(sock):
    answer = b''
    try:
        while True:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    except OSError:
        pass
    return answer


@pytest.mark.parametrize('framing', ['content-length', 'chunked'])
def test_expect_100_continue_is_answered(uwsgi, framing):
    # A client that waits for 100 Continue before its body (curl for
    # bodies over 1 MiB; the acceptance of v1 includes it) gets it.
    body = b'expect-continue' * 1000
    framed = ('Content-Length: %d' % len(body) if framing ==
              'content-length' else 'Transfer-Encoding: chunked')
    sock = _raw(uwsgi, (
        'POST /v1/images HTTP/1.1\r\nHost: x\r\n'
        'Content-Type: application/octet-stream\r\n'
        'x-image-meta-name: expect\r\nx-image-meta-disk_format: raw\r\n'
        'x-image-meta-container_format: bare\r\n'
        'Expect: 100-continue\r\n%s\r\n\r\n' % framed).encode())
    try:
        interim = sock.recv(65536)
        assert interim.startswith(b'HTTP/1.1 100 Continue\r\n'), interim
        if framing == 'chunked':
            sock.sendall(b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body))
        else:
            sock.sendall(body)
        answer = _read_answer(sock)
    finally:
        sock.close()
    assert answer.startswith(b'HTTP/1.1 201 '), answer
    image = json.loads(answer.split(b'\r\n\r\n', 1)[1])['image']
    assert (image['status'], image['size'], image['checksum']) == (
        'active', len(body), hashlib.md5(body).hexdigest())


def test_an_oversized_upload_is_refused_before_its_body(uwsgi):
    started = time.monotonic()
    sock = _raw(uwsgi, (
        'POST /v1/images HTTP/1.1\r\nHost: x\r\n'
        'Content-Type: application/octet-stream\r\n'
        'Content-Length: 1099511627777\r\n\r\n').encode())
    try:
        first = sock.recv(65536)
        took = time.monotonic() - started
        answer = first + _read_answer(sock)
    finally:
        sock.close()
    assert took < 1, took
    assert answer.startswith(b'HTTP/1.1 400 '), answer
    assert b'larger than 1099511627776 bytes' in answer


def test_property_names_with_any_token_character_are_kept(uwsgi):
    answer = transfer.send(uwsgi.url, 'POST', '/v1/images', {
        'x-image-meta-name': 'names',
        'x-image-meta-property-hw.CPU-model': 'dotted',
        'x-image-meta-property-os_distro': 'underscore',
        'x-image-meta-property-a~b+c!d': 'tokens',
        'x-image-meta-property-caf%C3%A9': 'percent-encoded'})
    assert answer.status == 201, answer
    assert answer.json()['image']['properties'] == {
        'hw.cpu_model': 'dotted', 'os_distro': 'underscore',
        'a~b+c!d': 'tokens', 'caf\u00e9': 'percent-encoded'}


def test_a_graceful_stop_lets_an_upload_in_flight_finish():
    # The sample's master-fifo: "q" stops uWSGI once its workers have
    # finished their requests (what docs/deployment.md's systemd unit
    # does on stop), unlike SIGTERM.
    server = uwsgi_server.UWSGI().start()
    try:
        # Both workers serving first (lazy-apps: each loads the
        # application after it is spawned): a worker still loading when
        # the stop comes is left for the master's mercy time (60 s).
        deadline = time.monotonic() + 60
        while processes.tail(server.log_file, 1000).count(
                'WSGI app 0 (mountpoint=\'\') ready') < 2:
            assert time.monotonic() < deadline, server.logs()
            time.sleep(0.1)
        blocks = 50
        answers = []
        sent = threading.Event()

        def body():
            yield b'x' * 65536
            sent.set()
            for _ in range(blocks):
                time.sleep(0.1)
                yield b'x' * 65536

        def post():
            answers.append(requests.post(
                server.url + '/v1/images', data=body(), timeout=60,
                headers=dict(transfer.IMAGE_HEADERS, **{
                    'x-image-meta-name': 'in flight at the stop'})))

        uploader = threading.Thread(target=post)
        uploader.start()
        assert sent.wait(10)
        # The stop is for requests a worker has taken: one still in the
        # listen queue is dropped with the socket (uWSGI's own semantics,
        # and what CI once caught), so wait until the upload is being read.
        deadline = time.monotonic() + 10
        while not requests.get(server.url + '/v1/images/detail', params={
                'status': 'saving', 'name': 'in flight at the stop',
                'is_public': 'none'},
                timeout=10).json()['images']:
            assert time.monotonic() < deadline, server.logs()
            time.sleep(0.05)
        with open(server.master_fifo, 'w') as fifo:
            fifo.write('q')
        uploader.join(60)
        assert server.process.wait(timeout=60) == 0, server.logs()
    finally:
        server.stop()

    assert answers and answers[0].status_code == 201, answers
    image = answers[0].json()['image']
    assert (image['status'], image['size']) == ('active',
                                                (blocks + 1) * 65536)
