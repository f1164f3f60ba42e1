"""Start a real OpenStack Swift all-in-one for the store tests.

Swift runs from its own virtualenv, ``<repo>/.swift-venv``, which
``tools/swift/setup.sh`` creates (with memcached from Debian).
:class:`Swift` writes swift.conf, the three rings (one device, one
replica, built in one Python process) and the server configurations
under a work directory, starts memcached and the account, container,
object and proxy servers on free loopback ports (each its own process
group, ``workers = 0``), and waits until all four answer ``/healthcheck``::

    swift = Swift().start(workdir, keystone)
    ...
    swift.stop()

Two ways in, as in a real cloud:

* Swift's own API, authenticated by Keystone (``authtoken`` and
  ``keystoneauth``): glance_store's swift driver, which speaks only
  Keystone v3, stores images in the account of Keystone's ``service``
  project (``swift.account_url``).
* The S3 API (``s3api``, path-style, region us-east-1), authenticated by
  ``tempauth`` (which needs memcached): access key ``test:tester``,
  secret ``S3_SECRET_KEY``, account ``TEMP_test``.
"""

import json
import os
import pwd
import subprocess
import sys
import tempfile
import time

from tests import processes

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(TOP, '.swift-venv')
SETUP_SCRIPT = os.path.join(TOP, 'tools', 'swift', 'setup.sh')

S3_ACCESS_KEY = 'test:tester'
# Distinctive, so that a test can look for it in logs and answers.
S3_SECRET_KEY = 's3-secret-Zq7'
S3_REGION = 'us-east-1'

STORAGE_SERVERS = ('account', 'container', 'object')

# Run by .swift-venv's Python: the three rings in one process (a
# swift-ring-builder call per step would spend seconds importing Swift).
_RING_SCRIPT = '''
import json, os, sys
from swift.common.ring import RingBuilder
swift_dir, ports = sys.argv[1], json.loads(sys.argv[2])
for name, port in ports.items():
    # 2**6 partitions, one replica, rebalance at will.
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1',
                     'port': port, 'device': 'd1', 'weight': 100})
    builder.rebalance()
    builder.get_ring().save(os.path.join(swift_dir, name + '.ring.gz'))
'''


class SwiftError(RuntimeError):
    """Swift could not be set up or started."""


class Swift:
    """A one-replica Swift with memcached, stopped by PID.

    After :meth:`start`: ``proxy_url`` (``http://127.0.0.1:PORT``),
    ``account_url`` (``proxy_url/v1/AUTH_<service project id>``, the
    account glance_store's swift driver writes to), ``s3_url`` (the same
    proxy), ``workdir``, ``pids`` (name -> PID) and ``logs`` (name -> log
    file) for memcached, account, container, object and proxy.
    """

    def __init__(self, venv=VENV):
        self.venv = venv
        self.workdir = None
        self.proxy_url = None
        self.account_url = None
        self.pids = {}
        self.logs = {}
        self._processes = {}

    @property
    def s3_url(self):
        return self.proxy_url

    @property
    def tempauth_url(self):
        """Swift's v1 auth for the S3 user (the account s3api writes
        to, ``TEMP_test``, with the ``<bucket>+segments`` containers)."""
        return self.proxy_url + '/auth/v1.0'

    def start(self, workdir, keystone, timeout=90):
        """Configure and start everything under workdir, wait for it.

        :param keystone: a running tests.keystone.Keystone; its ``glance``
            account (admin on ``service``) is the proxy's authtoken user and
            owns the Swift account the tests store images in.
        """
        if not os.access(self._bin('swift-proxy-server'), os.X_OK):
            raise SwiftError('%s is missing: run %s' % (
                self._bin('swift-proxy-server'), SETUP_SCRIPT))
        self.workdir = os.path.abspath(workdir)
        os.makedirs(os.path.join(self.workdir, 'devices', 'd1'),
                    exist_ok=True)
        ports = {name: processes.free_port()
                 for name in STORAGE_SERVERS + ('proxy', 'memcached')}
        self.proxy_url = 'http://127.0.0.1:%d' % ports['proxy']
        self.account_url = '%s/v1/AUTH_%s' % (
            self.proxy_url, keystone.projects['service'])
        try:
            self._configure(ports, keystone)
            self._launch('memcached', [
                'memcached', '-l', '127.0.0.1', '-p', str(ports['memcached']),
                '-U', '0', '-m', '64', '-u', _user()])
            for name in STORAGE_SERVERS + ('proxy',):
                self._launch(name, [self._bin('swift-%s-server' % name),
                                    self._conf(name), '--verbose'])
            for name in STORAGE_SERVERS + ('proxy',):
                processes.wait_http(
                    'http://127.0.0.1:%d/healthcheck' % ports[name],
                    self._processes[name], timeout,
                    lambda n=name: self.log(n))
            # Clients find Swift in Keystone's catalog, as in a cloud.
            keystone.set_service_endpoint(
                'object-store', 'swift',
                self.proxy_url + '/v1/AUTH_%(project_id)s')
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop every process by its PID (process group)."""
        for name in ('proxy',) + STORAGE_SERVERS + ('memcached',):
            pid = self.pids.pop(name, None)
            if pid is not None:
                processes.stop_group(pid, self._processes.pop(name, None))

    def stop_server(self, name):
        """Stop one of the servers (a store failure)."""
        processes.stop_group(self.pids.pop(name),
                             self._processes.pop(name, None))

    def log(self, name):
        return processes.tail(self.logs[name]) if name in self.logs else ''

    # -- internals --------------------------------------------------------

    def _bin(self, name):
        return os.path.join(self.venv, 'bin', name)

    def _conf(self, name):
        return os.path.join(self.workdir, '%s-server.conf' % name)

    def _env(self):
        env = dict(os.environ)
        for name in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV'):
            env.pop(name, None)
        env['PYTHONWARNINGS'] = 'ignore::DeprecationWarning'
        return env

    def _launch(self, name, cmd):
        self.logs[name] = os.path.join(self.workdir, '%s.log' % name)
        with open(self.logs[name], 'a') as log:
            log.write('==> %s\n' % ' '.join(cmd))
            log.flush()
            process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self._env(), cwd=self.workdir,
                start_new_session=True)
        self._processes[name] = process
        self.pids[name] = process.pid

    def _configure(self, ports, keystone):
        with open(os.path.join(self.workdir, 'swift.conf'), 'w') as f:
            f.write(processes.ini({
                'swift-hash': {'swift_hash_path_suffix': 'glance-lite-tests',
                               'swift_hash_path_prefix': 'glance-lite'},
                'storage-policy:0': {'name': 'gold', 'default': 'yes'},
            }))
        ring = subprocess.run(
            [self._bin('python'), '-c', _RING_SCRIPT, self.workdir,
             json.dumps({name: ports[name] for name in STORAGE_SERVERS})],
            capture_output=True, text=True, env=self._env())
        if ring.returncode != 0:
            raise SwiftError('building the rings failed:\n%s%s'
                             % (ring.stdout, ring.stderr))
        common = {'bind_ip': '127.0.0.1', 'workers': 0, 'user': _user(),
                  'swift_dir': self.workdir,
                  'devices': os.path.join(self.workdir, 'devices'),
                  'mount_check': 'false', 'log_level': 'INFO',
                  # No syslog here: --verbose copies the log to stdout.
                  'log_address': os.path.join(self.workdir, 'no-syslog')}
        for name in STORAGE_SERVERS:
            with open(self._conf(name), 'w') as f:
                f.write(processes.ini({
                    'DEFAULT': dict(common, bind_port=ports[name],
                                    log_name='%s-server' % name),
                    'pipeline:main': {
                        'pipeline': 'healthcheck %s-server' % name},
                    'app:%s-server' % name: {'use': 'egg:swift#%s' % name},
                    'filter:healthcheck': {'use': 'egg:swift#healthcheck'},
                }))
        glance = keystone.glance
        sections = {
            'DEFAULT': dict(common, bind_port=ports['proxy'],
                            log_name='proxy-server'),
            'pipeline:main': {'pipeline': ' '.join([
                'catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging',
                'cache', 'listing_formats', 's3api', 'authtoken',
                'keystoneauth',
                # After keystoneauth, which would otherwise take every
                # request without a Keystone token as anonymous.
                'tempauth', 'copy', 'container-quotas', 'slo', 'dlo',
                'proxy-logging', 'proxy-server'])},
            'app:proxy-server': {'use': 'egg:swift#proxy',
                                 'account_autocreate': 'true'},
            'filter:cache': {'use': 'egg:swift#memcache',
                             'memcache_servers': '127.0.0.1:%d'
                             % ports['memcached']},
            # S3 requests: s3api turns them into Swift requests that
            # tempauth authenticates with the user's key as secret.
            'filter:s3api': {'use': 'egg:swift#s3api',
                             'location': S3_REGION},
            'filter:tempauth': {
                'use': 'egg:swift#tempauth', 'reseller_prefix': 'TEMP',
                'user_%s' % S3_ACCESS_KEY.replace(':', '_'):
                    '%s .admin' % S3_SECRET_KEY},
            # Swift API requests: Keystone tokens, accounts AUTH_<project>.
            'filter:authtoken': {
                'paste.filter_factory':
                    'keystonemiddleware.auth_token:filter_factory',
                'www_authenticate_uri': keystone.url,
                'auth_url': keystone.url, 'auth_type': 'password',
                'username': glance.username, 'password': glance.password,
                'project_name': glance.project_name,
                'user_domain_name': glance.domain,
                'project_domain_name': glance.domain,
                # Requests without a token go on to tempauth (S3).
                'delay_auth_decision': 'true'},
            'filter:keystoneauth': {'use': 'egg:swift#keystoneauth',
                                    'reseller_prefix': 'AUTH',
                                    'operator_roles': 'admin, member'},
        }
        for name in ('catch_errors', 'gatekeeper', 'healthcheck',
                     'proxy-logging', 'listing_formats', 'copy',
                     'container-quotas', 'slo', 'dlo'):
            sections['filter:%s' % name] = {
                'use': 'egg:swift#%s' % name.replace('-', '_')}
        # Deleting an S3 multipart object deletes its parts at once (by
        # default Swift leaves them to the object-expirer, not run here).
        sections['filter:slo']['allow_async_delete'] = 'false'
        # Swift serves a dynamic large object's segments (glance_store's
        # swift layout) at one per second after the first ten: with the
        # tests' 5 MB segments a 1 GiB download would take minutes.
        sections['filter:dlo']['rate_limit_segments_per_sec'] = '0'
        with open(self._conf('proxy'), 'w') as f:
            f.write(processes.ini(sections))


def _user():
    return pwd.getpwuid(os.getuid()).pw_name


def main(argv=None):
    """Start Keystone and Swift by hand: ``python -m tests.swift_server``
    prints the URLs and serves until interrupted."""
    from tests import keystone as ks_mod  # noqa: H306 - only here
    argv = sys.argv[1:] if argv is None else argv
    workdir = argv[0] if argv else tempfile.mkdtemp(prefix='swift-')
    ks = ks_mod.Keystone().start(os.path.join(workdir, 'keystone'))
    swift = None
    try:
        swift = Swift().start(os.path.join(workdir, 'swift'), ks)
        print(json.dumps({'keystone': ks.url, 'proxy': swift.proxy_url,
                          'account': swift.account_url,
                          'pids': swift.pids}, indent=1), flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        if swift:
            swift.stop()
        ks.stop()


if __name__ == '__main__':
    main()
