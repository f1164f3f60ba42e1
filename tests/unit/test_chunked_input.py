"""server.uwsgi_input.ChunkedInput: the wsgi.input glance_lite.wsgi gives
a chunked request under uWSGI, over ``iter(uwsgi.chunked_read, b'')``.
Reads must honour their size whatever the chunk sizes;
tests/deploy/test_uwsgi.py checks the wiring through a real uWSGI."""

import io
import random

import pytest

from glance_lite.server import uwsgi_input


def chunked_read_of(chunks):
    """A fake uwsgi.chunked_read: one chunk per call, then b'' for ever."""
    pending = list(chunks)
    calls = []

    def chunked_read():
        calls.append(1)
        return pending.pop(0) if pending else b''
    chunked_read.calls = calls
    return chunked_read


def split(data, sizes):
    chunks, pos = [], 0
    for size in sizes:
        if pos >= len(data):
            break
        chunks.append(data[pos:pos + size])
        pos += size
    if pos < len(data):
        chunks.append(data[pos:])
    return chunks


def make_input(chunks):
    return uwsgi_input.ChunkedInput(iter(chunked_read_of(chunks), b''))


DATA = bytes(random.Random(7).getrandbits(8) for _ in range(10000))


@pytest.mark.parametrize('chunk_size', [1, 7, 1000, 4096, 9999, 10000,
                                        20000])
@pytest.mark.parametrize('read_size', [1, 13, 1024, 4096, 10000, 50000])
def test_reads_return_the_size_asked_until_the_end(chunk_size, read_size):
    body = make_input(split(DATA, [chunk_size] * len(DATA)))
    got = []
    while True:
        data = body.read(read_size)
        if not data:
            break
        got.append(data)
    assert b''.join(got) == DATA
    # Every read but the last is full.
    assert all(len(part) == read_size for part in got[:-1])
    assert 0 < len(got[-1]) <= read_size
    assert body.read(read_size) == b''
    assert body.read() == b''


def test_irregular_chunks_and_reads():
    rnd = random.Random(11)
    body = make_input(split(DATA, [rnd.randint(1, 3000) for _ in DATA]))
    expected = io.BytesIO(DATA)
    while True:
        size = rnd.randint(0, 2500)
        data = body.read(size)
        assert data == expected.read(size)
        if size and not data:
            break
    assert expected.read() == b''


@pytest.mark.parametrize('size', [-1, None])
def test_read_without_size_returns_the_rest(size):
    body = make_input(split(DATA, [3000] * 4))
    assert body.read(10) == DATA[:10]
    assert body.read(size) == DATA[10:]
    assert body.read(size) == b''


def test_empty_body():
    body = make_input([])
    assert body.read(100) == b''
    assert body.read() == b''
    assert body.readline() == b''


def test_read_zero_reads_nothing_from_the_server():
    chunked_read = chunked_read_of([b'abc'])
    body = uwsgi_input.ChunkedInput(iter(chunked_read, b''))
    assert body.read(0) == b''
    assert chunked_read.calls == []
    assert body.read(3) == b'abc'


def test_end_of_body_asks_the_server_once():
    chunked_read = chunked_read_of([b'abc', b'def'])
    body = uwsgi_input.ChunkedInput(iter(chunked_read, b''))
    assert body.read() == b'abcdef'
    assert body.read() == b''
    assert body.read(5) == b''
    # Two chunks and the terminating b'': no read past the end.
    assert len(chunked_read.calls) == 3


def test_lines_across_chunks():
    text = b'first line\nsecond\n\nno newline at the end'
    body = make_input(split(text, [4] * len(text)))
    assert body.readline() == b'first line\n'
    assert body.readline(3) == b'sec'
    assert body.readline() == b'ond\n'
    assert list(body) == [b'\n', b'no newline at the end']
    assert body.readline() == b''


def test_readlines():
    text = b'a\nbb\nccc'
    assert make_input([text[:3], text[3:]]).readlines() == [
        b'a\n', b'bb\n', b'ccc']
