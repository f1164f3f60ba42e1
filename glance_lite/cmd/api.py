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


def main(argv=None):
    app.prepare_service(sys.argv[1:] if argv is None else argv)
    application = app.load_app()
    server = wsgi.Server((CONF.bind_host, CONF.bind_port), application,
                         numthreads=CONF.server_threads,
                         timeout=CONF.client_socket_timeout,
                         server_name='glance-lite')

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
