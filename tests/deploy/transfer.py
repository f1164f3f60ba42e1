"""Big image bodies for the deployment tests, never held in memory.

:class:`PatternData` generates a deterministic body of any size block by
block and computes its MD5 while it is generated (and sent); :func:`send`
uploads it over http.client, chunked or with a Content-Length;
:func:`download` streams an image back, computing size and MD5.
"""

import hashlib
import http.client
import json
import random
import time
import urllib.parse

MIB = 1 << 20
GIB = 1 << 30
# Odd-sized blocks: they line up neither with a server's 1 MiB reads nor
# with any power of two.
BLOCK = MIB + 7
# Generous: a multi-GB transfer on a slow machine must still finish.
TIMEOUT = 900

IMAGE_HEADERS = {
    'Content-Type': 'application/octet-stream',
    'x-image-meta-disk_format': 'raw',
    'x-image-meta-container_format': 'bare',
}


class PatternData:
    """size bytes in blocks of block bytes, 8 at least (one chunk each
    when sent chunked): random bytes from seed, each block starting with
    its index (a block lost, repeated or reordered changes the MD5).

    ``md5`` (hex) is set once :meth:`blocks` has been consumed to the end;
    ``elapsed`` is the time from the first block to the end.
    """

    def __init__(self, size, seed=0, block=BLOCK):
        self.size = size
        self._base = random.Random(seed).randbytes(max(block, 8))
        self.md5 = None
        self.elapsed = None

    def blocks(self):
        md5 = hashlib.md5()
        started = time.monotonic()
        produced = index = 0
        while produced < self.size:
            block = index.to_bytes(8, 'big') + self._base[8:]
            block = block[:self.size - produced]
            md5.update(block)
            produced += len(block)
            index += 1
            yield block
        self.md5 = md5.hexdigest()
        self.elapsed = time.monotonic() - started


class Answer:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return '<%d %s>' % (self.status, self.body[:500])


def _connection(url):
    parts = urllib.parse.urlsplit(url)
    # blocksize: what http.client reads from a file body per send().
    return http.client.HTTPConnection(parts.hostname, parts.port,
                                      timeout=TIMEOUT, blocksize=MIB)


def send(url, method, path, headers=None, data=None, chunked=False):
    """One request on its own connection; returns an :class:`Answer`.

    :param data: a :class:`PatternData` body, sent with
        ``Transfer-Encoding: chunked`` (one chunk per block) or with a
        ``Content-Length``.
    """
    headers = dict(headers or {})
    body = None
    if data is not None:
        body = data.blocks()
        if chunked:
            headers['Transfer-Encoding'] = 'chunked'
        else:
            headers['Content-Length'] = str(data.size)
    conn = _connection(url)
    started = time.monotonic()
    try:
        try:
            conn.request(method, path, body=body, headers=headers,
                         encode_chunked=chunked)
        except OSError as error:
            # The server may have answered (411, 413...) and closed the
            # connection before reading the whole body: show its answer.
            try:
                resp = conn.getresponse()
                detail = '%d %s' % (resp.status, resp.read()[:500])
            except (OSError, http.client.HTTPException):
                detail = 'no answer'
            raise AssertionError('%s %s: %r (server: %s)'
                                 % (method, path, error, detail))
        resp = conn.getresponse()
        return Answer(resp.status, resp.headers, resp.read(),
                      time.monotonic() - started)
    finally:
        conn.close()


def download(url, path):
    """GET path, streaming the body; returns (Answer without body, size,
    md5 hex)."""
    conn = _connection(url)
    started = time.monotonic()
    try:
        conn.request('GET', path)
        resp = conn.getresponse()
        md5 = hashlib.md5()
        size = 0
        buf = memoryview(bytearray(MIB))
        while True:
            n = resp.readinto(buf)
            if not n:
                break
            size += n
            md5.update(buf[:n])
        return (Answer(resp.status, resp.headers, b'',
                       time.monotonic() - started), size, md5.hexdigest())
    finally:
        conn.close()


def mib_per_s(size, seconds):
    return size / MIB / seconds if seconds else float('inf')
