"""cmd.api.ChunkedBody: glance-lite-api's reader of chunked request bodies
gives exactly what cheroot's own reader gives, whatever the client's chunk
sizes and the reader's block sizes; chunked uploads through the real
server are covered by tests/functional and tests/reliability."""

import io
import random

from cheroot import errors
from cheroot import server as cheroot_server
import pytest

from glance_lite.cmd import api


def chunked(data, sizes, extension=b''):
    out, pos = [], 0
    for size in sizes:
        piece = data[pos:pos + size]
        if not piece:
            break
        out.append(b'%x%s\r\n%s\r\n' % (len(piece), extension, piece))
        pos += size
    assert pos >= len(data)
    return b''.join(out) + b'0\r\n\r\n'


def read_all(body, block):
    parts = []
    while True:
        data = body.read(block)
        assert len(data) <= block
        if not data:
            return parts
        parts.append(data)


@pytest.mark.parametrize('chunk, block', [
    (64 * 1024, 256 * 1024), (1024 * 1024, 256 * 1024), (7, 256 * 1024),
    (256 * 1024, 256 * 1024), (100_000, 1), (3, 5)])
def test_reads_match_cheroot_whatever_the_sizes(chunk, block):
    data = random.Random(chunk).randbytes(600_000)
    sizes = [chunk] * (len(data) // chunk + 1)
    ours = read_all(api.ChunkedBody(
        io.BytesIO(chunked(data, sizes, b';ext=1')), 0), block)
    theirs = read_all(cheroot_server.ChunkedRFile(
        io.BytesIO(chunked(data, sizes, b';ext=1')), 0), block)
    assert b''.join(ours) == data
    # Full blocks until the end, as the store's writer expects.
    assert [len(p) for p in ours] == [len(p) for p in theirs]


def test_irregular_chunks_and_the_rest_at_once():
    rng = random.Random(7)
    data = rng.randbytes(300_000)
    sizes = [rng.randint(1, 70_000) for _ in range(300)]
    body = api.ChunkedBody(io.BytesIO(chunked(data, sizes)), 0)
    first = body.read(12_345)
    assert first + body.read() == data
    assert body.read(10) == b''


def test_the_size_limit_still_applies():
    data = b'x' * 5000
    body = api.ChunkedBody(io.BytesIO(chunked(data, [1000] * 5)), 2500)
    with pytest.raises((errors.MaxSizeExceeded, IOError)):
        read_all(body, 1024)


def test_bad_framing_is_an_error():
    body = api.ChunkedBody(io.BytesIO(b'zz\r\nabc\r\n0\r\n\r\n'), 0)
    with pytest.raises(ValueError):
        body.read(10)
