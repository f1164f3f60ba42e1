"""Serve glance_lite through a real Apache httpd + mod_wsgi for a test.

:class:`Apache` renders a minimal httpd.conf in a temporary directory —
a free port on 127.0.0.1, PidFile, logs and mod_wsgi's sockets there, the
LoadModule lines of ``mod_wsgi-express module-config``, mpm_event, and
Debian's default request timeouts — that defines the variables of the
shipped virtual host, ``etc/apache2/glance-lite.conf``, and includes it
unchanged. The shipped ``etc/apache2/glance-lite.wsgi`` and
``glance-lite-headers.lua`` are copied beside the test's glance-lite.conf,
where the virtual host and the script look for them. Apache runs in the
foreground (``apache2 -f httpd.conf -DFOREGROUND``) and is stopped by PID.

As root, Apache's workers and the application run as the unprivileged
user ``tools/apache/setup.sh`` creates (Apache refuses to run them as
root), who owns the temporary directory; otherwise everything runs as the
current user.
"""

import grp
import os
import pwd
import shutil
import socket
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
HTTPD = shutil.which('apache2', path='/usr/sbin:/usr/bin:%s'
                     % os.environ.get('PATH', '')) or '/usr/sbin/apache2'
MODULES_DIR = '/usr/lib/apache2/modules'
TEST_USER = os.environ.get('GLANCE_LITE_TEST_USER', 'glance-lite-test')
LOG_TAIL_LINES = 60


class ApacheError(RuntimeError):
    """Apache could not be configured or started."""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


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


class Apache:
    """glance_lite behind Apache mod_wsgi.

    :param config: {section: {option: value}} for glance-lite.conf, over
        the test defaults (noauth, state in the temporary directory).

    After :meth:`start`: ``url`` (``http://127.0.0.1:PORT``), ``port``,
    ``pid`` (the Apache parent), ``workdir``, ``state_path``,
    ``config_file``, ``error_log`` (Apache's and mod_wsgi's),
    ``vhost_error_log``, ``access_log``, ``api_log`` (glance_lite's).
    """

    def __init__(self, config=None):
        self.user, self.group, self.uid, self.gid = service_account()
        self.workdir = tempfile.mkdtemp(prefix='glance-lite-apache-')
        self.etc = os.path.join(self.workdir, 'etc')
        self.run_dir = os.path.join(self.workdir, 'run')
        self.log_dir = os.path.join(self.workdir, 'logs')
        self.state_path = os.path.join(self.workdir, 'state')
        for path in (self.etc, self.run_dir, self.log_dir, self.state_path):
            os.makedirs(path)
        self.config_file = os.path.join(self.etc, 'glance-lite.conf')
        self.httpd_conf = os.path.join(self.workdir, 'httpd.conf')
        self.error_log = os.path.join(self.log_dir, 'error.log')
        self.vhost_error_log = os.path.join(self.log_dir,
                                            'glance-lite-error.log')
        self.access_log = os.path.join(self.log_dir,
                                       'glance-lite-access.log')
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
        shutil.copy(WSGI_SCRIPT, self.etc)
        shutil.copy(HEADERS_HOOK, self.etc)
        self.process = None
        self.pid = None
        self.port = None
        self.url = None

    def _write_httpd_conf(self):
        lines = [
            'ServerRoot "%s"' % self.workdir,
            'ServerName 127.0.0.1',
            'PidFile "%s"' % os.path.join(self.run_dir, 'httpd.pid'),
            'DefaultRuntimeDir "%s"' % self.run_dir,
            'ErrorLog "%s"' % self.error_log,
            'LogLevel warn',
            'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" '
            '\\"%{User-Agent}i\\"" combined',
            'LoadModule mpm_event_module %s/mod_mpm_event.so' % MODULES_DIR,
            'LoadModule authz_core_module %s/mod_authz_core.so'
            % MODULES_DIR,
            'LoadModule lua_module %s/mod_lua.so' % MODULES_DIR,
            # Debian enables mod_reqtimeout with these defaults; the
            # virtual host must loosen them for big uploads.
            'LoadModule reqtimeout_module %s/mod_reqtimeout.so'
            % MODULES_DIR,
            'RequestReadTimeout header=20-40,MinRate=500 '
            'body=10,MinRate=500',
        ]
        if os.geteuid() == 0:
            lines += ['User %s' % self.user, 'Group %s' % self.group]
        lines += module_config().splitlines()
        lines += [
            'WSGISocketPrefix "%s"' % os.path.join(self.run_dir, 'wsgi'),
            'WSGIRestrictEmbedded On',
            'Define GLANCE_LITE_LISTEN 127.0.0.1:%d' % self.port,
            'Define GLANCE_LITE_VENV %s' % VENV,
            'Define GLANCE_LITE_ETC %s' % self.etc,
            'Define GLANCE_LITE_USER %s' % self.user,
            'Define GLANCE_LITE_GROUP %s' % self.group,
            'Define GLANCE_LITE_HOME %s' % self.workdir,
            'Define GLANCE_LITE_LOG_DIR %s' % self.log_dir,
            'Include "%s"' % VHOST,
            '',
        ]
        with open(self.httpd_conf, 'w') as f:
            f.write('\n'.join(lines))

    def start(self, timeout=60, attempts=3):
        """Start Apache on a free port and wait until the application
        answers GET /versions. Raises ApacheError with the logs."""
        for attempt in range(attempts):
            self.port = free_port()
            self.url = 'http://127.0.0.1:%d' % self.port
            try:
                self._write_httpd_conf()
                give_tree(self.workdir, self.uid, self.gid)
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
        test = subprocess.run([HTTPD, '-t', '-f', self.httpd_conf],
                              capture_output=True, text=True)
        if test.returncode != 0:
            raise ApacheError('apache2 -t: %s%s'
                              % (test.stdout, test.stderr))
        # The shipped glance-lite.wsgi finds the test's configuration
        # beside it.
        self.process = processes.spawn_server(
            [HTTPD, '-f', self.httpd_conf, '-DFOREGROUND'],
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
        for name in ('stdout', 'logs/error.log',
                     'logs/glance-lite-error.log', 'logs/api.log'):
            parts.append('--- %s\n%s' % (
                name, tail(os.path.join(self.workdir, name))))
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
