"""Options of the standalone server (``glance-lite-api``) only: TLS, its
processes and connection handling (spec §24). Behind Apache mod_wsgi or
uWSGI the front server owns these and they are not read."""

from oslo_config import cfg

tls_opts = [
    cfg.StrOpt('cert_file',
               help='Server certificate (PEM, optionally followed by its '
                    'intermediate certificates). Setting it and key_file '
                    'makes the port speak TLS (1.2 or later) only.'),
    cfg.StrOpt('key_file',
               help='Private key (PEM, unencrypted) of cert_file.'),
    cfg.StrOpt('ca_file',
               help='CA certificates (PEM): when set, every client must '
                    'present a certificate one of them signed.'),
]

process_opts = [
    cfg.IntOpt('workers', min=0,
               help='Worker processes of the standalone server, all '
                    'accepting on one listening socket under a supervising '
                    'parent that replaces a worker that dies. Unset or 0: '
                    'one process (server_threads threads serve concurrent '
                    'requests). Each worker runs server_threads threads and '
                    'has its own database connection pool.'),
    cfg.IntOpt('graceful_shutdown_timeout', default=60, min=0,
               help='Seconds the standalone server lets requests in '
                    'progress finish after SIGTERM (it stops accepting at '
                    'once); the connections still open after that are '
                    'closed.'),
    cfg.BoolOpt('http_keepalive', default=True,
                help='Keep client connections open between requests. False: '
                     'every answer carries "Connection: close" and the '
                     'connection is closed after it.'),
    cfg.IntOpt('tcp_keepidle', default=600, min=1,
               help='Seconds a client connection is idle before TCP '
                    'keep-alive probes start, where the platform has '
                    'TCP_KEEPIDLE.'),
]


def register_opts(conf):
    conf.register_opts(tls_opts)
    conf.register_opts(process_opts)


def list_opts():
    return [(None, tls_opts + process_opts)]
