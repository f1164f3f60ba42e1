"""glance-lite-api: serve the API with cheroot, a pure-Python HTTP server
that streams request bodies (chunked ones included) to the application."""

import signal
import sys
import threading

from cheroot import wsgi
from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.api import app

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

DISCARD_CHUNK = 64 * 1024


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, plus: a chunked request body the application
    left unread (an error answered before the upload was consumed) is read
    and discarded after the response, as Glance's eventlet server did.

    cheroot drains unread Content-Length bodies itself but not chunked
    ones; their leftover chunks would be parsed as the next request on the
    kept-alive connection, which a pooling client (python-glanceclient)
    then sees as a stray 400 "Malformed Request-Line" for its next call.
    """

    def respond(self):
        try:
            super().respond()
        finally:
            self._discard_unread_chunked_body()

    def _discard_unread_chunked_body(self):
        req = self.req
        if not req.chunked_read or req.close_connection:
            return
        try:
            while req.rfile.read(DISCARD_CHUNK):
                pass
        except Exception:
            # Bad chunk framing, size limit, client gone: the connection
            # cannot be reused.
            req.close_connection = True


def main(argv=None):
    app.prepare_service(sys.argv[1:] if argv is None else argv)
    application = app.load_app()
    server = wsgi.Server((CONF.bind_host, CONF.bind_port), application,
                         numthreads=CONF.server_threads,
                         timeout=CONF.client_socket_timeout,
                         server_name='glance-lite')
    server.gateway = Gateway

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
