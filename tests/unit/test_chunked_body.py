"""server.chunked.ChunkedBody: glance-lite-api's reader of chunked request
bodies gives exactly what cheroot's own reader gives, whatever the client's
chunk sizes and the reader's block sizes, with cheroot's limits and errors;
chunked uploads through the real server are covered by tests/functional
and tests/reliability."""

import io
import random

from cheroot import errors
from cheroot import server as cheroot_server
import pytest

from glance_lite.server import chunked as chunked_body


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
    ours = read_all(chunked_body.ChunkedBody(
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
    body = chunked_body.ChunkedBody(io.BytesIO(chunked(data, sizes)), 0)
    first = body.read(12_345)
    assert first + body.read() == data
    assert body.read(10) == b''


def test_the_size_limit_still_applies():
    data = b'x' * 5000
    body = chunked_body.ChunkedBody(
        io.BytesIO(chunked(data, [1000] * 5)), 2500)
    with pytest.raises((errors.MaxSizeExceeded, IOError)):
        read_all(body, 1024)


def test_bad_framing_is_an_error():
    body = chunked_body.ChunkedBody(io.BytesIO(b'zz\r\nabc\r\n0\r\n\r\n'), 0)
    with pytest.raises(ValueError):
        body.read(10)


@pytest.mark.parametrize('size', [None, -1])
def test_read_without_size_returns_the_rest(size):
    data = random.Random(3).randbytes(200_000)
    body = chunked_body.ChunkedBody(
        io.BytesIO(chunked(data, [30_000] * 7)), 0)
    assert body.read(10) == data[:10]
    assert body.read(size) == data[10:]
    assert body.read(size) == b''


def test_read_zero_reads_nothing():
    stream = io.BytesIO(chunked(b'abc', [3]))
    body = chunked_body.ChunkedBody(stream, 0)
    assert body.read(0) == b''
    assert stream.tell() == 0
    assert body.read(3) == b'abc'


def test_lines_across_chunks():
    text = b'first line\nsecond\n\nno newline at the end'
    body = chunked_body.ChunkedBody(
        io.BytesIO(chunked(text, [4] * len(text))), 0)
    assert body.readline() == b'first line\n'
    assert body.readline(3) == b'sec'
    assert body.readline() == b'ond\n'
    assert list(body) == [b'\n', b'no newline at the end']
    assert body.readline() == b''
    assert body.readlines() == []


def test_readlines():
    body = chunked_body.ChunkedBody(
        io.BytesIO(chunked(b'a\nbb\nccc', [3, 100])), 0)
    assert body.readlines() == [b'a\n', b'bb\n', b'ccc']


def test_what_follows_the_last_chunk_stays_on_the_connection():
    # cheroot skips the empty line before the next request line; a
    # reader that went past the body would eat the next request.
    stream = io.BytesIO(chunked(b'abc', [2, 2]) + b'GET / HTTP/1.1\r\n')
    body = chunked_body.ChunkedBody(stream, 0)
    assert body.read() == b'abc'
    assert body.read(1) == b''
    assert stream.read() == b'\r\nGET / HTTP/1.1\r\n'


@pytest.mark.parametrize('framing', [
    b'zz\r\nabc\r\n0\r\n\r\n',      # not a hex size
    b'5\r\nabc',                    # chunk cut short: the client went away
    b'3\r\nabcd\r\n0\r\n\r\n',      # no CRLF after the chunk
    b'',                            # no chunk at all
])
def test_broken_framing_fails_as_with_cheroot(framing):
    with pytest.raises(ValueError):
        cheroot_server.ChunkedRFile(io.BytesIO(framing), 0).read(10)
    with pytest.raises(ValueError):
        chunked_body.ChunkedBody(io.BytesIO(framing), 0).read(10)


def test_size_lines_count_toward_the_limit():
    # A 1-byte chunk with a long extension: the line alone is over.
    framing = b'1;' + b'x' * 100 + b'\r\na\r\n0\r\n\r\n'
    with pytest.raises(errors.MaxSizeExceeded):
        chunked_body.ChunkedBody(io.BytesIO(framing), 50).read(10)


def test_discard_reads_the_rest_and_keeps_the_connection():
    data = b'x' * 300_000
    stream = io.BytesIO(chunked(data, [10_000] * 30) + b'next')
    body = chunked_body.ChunkedBody(stream, 0)
    body.read(5)
    assert body.discard()
    assert stream.read() == b'\r\nnext'


def test_discard_gives_up_on_a_long_body():
    data = b'x' * 200_000
    body = chunked_body.ChunkedBody(
        io.BytesIO(chunked(data, [1000] * 200)), 0)
    assert not body.discard(limit=100_000)


def test_discard_of_broken_framing_closes_the_connection():
    body = chunked_body.ChunkedBody(io.BytesIO(b'3\r\nab'), 0)
    assert not body.discard()


@pytest.mark.parametrize('size_line', [
    b'-5', b'+5', b'0x5', b'5_0', b' 5', b'f' * 40, b'1' * 17, b'',
    b'5 5', b'5\x00', b'g', b'5;' + b'x' * 5000])
def test_malformed_chunk_sizes_are_refused(size_line):
    # int(x, 16) takes -5, +5, 0x5 and 5_0; a size of 40 f overflowed.
    framing = size_line + b'\r\nhello\r\n0\r\n\r\n'
    body = chunked_body.ChunkedBody(io.BytesIO(framing), 0)
    with pytest.raises(chunked_body.MalformedChunk):
        body.read(10)
    # Broken for good: the next read does not parse the data as a size.
    with pytest.raises(chunked_body.MalformedChunk):
        body.read(10)
    assert not body.discard()


@pytest.mark.parametrize('size_line', [b'5', b'05', b'5;name=value',
                                       b'5 ; name', b'0000000000000005'])
def test_well_formed_chunk_sizes_are_read(size_line):
    body = chunked_body.ChunkedBody(
        io.BytesIO(size_line + b'\r\nhello\r\n0\r\n\r\n'), 0)
    assert body.read() == b'hello'
    assert body.ended


def test_a_large_chunk_is_read_piece_by_piece():
    # A chunk announcing 1 TiB: each read takes only what it asks for.
    stream = io.BytesIO(b'10000000000\r\n' + b'x' * 300_000)
    body = chunked_body.ChunkedBody(stream, 0)
    assert body.read(1000) == b'x' * 1000
    assert stream.tell() == len(b'10000000000\r\n') + 1000
    with pytest.raises(chunked_body.MalformedChunk):
        body.read()
