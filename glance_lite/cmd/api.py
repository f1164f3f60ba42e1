"""glance-lite-api: serve the API with cheroot, a pure-Python HTTP server
that streams request bodies (chunked ones included) to the application,
plus a ``wsgi.file_wrapper`` whose files are sent with ``sendfile``."""

import signal
import socket
import sys
import threading
import time

from cheroot import makefile as cheroot_makefile
from cheroot import server as cheroot_server
from cheroot import wsgi
from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.api import app

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

DISCARD_CHUNK = 64 * 1024
# Most of an unread chunked body discarded to keep the connection: a
# longer (or endless) one closes it instead.
DISCARD_LIMIT = 4 * 1024 * 1024


class FileWrapper:
    """``wsgi.file_wrapper`` (PEP 3333): a file to send as the response
    body. :class:`Gateway` sends it with sendfile when it can; iterating
    reads it in blocks."""

    def __init__(self, filelike, block_size=DISCARD_CHUNK):
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self):
        while True:
            block = self.filelike.read(self.block_size)
            if not block:
                return
            yield block

    def close(self):
        if hasattr(self.filelike, 'close'):
            self.filelike.close()


class ChunkedBody(cheroot_server.ChunkedRFile):
    """cheroot's chunked request body with a ``read(size)`` whose cost is
    linear in the bytes read.

    cheroot's own read grows its answer with ``data += ...`` one client
    chunk at a time, so an upload read in blocks larger than the client's
    chunks (256 KiB blocks, curl's 64 KiB chunks) copied every block
    several times over: chunked uploads ran at 70-80 % of Content-Length
    ones. The chunk parsing (_fetch), its limits and readline are
    cheroot's.
    """

    def read(self, size=None):
        if size is None or size < 0:
            return super().read(size)
        parts = []
        wanted = size
        while wanted > 0:
            if not self.buffer:
                self._fetch()
                if not self.buffer:
                    break
            if len(self.buffer) <= wanted:
                parts.append(self.buffer)
                wanted -= len(self.buffer)
                self.buffer = b''
            else:
                parts.append(self.buffer[:wanted])
                self.buffer = self.buffer[wanted:]
                wanted = 0
        # One whole chunk is returned as it is, without a copy.
        return b''.join(parts)


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, plus:

    - ``wsgi.file_wrapper``: a response body the application made with it
      and a Content-Length goes from the file to the socket with sendfile
      (cheroot has no file wrapper of its own);
    - a chunked request body the application left unread (an error
      answered before the upload was consumed) is read and discarded after
      the response, as Glance's eventlet server did.

    cheroot drains unread Content-Length bodies itself but not chunked
    ones; their leftover chunks would be parsed as the next request on the
    kept-alive connection, which a pooling client (python-glanceclient)
    then sees as a stray 400 "Malformed Request-Line" for its next call.
    """

    def get_environ(self):
        """WSGI folds ``X-Roles`` and ``X_Roles`` into the same environ key
        (HTTP_X_ROLES), so a client could slip an identity header past a
        proxy that strips only the dashed form. Headers whose name has an
        underscore are dropped, as Apache httpd and nginx do, except the
        ``x-image-meta-*`` ones (python-glanceclient sends
        ``x-image-meta-disk_format``); a dashed header of the same key
        keeps its value. Also adds ``wsgi.file_wrapper``, and reads
        chunked bodies through :class:`ChunkedBody`."""
        body = self.req.rfile
        if type(body) is cheroot_server.ChunkedRFile:
            # Nothing has been read from it yet.
            self.req.rfile = ChunkedBody(body.rfile, body.maxlen,
                                         body.bufsize)
        env = super().get_environ()
        headers = [(name.decode('iso-8859-1'), value.decode('iso-8859-1'))
                   for name, value in self.req.inheaders.items()]
        dropped = {_environ_key(name) for name, _value in headers
                   if '_' in name and
                   not name.lower().startswith('x-image-meta-')}
        for key in dropped:
            env.pop(key, None)
        for name, value in headers:
            if '_' not in name and _environ_key(name) in dropped:
                env[_environ_key(name)] = value
        env['wsgi.file_wrapper'] = FileWrapper
        return env

    def respond(self):
        try:
            response = self.req.server.wsgi_app(self.env,
                                                self.start_response)
            if not self._sendfile(response):
                self._write_body(response)
        finally:
            self._discard_unread_chunked_body()

    def _write_body(self, response):
        # What cheroot's own respond() does with the application's body.
        try:
            for chunk in filter(None, response):
                if not isinstance(chunk, bytes):
                    raise ValueError('WSGI applications must yield bytes')
                self.write(chunk)
        finally:
            self.req.ensure_headers_sent()
            if hasattr(response, 'close'):
                response.close()

    def _sendfile(self, response):
        """Send a FileWrapper body with sendfile; False (nothing sent) when
        the body is something else or the answer is not framed by a
        Content-Length (chunked, HEAD)."""
        if (not isinstance(response, FileWrapper)
                or self.remaining_bytes_out is None
                or self.req.method == b'HEAD'):
            return False
        try:
            self.req.ensure_headers_sent()
            self.req.conn.wfile.flush()
            length = self.remaining_bytes_out
            # socket.sendfile copes with the socket's timeout (sendfile on
            # a non-blocking socket) and falls back to send() for TLS.
            sent = self.req.conn.socket.sendfile(response.filelike, 0,
                                                 length)
            self.remaining_bytes_out -= sent
            if sent < length:
                # The file is shorter than announced: the client cannot
                # find the end of the answer, so end the connection.
                self.req.close_connection = True
                LOG.error('Response file ended %d bytes short of its '
                          'Content-Length', length - sent)
        finally:
            response.close()
        return True

    def _discard_unread_chunked_body(self):
        req = self.req
        if not req.chunked_read or req.close_connection:
            return
        try:
            discarded = 0
            while discarded <= DISCARD_LIMIT:
                data = req.rfile.read(DISCARD_CHUNK)
                if not data:
                    return
                discarded += len(data)
            req.close_connection = True
        except Exception:
            # Bad chunk framing, size limit, client gone: the connection
            # cannot be reused.
            req.close_connection = True


class RateGuardedReads:
    """A connection's socket as the server reads requests from it, cut
    when the client sends too slowly.

    client_socket_timeout bounds one wait for data, not a request: a
    client sending a byte now and then (mid-headers or mid-body) would
    hold a worker thread for ever, and as many such clients as
    ``server_threads`` would hold the whole server. Here the time spent
    waiting for the client's data is added up, and each time it reaches
    ``client_min_rate_window`` seconds the bytes received in that time
    must average ``client_min_rate`` bytes/s, or the read fails as a
    timeout (cheroot answers 408; an upload ends as a client that went
    away). Only waits on the client count: a request the server is busy
    with, or an upload held back by a slow store, is not charged to it.
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


class Connection(cheroot_server.HTTPConnection):
    """cheroot's connection, reading requests through RateGuardedReads."""

    def __init__(self, server, sock, makefile=cheroot_makefile.MakeFile):
        super().__init__(server, sock, makefile)
        if CONF.client_min_rate:
            self.rfile = makefile(
                RateGuardedReads(sock, CONF.client_min_rate,
                                 CONF.client_min_rate_window),
                'rb', self.rbufsize)


def _environ_key(header_name):
    return 'HTTP_' + header_name.upper().replace('-', '_')


def main(argv=None):
    try:
        app.prepare_service(sys.argv[1:] if argv is None else argv)
    except cfg.Error as e:
        # A missing or unreadable config file: say so, not a traceback.
        print('glance-lite-api: %s' % e, file=sys.stderr)
        return 2
    application = app.load_app()
    server = wsgi.Server((CONF.bind_host, CONF.bind_port), application,
                         numthreads=CONF.server_threads,
                         timeout=CONF.client_socket_timeout,
                         request_queue_size=CONF.backlog,
                         server_name='glance-lite')
    server.gateway = Gateway
    server.ConnectionClass = Connection
    # Request line plus headers; over it cheroot answers 414 or 413.
    server.max_request_header_size = CONF.max_request_header_size

    def stop(signum, frame):
        LOG.info('Signal %d received, stopping', signum)
        # The handler runs on the thread inside server.serve(), and
        # server.stop() waits for that loop to finish: calling it here
        # would wait forever. Stop from another thread; serve() returns.
        threading.Thread(target=server.stop, name='stop',
                         daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.prepare()
    host, port = server.bind_addr[:2]
    LOG.info('glance-lite-api listening on http://%s:%d', host, port)
    print('glance-lite-api listening on http://%s:%d' % (host, port),
          flush=True)
    server.serve()
    return 0


if __name__ == '__main__':
    sys.exit(main())
