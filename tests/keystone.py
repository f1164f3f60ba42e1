"""Start a real OpenStack Keystone for the integration tests.

Keystone runs from its own virtualenv, ``<repo>/.keystone-venv``, which
``tools/keystone/setup.sh`` creates. :class:`Keystone` writes a
keystone.conf (SQLite, fernet tokens, keys, all under a work directory),
runs ``keystone-manage`` (db_sync, fernet_setup, credential_setup,
bootstrap), serves ``keystone.wsgi.api:application`` with gunicorn on
127.0.0.1 and a free port, then seeds projects, users, roles and the
``image`` service through the v3 API::

    ks = Keystone().start(workdir)
    token = ks.token('user1', ks.user1.password, 'tenant1')
    ks.set_image_endpoint('http://127.0.0.1:9292')
    ...
    ks.stop()

Only the standard library and requests, so any test can import it.
"""

import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

from tests import processes

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(TOP, '.keystone-venv')
SETUP_SCRIPT = os.path.join(TOP, 'tools', 'keystone', 'setup.sh')

DOMAIN = 'Default'
REGION = 'RegionOne'

# The accounts seeded into every Keystone: (user, password, project,
# roles on that project). "admin" is made by keystone-manage bootstrap.
ACCOUNTS = (
    ('admin', 'admin-secret', 'admin', ('admin',)),
    ('glance', 'glance-secret', 'service', ('admin', 'service')),
    ('user1', 'user1-secret', 'tenant1', ('member',)),
    ('user2', 'user2-secret', 'tenant2', ('member',)),
    ('reader1', 'reader1-secret', 'tenant1', ('reader',)),
)

# Keystone loads its app from this module: it resets sys.argv first,
# because Keystone parses sys.argv with oslo.config and would stop on the
# WSGI server's own arguments.
_APP_MODULE = '''\
import sys
import warnings

sys.argv = sys.argv[:1]
warnings.simplefilter('ignore', DeprecationWarning)

from keystone.wsgi.api import application  # noqa: E402,F401
'''


class KeystoneError(RuntimeError):
    """Keystone could not be installed, set up, started or seeded."""


Credentials = collections.namedtuple(
    'Credentials',
    'username password project_name roles user_id project_id domain')


# Kept under their old names: tests/integration/conftest.py uses _gone.
_ini = processes.ini
_tail = processes.tail
_gone = processes.gone


class Keystone:
    """A Keystone served by gunicorn from ``.keystone-venv``.

    After :meth:`start`:

    * ``base_url``: ``http://127.0.0.1:PORT``; ``url`` (also
      ``auth_url``): ``base_url + '/v3'``.
    * ``admin``, ``glance``, ``user1``, ``user2``, ``reader1``:
      :class:`Credentials` (``username``, ``password``, ``project_name``,
      ``roles``, ``user_id``, ``project_id``, ``domain``); ``users`` maps
      the names to them. ``glance`` has ``admin`` (and ``service``) on the
      ``service`` project: the account for keystonemiddleware.
    * ``projects``: name -> id for ``admin``, ``service``, ``tenant1``,
      ``tenant2``; ``roles``: name -> id.
    * ``pid``, ``workdir``, ``config_file``, ``log_file`` (gunicorn and
      Keystone; each keystone-manage command logs to
      ``keystone-manage-COMMAND.log`` beside it), ``timings`` (seconds:
      ``manage`` for the keystone-manage commands, ``cold_start`` from
      launching gunicorn until ``GET /v3`` answered, overlapping the
      bootstrap, ``seed``, ``total``).
    """

    def __init__(self, venv=VENV):
        self.venv = venv
        self.process = None
        self.pid = None
        self.workdir = None
        self.config_file = None
        self.log_file = None
        self.base_url = None
        self.url = None
        self.users = {}
        self.projects = {}
        self.roles = {}
        self.image_service_id = None
        self.image_url = None
        self.timings = {}

    # -- credentials ------------------------------------------------------

    def __getattr__(self, name):
        users = self.__dict__.get('users') or {}
        if name in users:
            return users[name]
        raise AttributeError(name)

    @property
    def auth_url(self):
        return self.url

    def token(self, user, password=None, project=None, domain=DOMAIN):
        """A project-scoped token id (password auth) for user; the
        password and project default to the seeded ones."""
        return self.authenticate(user, password, project, domain)[0]

    def authenticate(self, user, password=None, project=None,
                     domain=DOMAIN):
        """(token id, token body) for a password authentication scoped
        to project (the seeded one by default; pass project=False for an
        unscoped token)."""
        seeded = self.users.get(user)
        if password is None:
            if seeded is None:
                raise KeyError('%s is not a seeded user: pass its '
                               'password' % user)
            password = seeded.password
        if project is None and seeded is not None:
            project = seeded.project_name
        auth = {'identity': {'methods': ['password'], 'password': {
            'user': {'name': user, 'domain': {'name': domain},
                     'password': password}}}}
        if project:
            auth['scope'] = {'project': {'name': project,
                                         'domain': {'name': domain}}}
        resp = requests.post(self.url + '/auth/tokens',
                             json={'auth': auth}, timeout=30)
        if resp.status_code != 201:
            raise KeystoneError('authentication of %s on %s: %s %s'
                                % (user, project, resp.status_code,
                                   resp.text))
        return resp.headers['X-Subject-Token'], resp.json()['token']

    # -- lifecycle ----------------------------------------------------------

    def start(self, workdir, image_url=None, timeout=240):
        """Set up and serve Keystone under workdir, wait for it, seed it.

        Raises :class:`KeystoneError` (with the server's log) on failure;
        the server is stopped then.
        """
        self._check_installed()
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.config_file = os.path.join(self.workdir, 'keystone.conf')
        self.log_file = os.path.join(self.workdir, 'keystone.log')

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(('127.0.0.1', 0))
            sock.listen(128)
            port = sock.getsockname()[1]
            self.base_url = 'http://127.0.0.1:%d' % port
            self.url = self.base_url + '/v3'
            self._write_config()
            began = time.monotonic()
            # Each keystone-manage spends seconds importing Keystone: run
            # the independent ones side by side.
            self._manage_all(
                ('db_sync',),
                ('fernet_setup', '--keystone-user', 'root',
                 '--keystone-group', 'root'),
                ('credential_setup', '--keystone-user', 'root',
                 '--keystone-group', 'root'))
            admin = self._account('admin')
            bootstrap = self._manage_start(
                'bootstrap',
                '--bootstrap-username', admin[0],
                '--bootstrap-password', admin[1],
                '--bootstrap-project-name', admin[2],
                '--bootstrap-role-name', 'admin',
                '--bootstrap-service-name', 'keystone',
                '--bootstrap-region-id', REGION,
                '--bootstrap-admin-url', self.url,
                '--bootstrap-internal-url', self.url,
                '--bootstrap-public-url', self.url)
            # The server imports Keystone while bootstrap writes the admin
            # account (it reads nothing from the database until asked).
            served = time.monotonic()
            try:
                self._serve(sock)
            except BaseException:
                bootstrap[1].kill()
                bootstrap[1].wait()
                raise
        finally:
            # gunicorn has its own copy of the listening socket now.
            sock.close()
        try:
            self._manage_wait(bootstrap)
            self.timings['manage'] = time.monotonic() - began
            self._wait(timeout)
            self.timings['cold_start'] = time.monotonic() - served
            seeding = time.monotonic()
            self._seed(image_url)
            self.timings['seed'] = time.monotonic() - seeding
            self.timings['total'] = time.monotonic() - began
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout=20):
        """Stop the server by PID: SIGTERM to its process group (gunicorn
        and its worker), SIGKILL after timeout seconds."""
        pid = self.pid
        if pid is None:
            return
        self.pid = None
        processes.stop_group(pid, self.process, timeout)
        self.process = None

    def running(self):
        return self.pid is not None and not self._exited(self.pid)

    def _exited(self, pid):
        if self.process is not None:
            return self.process.poll() is not None
        return _gone(pid)

    def log(self):
        """The tail of the server's output (gunicorn and Keystone)."""
        return _tail(self.log_file) if self.log_file else ''

    # -- sharing between processes (pytest-xdist workers) ----------------

    def to_state(self):
        """A JSON-able description another process can attach to with
        :meth:`from_state` (and stop, by PID)."""
        return {
            'pid': self.pid, 'workdir': self.workdir,
            'config_file': self.config_file, 'log_file': self.log_file,
            'base_url': self.base_url, 'url': self.url,
            'users': {name: c._asdict() for name, c in self.users.items()},
            'projects': self.projects, 'roles': self.roles,
            'image_service_id': self.image_service_id,
            'image_url': self.image_url, 'timings': self.timings,
        }

    @classmethod
    def from_state(cls, state, venv=VENV):
        ks = cls(venv)
        for key in ('pid', 'workdir', 'config_file', 'log_file',
                    'base_url', 'url', 'projects', 'roles',
                    'image_service_id', 'image_url', 'timings'):
            setattr(ks, key, state[key])
        ks.users = {name: Credentials(**c)
                    for name, c in state['users'].items()}
        return ks

    def dumps(self):
        return json.dumps(self.to_state(), indent=1)

    # -- catalog ------------------------------------------------------------

    def set_image_endpoint(self, url):
        """Point the public ``image`` endpoint of the catalog at url
        (create it, or update it)."""
        api = self._admin_api()
        found = api.get('/endpoints', params={
            'service_id': self.image_service_id,
            'interface': 'public'})['endpoints']
        if found:
            api.patch('/endpoints/' + found[0]['id'],
                      {'endpoint': {'url': url}})
        else:
            api.post('/endpoints', {'endpoint': {
                'service_id': self.image_service_id,
                'interface': 'public', 'region_id': REGION, 'url': url}})
        self.image_url = url

    def set_service_endpoint(self, service_type, name, url):
        """Register a service of service_type (once) with url as its
        public endpoint in RegionOne; url may hold %(project_id)s, as
        object-store endpoints do."""
        api = self._admin_api()
        found = api.get('/services', params={'type': service_type})[
            'services']
        service_id = found[0]['id'] if found else api.post(
            '/services', {'service': {'type': service_type, 'name': name,
                                      'enabled': True}})['service']['id']
        endpoints = api.get('/endpoints', params={
            'service_id': service_id, 'interface': 'public'})['endpoints']
        if endpoints:
            api.patch('/endpoints/' + endpoints[0]['id'],
                      {'endpoint': {'url': url}})
        else:
            api.post('/endpoints', {'endpoint': {
                'service_id': service_id, 'interface': 'public',
                'region_id': REGION, 'url': url}})

    # -- internals ----------------------------------------------------------

    def _check_installed(self):
        for tool in ('keystone-manage', 'gunicorn'):
            if not os.access(self._bin(tool), os.X_OK):
                raise KeystoneError(
                    '%s is missing: run %s to install Keystone into %s'
                    % (self._bin(tool), SETUP_SCRIPT, self.venv))

    def _bin(self, name):
        return os.path.join(self.venv, 'bin', name)

    @staticmethod
    def _account(name):
        for account in ACCOUNTS:
            if account[0] == name:
                return account
        raise KeyError(name)

    def _env(self):
        env = dict(os.environ)
        for name in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV'):
            env.pop(name, None)
        env['OS_KEYSTONE_CONFIG_FILES'] = self.config_file
        env['KEYSTONE_CONF'] = self.config_file
        env['PYTHONWARNINGS'] = 'ignore::DeprecationWarning'
        return env

    def _write_config(self):
        keys = os.path.join(self.workdir, 'keys')
        sections = {
            'DEFAULT': {'debug': 'false', 'use_stderr': 'true'},
            'database': {'connection': 'sqlite:///%s' % os.path.join(
                self.workdir, 'keystone.db')},
            'token': {'provider': 'fernet', 'expiration': 7200},
            'fernet_tokens': {'key_repository': os.path.join(keys,
                                                             'fernet')},
            'fernet_receipts': {'key_repository': os.path.join(
                keys, 'fernet-receipts')},
            'credential': {'key_repository': os.path.join(keys,
                                                          'credential')},
            'identity': {'password_hash_rounds': 4},
            # Without these every project counts as the admin project.
            'resource': {'admin_project_name': 'admin',
                         'admin_project_domain_name': DOMAIN},
            # One process serves every request, so an in-memory cache is
            # coherent (Keystone invalidates it on revocation and on
            # changes); without it each request runs hundreds of queries.
            'cache': {'enabled': 'true',
                      'backend': 'dogpile.cache.memory'},
        }
        with open(self.config_file, 'w') as f:
            f.write(_ini(sections))
        for sub in ('fernet', 'fernet-receipts', 'credential'):
            os.makedirs(os.path.join(keys, sub), mode=0o700,
                        exist_ok=True)

    def _manage_start(self, *args):
        log_file = os.path.join(self.workdir, 'keystone-manage-%s.log'
                                % args[0])
        cmd = [self._bin('keystone-manage'), '--config-file',
               self.config_file] + list(args)
        with open(log_file, 'w') as log:
            proc = subprocess.Popen(cmd, stdout=log,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL,
                                    env=self._env(), cwd=self.workdir)
        return args[0], proc, log_file

    def _manage_wait(self, started, timeout=300):
        name, proc, log_file = started
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode != 0:
            raise KeystoneError(
                'keystone-manage %s failed (exit %s); log %s:\n%s'
                % (name, proc.returncode, log_file, _tail(log_file)))

    def _manage_all(self, *commands):
        started = [self._manage_start(*args) for args in commands]
        try:
            for one in started:
                self._manage_wait(one)
        finally:
            for _name, proc, _log in started:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    def _serve(self, sock):
        with open(os.path.join(self.workdir, 'keystone_app.py'), 'w') as f:
            f.write(_APP_MODULE)
        fd = sock.fileno()
        cmd = [self._bin('gunicorn'),
               '--bind', 'fd://%d' % fd,
               # One process and one request at a time: the in-memory
               # cache needs one process, and SQLite answers concurrent
               # writers (two token requests both updating the user's
               # last_active_at) with "database is locked", a 500.
               '--workers', '1', '--worker-class', 'sync',
               # The worker imports Keystone before its first heartbeat.
               '--timeout', '300', '--graceful-timeout', '5',
               '--pythonpath', self.workdir, '--chdir', self.workdir,
               '--access-logfile', '-', '--error-logfile', '-',
               'keystone_app:application']
        with open(self.log_file, 'a') as log:
            log.write('==> %s\n' % ' '.join(cmd))
            log.flush()
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self._env(),
                cwd=self.workdir, pass_fds=(fd,), start_new_session=True)
        self.pid = self.process.pid

    def _wait(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise KeystoneError(
                    'keystone (gunicorn) exited with %s before answering; '
                    'log %s:\n%s' % (self.process.returncode,
                                     self.log_file, self.log()))
            try:
                resp = requests.get(self.url, timeout=5)
                if resp.status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise KeystoneError(
                    'keystone did not answer GET %s within %ss; log %s:\n%s'
                    % (self.url, timeout, self.log_file, self.log()))
            time.sleep(0.2)

    def _admin_api(self):
        admin = self._account('admin')
        token = self.authenticate(admin[0], admin[1], admin[2])[0]
        return _Api(self.url, token, self.log)

    def _seed(self, image_url):
        api = self._admin_api()
        domain_id = api.get('/domains', params={'name': DOMAIN})[
            'domains'][0]['id']

        def ensure(collection, member, body, **query):
            """Find it, or create it. (Create first and look up on 409
            would save requests, but Keystone logs each conflict with a
            traceback.)"""
            found = api.get('/' + collection, params=query)[collection]
            if found:
                return found[0]['id']
            return api.post('/' + collection, {member: body})[member]['id']

        for role in ('admin', 'member', 'reader', 'service'):
            self.roles[role] = ensure('roles', 'role', {'name': role},
                                      name=role)
        for user, password, project, roles in ACCOUNTS:
            if project not in self.projects:
                self.projects[project] = ensure(
                    'projects', 'project',
                    {'name': project, 'domain_id': domain_id,
                     'description': 'glance_lite tests'},
                    name=project, domain_id=domain_id)
            user_id = ensure('users', 'user',
                             {'name': user, 'domain_id': domain_id,
                              'password': password, 'enabled': True},
                             name=user, domain_id=domain_id)
            for role in roles:
                api.put('/projects/%s/users/%s/roles/%s'
                        % (self.projects[project], user_id,
                           self.roles[role]))
            self.users[user] = Credentials(
                username=user, password=password, project_name=project,
                roles=list(roles), user_id=user_id,
                project_id=self.projects[project], domain=DOMAIN)
        self.image_service_id = ensure(
            'services', 'service',
            {'type': 'image', 'name': 'glance', 'enabled': True,
             'description': 'glance_lite under test'}, type='image')
        if image_url:
            self.set_image_endpoint(image_url)


class _Api:
    """Minimal Keystone v3 admin client: JSON in, JSON out, raise on any
    unexpected status."""

    def __init__(self, url, token, log):
        self.url = url
        self.session = requests.Session()
        self.session.headers['X-Auth-Token'] = token
        self._log = log

    def _call(self, method, path, body=None, params=None):
        resp = self.session.request(method, self.url + path, json=body,
                                    params=params, timeout=30)
        if resp.status_code >= 300:
            raise KeystoneError('%s %s: %s %s\nlog:\n%s'
                                % (method, path, resp.status_code,
                                   resp.text, self._log()))
        return resp.json() if resp.content else None

    def get(self, path, params=None):
        return self._call('GET', path, params=params)

    def post(self, path, body):
        return self._call('POST', path, body)

    def patch(self, path, body):
        return self._call('PATCH', path, body)

    def put(self, path):
        return self._call('PUT', path)


def main(argv=None):
    """Start a Keystone by hand: ``python -m tests.keystone WORKDIR``
    prints its state as JSON and serves until interrupted."""
    argv = sys.argv[1:] if argv is None else argv
    workdir = argv[0] if argv else tempfile.mkdtemp(prefix='keystone-')
    ks = Keystone().start(workdir)
    print(ks.dumps(), flush=True)
    try:
        while ks.running():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        ks.stop()


if __name__ == '__main__':
    main()
