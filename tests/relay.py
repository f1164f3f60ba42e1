"""A TCP relay between a client under test and a real server, to make
the network fail: cut, reset, restored."""

import socket
import threading


class TcpRelay:
    """A TCP relay to a server that can be cut (every connection closed,
    nothing listening) and restored on the same port: the server going
    away and coming back, as its client sees it; reset (the connections
    open now closed, new ones relayed): the network failing in the
    middle of a transfer; or paused (nothing forwarded either way until
    resumed): a server that stalls."""

    def __init__(self, host, port):
        self._target = (host, port)
        self.port = None
        self._listener = None
        self._sockets = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('127.0.0.1', self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,),
                         daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b),
                                 daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def pause(self):
        """Stop forwarding (connections stay open, data waits)."""
        self._flowing.clear()

    def resume(self):
        self._flowing.set()

    def reset(self):
        """Close every connection relayed so far; keep accepting."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        _close(sockets)

    def cut(self):
        self.resume()  # so that paused relay threads see their sockets go
        # shutdown() wakes the accept() blocked on it (close() alone does
        # not, on Linux), and the port stops listening.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self.reset()


def _close(sockets):
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
