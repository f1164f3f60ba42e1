"""server.file_wrapper: wsgi.file_wrapper bodies are sent whole with
sendfile when the answer has a Content-Length and a body; otherwise they
are iterated. tests/unit/test_server_wsgi.py sends one through a real
cheroot server."""

import io
import socket

import pytest

from glance_lite.server import file_wrapper


class FakeRequest:
    def __init__(self, sock, method=b'GET'):
        self.method = method
        self.close_connection = False
        self.headers_sent = 0
        self.conn = self
        self.socket = sock
        self.wfile = io.BytesIO()

    def ensure_headers_sent(self):
        self.headers_sent += 1


class FakeGateway:
    def __init__(self, sock, length, method=b'GET'):
        self.req = FakeRequest(sock, method)
        self.remaining_bytes_out = length


class File(io.BytesIO):
    pass


@pytest.fixture
def pair():
    server_side, client_side = socket.socketpair()
    client_side.settimeout(5)
    with server_side, client_side:
        yield server_side, client_side


def received(sock, size):
    data = b''
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def test_iterating_reads_in_blocks_and_close_closes():
    f = File(b'x' * 10)
    wrapper = file_wrapper.FileWrapper(f, 4)
    assert list(wrapper) == [b'xxxx', b'xxxx', b'xx']
    wrapper.close()
    assert f.closed


def test_without_gateway_nothing_is_sent():
    assert not file_wrapper.FileWrapper(File(b'x')).sendfile()


def test_the_file_is_sent_after_the_headers(pair, tmp_path):
    server_side, client_side = pair
    path = tmp_path / 'image'
    path.write_bytes(b'0123456789' * 1000)
    gateway = FakeGateway(server_side, 10_000)
    with open(path, 'rb') as f:
        assert file_wrapper.for_gateway(gateway)(f).sendfile()
    assert gateway.req.headers_sent == 1
    assert gateway.remaining_bytes_out == 0
    assert not gateway.req.close_connection
    assert received(client_side, 10_000) == b'0123456789' * 1000


def test_a_short_file_ends_the_connection(pair, tmp_path):
    server_side, client_side = pair
    path = tmp_path / 'image'
    path.write_bytes(b'abc')
    gateway = FakeGateway(server_side, 10)
    with open(path, 'rb') as f:
        assert file_wrapper.FileWrapper(f, gateway=gateway).sendfile()
    assert received(client_side, 3) == b'abc'
    assert gateway.remaining_bytes_out == 7
    assert gateway.req.close_connection


@pytest.mark.parametrize('length, method', [(None, b'GET'), (3, b'HEAD')])
def test_no_content_length_or_head_is_not_sent(pair, length, method):
    gateway = FakeGateway(pair[0], length, method)
    wrapper = file_wrapper.FileWrapper(File(b'abc'), gateway=gateway)
    assert not wrapper.sendfile()
    assert gateway.req.headers_sent == 0
    assert list(wrapper) == [b'abc']


class Sent(file_wrapper.FileWrapper):
    def __init__(self, result):
        super().__init__(File(b'abc'))
        self.result = result

    def sendfile(self):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_sending_files_sends_the_wrapper_and_returns_no_body():
    wrapper = Sent(True)
    app = file_wrapper.sending_files(lambda environ, start: wrapper)
    assert app({}, None) == []
    assert wrapper.filelike.closed


def test_a_wrapper_that_cannot_be_sent_is_the_body():
    wrapper = Sent(False)
    app = file_wrapper.sending_files(lambda environ, start: wrapper)
    assert app({}, None) is wrapper
    assert not wrapper.filelike.closed


def test_a_failed_send_closes_the_file():
    wrapper = Sent(BrokenPipeError())
    app = file_wrapper.sending_files(lambda environ, start: wrapper)
    with pytest.raises(BrokenPipeError):
        app({}, None)
    assert wrapper.filelike.closed


def test_other_bodies_pass_through():
    body = iter([b'a'])
    app = file_wrapper.sending_files(lambda environ, start: body)
    assert app({}, None) is body
