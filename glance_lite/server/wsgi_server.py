"""glance-lite-api's HTTP server: cheroot's WSGI server with the
extensions of this package, put together through cheroot's public API
(a ``wsgi.Gateway_10`` subclass as the server's ``gateway``, an
``HTTPConnection`` subclass as its ``ConnectionClass``, the connection's
``makefile`` argument)."""

from cheroot import makefile as cheroot_makefile
from cheroot import server as cheroot_server
from cheroot import wsgi

from glance_lite.server import chunked
from glance_lite.server import file_wrapper
from glance_lite.server import framing
from glance_lite.server import identity_headers
from glance_lite.server import rate_guard


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, plus:

    - chunked request bodies read through :class:`chunked.ChunkedBody`;
      one the application left unread (an error answered before the
      upload was consumed) is settled by :class:`framing.Request` before
      the answer goes: a short rest read and discarded, as Glance's
      eventlet server did, a long one closing the connection. cheroot
      drains unread Content-Length bodies itself but not chunked ones;
      their leftover chunks would be parsed as the next request on the
      kept-alive connection, which a pooling client (python-glanceclient)
      then sees as a stray 400 "Malformed Request-Line" for its next call;
    - headers with an underscore dropped (:mod:`identity_headers`);
    - ``wsgi.file_wrapper`` (:mod:`file_wrapper`).
    """

    chunked_body = None

    def get_environ(self):
        req = self.req
        env = super().get_environ()
        if req.chunked_read:
            # In place of cheroot's reader, of which nothing was read yet.
            self.chunked_body = chunked.ChunkedBody(
                req.conn.rfile, req.server.max_request_body_size)
            # What the request settles before its answer goes.
            req.chunked_body = self.chunked_body
            env['wsgi.input'] = self.chunked_body
        identity_headers.drop_underscore_headers(
            env, [(name.decode('iso-8859-1'), value.decode('iso-8859-1'))
                  for name, value in req.inheaders.items()])
        env['wsgi.file_wrapper'] = file_wrapper.for_gateway(self)
        return env


class Connection(cheroot_server.HTTPConnection):
    """cheroot's connection, its requests :class:`framing.Request` (strict
    framing); with ``client_min_rate`` set on the server, requests are
    read through :class:`rate_guard.RateGuardedReads`. A connection closed
    while the client may still be sending (``unread_input``) lingers
    (:func:`framing.linger`) so that the client reads the answer."""

    RequestHandlerClass = framing.Request
    unread_input = False

    def __init__(self, server, sock, makefile=cheroot_makefile.MakeFile):
        if server.client_min_rate:
            makefile = rate_guard.guarded_makefile(
                makefile, server.client_min_rate,
                server.client_min_rate_window)
        super().__init__(server, sock, makefile)

    def close(self):
        if self.unread_input:
            framing.linger(self)
        super().close()


class Server(wsgi.Server):
    """cheroot's WSGI server with :class:`Gateway` and :class:`Connection`.

    :param bind_addr: (host, port) to listen on.
    :param wsgi_app: the application; a ``wsgi.file_wrapper`` body it
        returns is sent with sendfile.
    :param client_min_rate: bytes/s a client must average over each
        ``client_min_rate_window`` seconds spent waiting on it, or its
        request fails as a timeout (408); 0 turns the check off.
    :param max_request_header_size: most bytes of request line and
        headers (over it cheroot answers 414 or 413), 0 for no limit.
    The other keyword arguments are ``cheroot.wsgi.Server``'s.
    """

    ConnectionClass = Connection
    client_min_rate = 0
    client_min_rate_window = 20

    def __init__(self, bind_addr, wsgi_app, client_min_rate=0,
                 client_min_rate_window=20, max_request_header_size=0,
                 **kwargs):
        super().__init__(bind_addr, file_wrapper.sending_files(wsgi_app),
                         **kwargs)
        self.gateway = Gateway
        self.client_min_rate = client_min_rate
        self.client_min_rate_window = client_min_rate_window
        self.max_request_header_size = max_request_header_size
