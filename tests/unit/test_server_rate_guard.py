"""server.rate_guard: a client is cut (socket.timeout) once a window of
waiting on it brought too few bytes; time not spent waiting on it is not
charged. tests/security/test_oversized.py checks the 408 through the real
server."""

import socket

from cheroot import makefile as cheroot_makefile
import pytest

from glance_lite.server import rate_guard


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeSocket:
    """recv_into gives ``size`` bytes after ``wait`` seconds of the
    clock."""

    def __init__(self, clock, wait, size):
        self.clock, self.wait, self.size = clock, wait, size
        self.closed = False

    def recv_into(self, buffer, nbytes=0, flags=0):
        self.clock.now += self.wait
        n = min(self.size, nbytes or len(buffer))
        buffer[:n] = b'x' * n
        return n

    def fileno(self):
        return -1


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(rate_guard.time, 'monotonic', clock)
    return clock


def read_for(guarded, seconds, clock):
    buffer = bytearray(4096)
    started = clock.now
    while clock.now - started < seconds:
        guarded.recv_into(buffer)


def test_a_trickling_client_is_cut_after_one_window(clock):
    # 1 byte every second: 1 B/s against 500 B/s asked.
    guarded = rate_guard.RateGuardedReads(FakeSocket(clock, 1.0, 1),
                                          500, 20)
    read_for(guarded, 19, clock)
    with pytest.raises(socket.timeout):
        guarded.recv_into(bytearray(10))
    assert clock.now == 20


def test_a_client_fast_enough_is_never_cut(clock):
    guarded = rate_guard.RateGuardedReads(FakeSocket(clock, 1.0, 600),
                                          500, 20)
    read_for(guarded, 200, clock)


def test_time_the_server_spends_elsewhere_is_not_charged(clock):
    # Each read waits 0.1 s for 100 bytes (1000 B/s); between reads the
    # server works (or its store holds it) for 10 s.
    guarded = rate_guard.RateGuardedReads(FakeSocket(clock, 0.1, 100),
                                          500, 20)
    buffer = bytearray(4096)
    for _ in range(1000):
        guarded.recv_into(buffer)
        clock.now += 10


def test_each_window_is_judged_on_its_own(clock):
    sock = FakeSocket(clock, 1.0, 10_000)
    guarded = rate_guard.RateGuardedReads(sock, 500, 20)
    read_for(guarded, 20, clock)
    # A fast first window does not pay for a slow second one.
    sock.size = 1
    read_for(guarded, 19, clock)
    with pytest.raises(socket.timeout):
        guarded.recv_into(bytearray(10))


def test_other_socket_methods_are_the_socket_own(clock):
    sock = FakeSocket(clock, 0, 1)
    guarded = rate_guard.RateGuardedReads(sock, 500, 20)
    assert guarded.fileno() == -1
    assert guarded.closed is False


def test_guarded_makefile_guards_reads_only():
    made = []

    def makefile(sock, mode='r', bufsize=8192):
        made.append((sock, mode, bufsize))
        return mode

    sock = object()
    make = rate_guard.guarded_makefile(makefile, 500, 20)
    assert make(sock, 'rb', 1024) == 'rb'
    assert make(sock, 'wb', 2048) == 'wb'
    (reader, _, rbufsize), (writer, _, wbufsize) = made
    assert isinstance(reader, rate_guard.RateGuardedReads)
    assert writer is sock
    assert (rbufsize, wbufsize) == (1024, 2048)


def test_cheroot_reads_a_request_through_the_guard():
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        make = rate_guard.guarded_makefile(cheroot_makefile.MakeFile,
                                           500, 20)
        rfile = make(server_side, 'rb', 8192)
        client_side.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        assert rfile.readline() == b'GET / HTTP/1.1\r\n'
        assert rfile.readline() == b'Host: x\r\n'
