"""A real HAProxy (Debian's package, installed by tools/haproxy/setup.sh)
in front of glance-lite-api nodes, on loopback, for a test.

:class:`HAProxy` writes a configuration as an operator would for the API
(HTTP mode, round robin, health checks on ``/healthcheck``, a failed
connection retried on another node), runs ``haproxy -db`` in the
foreground in its own session and stops it by PID.
"""

import os
import shutil
import tempfile

from tests import processes

CONFIG = """\
global
    maxconn 512

defaults
    mode http
    option httplog
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout http-request 30s
    # A node that refuses the connection (down, not yet marked down by
    # its checks): the request goes to another one.
    retries 2
    option redispatch

frontend api
    bind 127.0.0.1:%(port)d
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /healthcheck
    http-check expect status 200
%(servers)s
"""


class HAProxyError(RuntimeError):
    """HAProxy is missing or did not start."""


class HAProxy:
    """HAProxy balancing over ``backends`` (base URLs such as
    ``http://127.0.0.1:9292``). After :meth:`start`: ``url``, ``pid``,
    ``log_file``."""

    def __init__(self, backends):
        self.binary = shutil.which('haproxy')
        if self.binary is None:
            raise HAProxyError('haproxy is missing: run tools/haproxy/'
                               'setup.sh (as root)')
        self.backends = backends
        self.workdir = tempfile.mkdtemp(prefix='glance-lite-haproxy-')
        self.log_file = os.path.join(self.workdir, 'haproxy.log')
        self.process = None
        self.url = None

    def start(self, timeout=30):
        port = processes.free_port()
        servers = '\n'.join(
            '    server node%d %s check inter 500ms fall 2 rise 1'
            % (number, url.split('//', 1)[1])
            for number, url in enumerate(self.backends))
        config = os.path.join(self.workdir, 'haproxy.cfg')
        with open(config, 'w') as f:
            f.write(CONFIG % {'port': port, 'servers': servers})
        self.process = processes.spawn_server(
            [self.binary, '-db', '-f', config], self.log_file, self.workdir)
        self.url = 'http://127.0.0.1:%d' % port
        try:
            processes.wait_http(self.url + '/healthcheck', self.process,
                                timeout, lambda: processes.tail(
                                    self.log_file))
        except RuntimeError as e:
            self.stop()
            raise HAProxyError(str(e))
        return self

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process is not None:
            processes.stop_group(self.process.pid, self.process)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)
