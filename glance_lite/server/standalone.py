"""What glance-lite-api's options change in its cheroot server (spec
§24.4): connections that close after every answer (``http_keepalive``
off), TCP keep-alive probes on accepted connections (``tcp_keepidle``),
and a server that serves on a listening socket its parent opened (the
workers of :mod:`glance_lite.server.workers`)."""

import socket


def closing_requests(connection_class):
    """A subclass of ``connection_class`` (a cheroot HTTPConnection) whose
    requests all close their connection after the answer, which then
    carries ``Connection: close``."""

    class Request(connection_class.RequestHandlerClass):
        close_connection = True

    class Connection(connection_class):
        RequestHandlerClass = Request

    Connection.__name__ = 'Closing' + connection_class.__name__
    return Connection


def keepalive_probes(connection_class, idle):
    """A subclass of ``connection_class`` that turns TCP keep-alive on for
    each accepted connection, probing after ``idle`` seconds where the
    platform has TCP_KEEPIDLE."""

    class Connection(connection_class):
        def __init__(self, server, sock, *args, **kwargs):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                if hasattr(socket, 'TCP_KEEPIDLE'):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE,
                                    idle)
            except OSError:
                pass  # a socket family without TCP options
            super().__init__(server, sock, *args, **kwargs)

    Connection.__name__ = 'Probed' + connection_class.__name__
    return Connection


def listen(host, port, backlog):
    """A listening TCP socket on (host, port), for workers to share."""
    family, _type, _proto, _name, address = socket.getaddrinfo(
        host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
        socket.AI_PASSIVE)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def on_listener(server_class, listener):
    """A subclass of ``server_class`` (a cheroot HTTPServer) whose
    ``prepare`` serves on ``listener`` instead of binding a socket of its
    own."""

    class Server(server_class):
        def bind(self, family, type, proto=0):
            sock = listener
            if self.ssl_adapter is not None:
                sock = self.ssl_adapter.bind(sock)
            self.socket = sock
            self.bind_addr = listener.getsockname()[:2]
            return sock

    Server.__name__ = 'Shared' + server_class.__name__
    return Server
