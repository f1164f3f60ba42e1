"""Helpers of the fault tests (disconnects, crashes, store errors): an
upload streamed by hand over a raw socket, so a test decides when bytes
flow, when the client goes silent and when it hangs up."""

import hashlib
import os
import socket
import threading
import time
import urllib.parse
import uuid

import requests

from glance_lite.store import local

IMAGE_HEADERS = {'x-image-meta-disk_format': 'raw',
                 'x-image-meta-container_format': 'bare',
                 'Content-Type': 'application/octet-stream'}
MB = 1024 * 1024
# The file store writes what it reads this many bytes at a time: a test
# sends whole blocks and waits for them in the store to know partial data
# is there.
STORE_CHUNK = local.WRITE_BLOCK


def tenant_headers(tenant):
    """A confirmed identity of a member of ``tenant`` (trusted-auth)."""
    return {'X-Identity-Status': 'Confirmed', 'X-Tenant-Id': tenant,
            'X-User-Id': 'user-of-%s' % tenant, 'X-Roles': 'member'}


def new_tenant():
    return 'tenant-%s' % uuid.uuid4().hex[:12]


def wait_until(predicate, timeout=20, what='condition'):
    """Poll ``predicate`` until it is true; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(0.05)


def stored_size(srv, image_id):
    """Bytes the file store holds for an image (0: nothing)."""
    path = os.path.join(srv.datadir, image_id)
    return os.path.getsize(path) if os.path.exists(path) else 0


def status_of(srv, image_id, headers=None, missing_ok=False):
    """The image's status (None if missing and ``missing_ok``)."""
    response = requests.head('%s/v1/images/%s' % (srv.url, image_id),
                             headers=headers, timeout=30)
    if missing_ok and response.status_code == 404:
        return None
    assert response.status_code == 200, response.status_code
    return response.headers['x-image-meta-status']


def upload(srv, data, headers=None, image_id=None):
    """POST an image with ``data``; returns the response."""
    all_headers = dict(IMAGE_HEADERS, **(headers or {}))
    if image_id:
        all_headers['X-Image-Meta-Id'] = image_id
    return requests.post(srv.url + '/v1/images', data=data,
                         headers=all_headers, timeout=60)


def download_md5(srv, image_id, headers=None):
    response = requests.get('%s/v1/images/%s' % (srv.url, image_id),
                            headers=headers, timeout=60)
    assert response.status_code == 200, response.status_code
    return hashlib.md5(response.content).hexdigest()


class RawUpload:
    """An upload whose body the test sends piece by piece.

    :param method: POST (creates ``image_id``) or PUT (to a queued image).
    :param length: the Content-Length to declare, or None for a chunked
        body.
    :param path: another path to send to (a v2 upload's
        ``/v2/images/<id>/file``).
    """

    def __init__(self, srv, image_id, method='POST', length=None,
                 headers=None, path=None):
        self.image_id = image_id
        self.chunked = length is None
        if path is None:
            path = ('/v1/images' if method == 'POST'
                    else '/v1/images/%s' % image_id)
        netloc = urllib.parse.urlsplit(srv.url).netloc
        all_headers = dict(IMAGE_HEADERS, **(headers or {}))
        all_headers['Connection'] = 'close'
        if method == 'POST':
            all_headers['X-Image-Meta-Id'] = image_id
        if self.chunked:
            all_headers['Transfer-Encoding'] = 'chunked'
        else:
            all_headers['Content-Length'] = str(length)
        head = ['%s %s HTTP/1.1' % (method, path), 'Host: %s' % netloc]
        head += ['%s: %s' % item for item in all_headers.items()]
        host, port = netloc.split(':')
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.sock.sendall(('\r\n'.join(head) + '\r\n\r\n').encode('latin-1'))
        self.md5 = hashlib.md5()

    def send(self, data):
        self.md5.update(data)
        if self.chunked:
            data = b'%x\r\n%s\r\n' % (len(data), data)
        self.sock.sendall(data)

    def finish(self):
        """End the body (chunked) and read the answer.

        :returns: (status code, body text)."""
        if self.chunked:
            self.sock.sendall(b'0\r\n\r\n')
        return self.answer()

    def answer(self):
        chunks = []
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        finally:
            self.sock.close()
        raw = b''.join(chunks)
        head, _sep, body = raw.partition(b'\r\n\r\n')
        return int(head.split(b' ', 2)[1]), body.decode('utf-8', 'replace')

    def hang_up(self):
        """Close the connection mid-body, as a client that dies."""
        self.sock.close()


def send_and_answer(srv, image_id, size, headers=None):
    """Upload ``size`` bytes and read the answer even when the server
    answers (and stops reading) before the body is sent: the body goes out
    from a thread whose send errors are expected then.

    :returns: (status code, body text).
    """
    upload_ = RawUpload(srv, image_id, length=size, headers=headers)

    def feed():
        try:
            sent = 0
            while sent < size:
                piece = min(STORE_CHUNK, size - sent)
                upload_.sock.sendall(b'x' * piece)
                sent += piece
        except OSError:
            pass  # the server answered early and closed

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        return upload_.answer()
    finally:
        feeder.join(timeout=30)
