"""glance-lite-api: serve the API with cheroot, a pure-Python HTTP server
that streams request bodies (chunked ones included) to the application;
the server's extensions are in :mod:`glance_lite.server`.

With ``workers`` unset or 0 this process serves; with N it opens the
listening socket and supervises N worker processes that share it
(:mod:`glance_lite.server.workers`). ``cert_file`` and ``key_file`` make
the port speak TLS only (:mod:`glance_lite.server.tls`).
"""

import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.api import app
from glance_lite.server import standalone
from glance_lite.server import tls
from glance_lite.server import workers as server_workers
from glance_lite.server import wsgi_server

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _build_server(ssl_adapter, listener=None):
    server_class = wsgi_server.Server
    if listener is not None:
        server_class = standalone.on_listener(server_class, listener)
    server = server_class(
        (CONF.bind_host, CONF.bind_port), app.load_app(),
        client_min_rate=CONF.client_min_rate,
        client_min_rate_window=CONF.client_min_rate_window,
        max_request_header_size=CONF.max_request_header_size,
        numthreads=CONF.server_threads,
        timeout=CONF.client_socket_timeout,
        request_queue_size=CONF.backlog,
        server_name='glance-lite')
    # Requests in flight get this long after SIGTERM.
    server.shutdown_timeout = CONF.graceful_shutdown_timeout
    connection_class = standalone.keepalive_probes(server.ConnectionClass,
                                                   CONF.tcp_keepidle)
    if not CONF.http_keepalive:
        connection_class = standalone.closing_requests(connection_class)
    if ssl_adapter is not None:
        server.ssl_adapter = ssl_adapter
        connection_class = tls.handshake_first(connection_class)
    server.ConnectionClass = connection_class
    return server


def _serve(server, announce, ready=None):
    stopper = threading.Thread(target=server.stop, name='stop', daemon=True)

    def stop(signum, frame):
        LOG.info('Signal %d received, stopping', signum)
        # The handler runs on the thread inside server.serve(), and
        # server.stop() waits for that loop to finish: calling it here
        # would wait forever. Stop from another thread; serve() returns.
        if stopper.ident is None:
            stopper.start()

    # The handlers go in only once prepare() has made the server ready:
    # cheroot's stop() does nothing to a server not yet ready, and
    # prepare() would then make it ready and serve() serve for ever (a
    # worker told to stop while it started hung until the parent killed
    # it). Until then a SIGTERM ends the process at once, with nothing in
    # flight to lose.
    server.prepare()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if announce:
        _announce(server.bind_addr[:2], server.ssl_adapter is not None)
    if ready is not None:
        ready()
    server.serve()
    if stopper.ident is not None:
        # serve() returns as soon as accepting stops: the requests in
        # flight finish while server.stop() waits for them.
        stopper.join()
    return 0


def _announce(address, https):
    host, port = address
    url = '%s://%s:%d' % ('https' if https else 'http', host, port)
    LOG.info('glance-lite-api listening on %s', url)
    print('glance-lite-api listening on %s' % url, flush=True)


def main(argv=None):
    try:
        app.prepare_service(sys.argv[1:] if argv is None else argv)
    except cfg.Error as e:
        # A missing or unreadable config file: say so, not a traceback.
        print('glance-lite-api: %s' % e, file=sys.stderr)
        return 2
    try:
        ssl_adapter = tls.adapter(CONF.cert_file, CONF.key_file,
                                  CONF.ca_file)
    except tls.Invalid as e:
        print('ERROR: glance-lite-api: %s' % e, file=sys.stderr)
        return 1
    if not CONF.workers:
        # One process: a SIGHUP (a reload of the service manager, a
        # closed terminal) must not end it; reloading needs workers.
        signal.signal(signal.SIGHUP, _reload_needs_workers)
        return _serve(_build_server(ssl_adapter), announce=True)
    # The application is loaded in each worker, after the fork: threads
    # (the settler's) and database connections are per process. A worker
    # forked after a reload takes the TLS adapter of the configuration
    # then current.
    listener = standalone.listen(CONF.bind_host, CONF.bind_port,
                                 CONF.backlog)
    current = {'ssl_adapter': ssl_adapter}
    fixed = _fixed_at_start()

    def reload():
        return _reload(current, fixed)

    supervisor = server_workers.Supervisor(
        lambda ready: _serve(_build_server(current['ssl_adapter'], listener),
                             announce=False, ready=ready),
        CONF.workers, CONF.graceful_shutdown_timeout, reload=reload)
    _announce(listener.getsockname()[:2], ssl_adapter is not None)
    return supervisor.run()


# Options the parent uses once, at start: a reload keeps their old value
# (with a warning when the files changed them).
FIXED_AT_START = ('bind_host', 'bind_port', 'backlog')


def _fixed_at_start():
    return {name: CONF[name] for name in FIXED_AT_START}


def _reload(current, fixed):
    """Re-read the configuration files for the workers a SIGHUP starts;
    the number of workers it asks for, or None when the files cannot be
    used (unreadable, invalid, a TLS pair that does not load)."""
    if not CONF.reload_config_files():
        LOG.error('The configuration files could not be read again')
        return None
    try:
        ssl_adapter = tls.adapter(CONF.cert_file, CONF.key_file,
                                  CONF.ca_file)
    except tls.Invalid as e:
        LOG.error('Reloaded configuration refused: %s', e)
        return None
    if (ssl_adapter is None) != (current['ssl_adapter'] is None):
        # The port speaks TLS or plain HTTP for its whole life: clients
        # and the balancer's checks name its scheme.
        LOG.error('Reloaded configuration refused: turning TLS on or off '
                  'needs a restart')
        return None
    for name, value in fixed.items():
        if CONF[name] != value:
            LOG.warning('%s changed from %s to %s: it takes effect at the '
                        'next restart', name, value, CONF[name])
    if not CONF.workers:
        LOG.warning('workers = 0 (one process) takes effect at the next '
                    'restart; the number of workers is kept')
    current['ssl_adapter'] = ssl_adapter
    return CONF.workers


def _reload_needs_workers(signum, frame):
    LOG.warning('SIGHUP ignored: glance-lite-api reloads its configuration '
                'only with workers >= 1; restart it to apply changes')


if __name__ == '__main__':
    sys.exit(main())
