"""Cutting clients that send their request too slowly.

cheroot's socket timeout (client_socket_timeout) bounds one wait for data,
not a request: a client sending a byte now and then, mid-headers or
mid-body, would hold a worker thread for ever, and as many such clients as
``server_threads`` would hold the whole server.
"""

import io
import socket
import time


class RateGuardedReads:
    """A connection's socket as the server reads requests from it, cut
    when the client sends too slowly.

    The time spent waiting for the client's data is added up, and each time
    it reaches ``window`` seconds the bytes received in that time must
    average ``min_rate`` bytes/s, or the read fails as a timeout
    (``socket.timeout``, which cheroot answers with 408; an upload ends as
    a client that went away). Only waits on the client count: a request
    the server is busy with, or an upload held back by a slow store, is not
    charged to it. Everything but ``recv_into`` is the socket's own.
    """

    def __init__(self, sock, min_rate, window):
        self._sock = sock
        self._min_rate = min_rate
        self._window = window
        self._waited = 0.0
        self._received = 0

    def recv_into(self, buffer, nbytes=0, flags=0):
        started = time.monotonic()
        received = self._sock.recv_into(buffer, nbytes, flags)
        self._account(time.monotonic() - started, received)
        return received

    def _account(self, waited, received):
        self._waited += waited
        self._received += received
        if self._waited < self._window:
            return
        too_slow = self._received < self._min_rate * self._waited
        self._waited, self._received = 0.0, 0
        if too_slow:
            # What cheroot recognises as a read timeout.
            raise socket.timeout('timed out')

    def __getattr__(self, name):
        return getattr(self._sock, name)


def guarded_makefile(makefile, min_rate, window):
    """A ``makefile(sock, mode, bufsize)`` (the factory cheroot gives a
    connection for its socket files) whose read files read through
    :class:`RateGuardedReads`; write files are ``makefile``'s own."""

    def make(sock, mode='r', bufsize=io.DEFAULT_BUFFER_SIZE):
        if 'r' in mode:
            sock = RateGuardedReads(sock, min_rate, window)
        return makefile(sock, mode, bufsize)

    return make
