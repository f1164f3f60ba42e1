"""Serve glance_lite through a real Apache httpd + mod_wsgi for a test, set
up the way docs/deployment.md tells an operator on Debian to set it up.

:class:`Apache` copies Debian's stock configuration tree (``/etc/apache2``,
with the modules Debian enables by default: mpm_event, deflate,
reqtimeout, setenvif, env...) into a temporary directory and drives that
copy with ``APACHE_CONFDIR`` and the variables Debian's ``envvars`` sets
(``APACHE_RUN_DIR``, ``APACHE_PID_FILE``, ``APACHE_LOCK_DIR``,
``APACHE_LOG_DIR``, ``APACHE_RUN_USER``/``GROUP``), pointed at the
temporary directory. In the copy, as the operator does:

- ``mods-available/wsgi.load`` is written from ``mod_wsgi-express
  module-config`` and ``a2enmod wsgi lua`` enables mod_wsgi and mod_lua;
- the shipped site, ``etc/apache2/glance-lite.conf``, is copied unchanged
  to ``sites-available`` and enabled with ``a2ensite glance-lite``;
- what the docs tell the operator to set (the address, the virtualenv, the
  directory of the .wsgi script, the user) is a ``conf-available/
  glance-lite-site.conf`` of ``Define`` lines, enabled with ``a2enconf``.

a2enmod and its siblings honour ``APACHE_CONFDIR`` (and keep their state
under ``APACHE_STATE_DIRECTORY``, also in the temporary directory). Two
changes are the test's own, not the operator's: ``ports.conf`` listens on
nothing and ``000-default`` is disabled, since every test server would
otherwise bind port 80 (the site has its own ``Listen``, on a free
loopback port). The shipped ``glance-lite.wsgi`` and ``glance-lite-headers
.lua`` are copied beside the test's glance-lite.conf, where the site and
the script look for them. Apache runs in the foreground (``apache2 -d
CONFDIR -DFOREGROUND``, as in a container) and is stopped by PID.

As root, Apache's workers and the application run as the unprivileged
user ``tools/apache/setup.sh`` creates (Apache refuses to run them as
root), who owns the temporary directory; otherwise everything runs as the
current user.
"""

import configparser
import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile


from tests import processes

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VHOST = os.path.join(TOP, 'etc', 'apache2', 'glance-lite.conf')
WSGI_SCRIPT = os.path.join(TOP, 'etc', 'apache2', 'glance-lite.wsgi')
HEADERS_HOOK = os.path.join(TOP, 'etc', 'apache2',
                            'glance-lite-headers.lua')
SETUP_SCRIPT = os.path.join(TOP, 'tools', 'apache', 'setup.sh')
VENV = sys.prefix
SEARCH_PATH = '/usr/sbin:/usr/bin:%s' % os.environ.get('PATH', '')
HTTPD = shutil.which('apache2', path=SEARCH_PATH) or '/usr/sbin/apache2'
A2ENMOD = shutil.which('a2enmod', path=SEARCH_PATH) or '/usr/sbin/a2enmod'
DEBIAN_CONFDIR = '/etc/apache2'
TEST_USER = os.environ.get('GLANCE_LITE_TEST_USER', 'glance-lite-test')
LOG_TAIL_LINES = 60


class ApacheError(RuntimeError):
    """Apache could not be configured or started."""


free_port = processes.free_port


def service_account():
    """(user, group, uid, gid) the services run as: the unprivileged test
    user when running as root, else the current user."""
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam(TEST_USER)
        except KeyError:
            raise ApacheError('user %s is missing: run %s'
                              % (TEST_USER, SETUP_SCRIPT))
    else:
        entry = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(entry.pw_gid).gr_name
    return entry.pw_name, group, entry.pw_uid, entry.pw_gid


def give_tree(path, uid, gid):
    """chown -R path to uid:gid (a no-op unless running as root)."""
    if os.geteuid() != 0:
        return
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


ini = processes.ini


def tail(path, lines=LOG_TAIL_LINES):
    return processes.tail(path, lines)


def module_config():
    """The LoadModule/WSGIPythonHome lines for this virtualenv's mod_wsgi."""
    express = os.path.join(VENV, 'bin', 'mod_wsgi-express')
    if not os.path.exists(express):
        raise ApacheError('%s is missing: run %s' % (express, SETUP_SCRIPT))
    return subprocess.run([express, 'module-config'], check=True,
                          capture_output=True, text=True).stdout


def image_size_cap(config_file):
    """The image_size_cap a glance-lite.conf sets, or None (the default,
    which the site's default matches)."""
    parser = configparser.RawConfigParser(strict=False)
    parser.read(config_file)
    return parser.defaults().get('image_size_cap')


class Apache:
    """glance_lite behind Apache mod_wsgi, on Debian's configuration.

    :param config: {section: {option: value}} for glance-lite.conf, over
        the test defaults (noauth, state in the temporary directory).
    :param config_file: serve this glance-lite.conf instead (tests/
        server.py's servers): the .wsgi script and the Lua hook are copied
        beside it, and its directory is given to the service user.

    After :meth:`start`: ``url`` (``http://127.0.0.1:PORT``), ``port``,
    ``pid`` (the Apache parent), ``workdir``, ``confdir`` (the copy of
    /etc/apache2), ``state_path``, ``config_file``, ``error_log``
    (Apache's), ``vhost_error_log`` (the site's: mod_wsgi's and the
    application's stderr), ``access_log``, ``api_log`` (glance_lite's).
    """

    def __init__(self, config=None, config_file=None):
        self.user, self.group, self.uid, self.gid = service_account()
        self.workdir = tempfile.mkdtemp(prefix='glance-lite-apache-')
        self.confdir = os.path.join(self.workdir, 'apache2')
        self.run_dir = os.path.join(self.workdir, 'run')
        self.lock_dir = os.path.join(self.workdir, 'lock')
        self.log_dir = os.path.join(self.workdir, 'logs')
        self.a2_state = os.path.join(self.workdir, 'a2state')
        for path in (self.run_dir, self.lock_dir, self.log_dir,
                     self.a2_state):
            os.makedirs(path)
        self.error_log = os.path.join(self.log_dir, 'error.log')
        self.vhost_error_log = os.path.join(self.log_dir,
                                            'glance-lite-error.log')
        self.access_log = os.path.join(self.log_dir,
                                       'glance-lite-access.log')
        if config_file is None:
            self.etc = os.path.join(self.workdir, 'etc')
            self.state_path = os.path.join(self.workdir, 'state')
            os.makedirs(self.etc)
            os.makedirs(self.state_path)
            self.config_file = os.path.join(self.etc, 'glance-lite.conf')
            self.api_log = os.path.join(self.log_dir, 'api.log')
            sections = {
                'DEFAULT': {'state_path': self.state_path,
                            'log_file': self.api_log, 'debug': 'false'},
                'paste_deploy': {'flavor': 'noauth'},
            }
            for section, options in (config or {}).items():
                sections.setdefault(section, {}).update(options)
            with open(self.config_file, 'w') as f:
                f.write(ini(sections))
            self.home = self.workdir
        else:
            self.config_file = config_file
            self.etc = self.home = os.path.dirname(config_file)
            self.state_path = None
            self.api_log = None
        # The .wsgi script loads the glance-lite.conf beside it.
        if os.path.basename(self.config_file) != 'glance-lite.conf':
            raise ApacheError('glance-lite.wsgi loads glance-lite.conf, '
                              'not %s' % self.config_file)
        shutil.copy(WSGI_SCRIPT, self.etc)
        shutil.copy(HEADERS_HOOK, self.etc)
        self._copy_debian_tree()
        self.process = None
        self.pid = None
        self.port = None
        self.url = None

    def environ(self):
        """The environment of apache2 and a2enmod: Debian's envvars, with
        every path in the temporary directory."""
        env = dict(os.environ)
        env.update({
            'APACHE_CONFDIR': self.confdir,
            'APACHE_STATE_DIRECTORY': self.a2_state,
            'APACHE_RUN_USER': self.user,
            'APACHE_RUN_GROUP': self.group,
            'APACHE_PID_FILE': os.path.join(self.run_dir, 'apache2.pid'),
            'APACHE_RUN_DIR': self.run_dir,
            'APACHE_LOCK_DIR': self.lock_dir,
            'APACHE_LOG_DIR': self.log_dir,
            'LANG': 'C',
        })
        return env

    def _a2(self, command, *names):
        """a2enmod / a2ensite / a2enconf / a2dissite on the copy."""
        done = subprocess.run(
            [os.path.join(os.path.dirname(A2ENMOD), command), '-q']
            + list(names), env=self.environ(), capture_output=True,
            text=True)
        if done.returncode != 0:
            raise ApacheError('%s %s: %s%s' % (command, ' '.join(names),
                                               done.stdout, done.stderr))

    def _copy_debian_tree(self):
        if not os.path.isfile(os.path.join(DEBIAN_CONFDIR, 'apache2.conf')):
            raise ApacheError('%s is not Debian\'s apache2 tree: run %s'
                              % (DEBIAN_CONFDIR, SETUP_SCRIPT))
        shutil.copytree(DEBIAN_CONFDIR, self.confdir, symlinks=True)
        # The test's own change: no server of the tests may take port 80.
        with open(os.path.join(self.confdir, 'ports.conf'), 'w') as f:
            f.write('# tests/apache.py: the enabled site has its own '
                    'Listen.\n')
        with open(os.path.join(self.confdir, 'envvars'), 'a') as f:
            f.write('\n# tests/apache.py: everything in the test\'s '
                    'directory.\n')
            for name in ('APACHE_RUN_USER', 'APACHE_RUN_GROUP',
                         'APACHE_PID_FILE', 'APACHE_RUN_DIR',
                         'APACHE_LOCK_DIR', 'APACHE_LOG_DIR'):
                f.write('export %s=%s\n' % (name, self.environ()[name]))
        self._a2('a2dissite', '000-default')
        # As docs/deployment.md says.
        with open(os.path.join(self.confdir, 'mods-available', 'wsgi.load'),
                  'w') as f:
            f.write(module_config())
        self._a2('a2enmod', 'wsgi', 'lua')
        shutil.copy(VHOST, os.path.join(self.confdir, 'sites-available',
                                        'glance-lite.conf'))
        self._a2('a2ensite', 'glance-lite')

    def _write_site_defines(self):
        lines = [
            'Define GLANCE_LITE_LISTEN 127.0.0.1:%d' % self.port,
            'Define GLANCE_LITE_VENV %s' % VENV,
            'Define GLANCE_LITE_ETC %s' % self.etc,
            'Define GLANCE_LITE_USER %s' % self.user,
            'Define GLANCE_LITE_GROUP %s' % self.group,
            'Define GLANCE_LITE_HOME %s' % self.home,
        ]
        cap = image_size_cap(self.config_file)
        if cap:
            lines.append('Define GLANCE_LITE_IMAGE_SIZE_CAP %s' % cap)
        lines.append('')
        path = os.path.join(self.confdir, 'conf-available',
                            'glance-lite-site.conf')
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
        if not os.path.exists(os.path.join(self.confdir, 'conf-enabled',
                                           'glance-lite-site.conf')):
            self._a2('a2enconf', 'glance-lite-site')

    def start(self, timeout=60, attempts=3):
        """Start Apache on a free port and wait until the application
        answers GET /versions. Raises ApacheError with the logs."""
        for attempt in range(attempts):
            self.port = free_port()
            self.url = 'http://127.0.0.1:%d' % self.port
            try:
                self._write_site_defines()
                give_tree(self.workdir, self.uid, self.gid)
                give_tree(self.etc, self.uid, self.gid)
                return self._start(timeout)
            except ApacheError:
                taken = 'Address already in use' in tail(self.error_log)
                self.stop(remove=False)
                if not taken or attempt == attempts - 1:
                    # The error carries the logs: remove the directory
                    # (unless GLANCE_LITE_KEEP_TEST_DIRS is set).
                    self.stop()
                    raise

    def _start(self, timeout):
        test = subprocess.run([HTTPD, '-d', self.confdir, '-t'],
                              env=self.environ(), capture_output=True,
                              text=True)
        if test.returncode != 0:
            raise ApacheError('apache2 -t: %s%s'
                              % (test.stdout, test.stderr))
        # env(1) execs apache2 with Debian's variables (same PID).
        variables = ['%s=%s' % item for item in sorted(self.environ().items())
                     if item[0].startswith('APACHE_') or item[0] == 'LANG']
        self.process = processes.spawn_server(
            ['env'] + variables + [HTTPD, '-d', self.confdir, '-DFOREGROUND'],
            os.path.join(self.workdir, 'stdout'), self.workdir)
        self.pid = self.process.pid
        try:
            processes.wait_http(self.url + '/versions', self.process,
                                timeout, self.logs)
        except RuntimeError as e:
            raise ApacheError('glance_lite through Apache: %s' % e)
        return self

    def logs(self):
        parts = []
        for path in (os.path.join(self.workdir, 'stdout'), self.error_log,
                     self.vhost_error_log, self.api_log):
            if path:
                parts.append('--- %s\n%s' % (os.path.basename(path),
                                             tail(path)))
        return '\n'.join(parts)

    def stop(self, remove=True):
        """Stop Apache by PID: SIGTERM to the parent, which stops its
        workers and the mod_wsgi daemons; any of them still alive after it
        exited is killed by its own PID. Removes the temporary directory
        unless asked not to (or GLANCE_LITE_KEEP_TEST_DIRS is set)."""
        if self.process is not None:
            processes.stop_with_children(self.process)
            self.process = None
        if remove and not os.environ.get('GLANCE_LITE_KEEP_TEST_DIRS'):
            shutil.rmtree(self.workdir, ignore_errors=True)
