"""Current OpenStack Glance (33.x, from PyPI) under uWSGI, to compare with.

Glance is installed into its own virtualenv, ``.bench/glance-venv`` at
the top of the source tree (ignored by git), together with uWSGI; the
install runs once and is skipped while the stamp file in the virtualenv
matches the requirement below. Each server gets a temporary directory
with its configuration, an SQLite catalogue synced with ``glance-manage
db_sync`` and a filesystem store, listens on a free port of 127.0.0.1
and is stopped by its PID (uWSGI's master; ``die-on-term``).

Glance is served the way its documentation deploys it under uWSGI, and
the way glance_lite's etc/uwsgi sample is: HTTP straight to the workers
(``http-socket``), ``http-chunked-input`` with a raised
``chunked-input-limit`` (python-glanceclient uploads chunked),
``Connection: close`` added to every answer, streaming request bodies
(``post-buffering = 0``). There is no authentication: without a paste
flavor, Glance's ``default`` pipeline gives every request a context
without roles, and a generated policy file allows every rule. Only
the Image API v2 is served by Glance 33.

From Python::

    from bench.glance import server
    with server.GlanceServer(processes=2, threads=8) as glance:
        print(glance.url, glance.pid)

From the shell (the server keeps running until stopped)::

    python bench/glance/server.py start [--processes N] [--threads N]
    python bench/glance/server.py stop PID
    python bench/glance/server.py run    # foreground, Ctrl-C stops it

``start`` prints ``url``, ``pid`` and ``workdir`` lines; ``stop`` removes
the work directory the server was started with.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
VENV = os.path.join(TOP, '.bench', 'glance-venv')
# The release line compared against, and the uWSGI that serves it.
REQUIREMENTS = ['glance>=33,<34', 'uWSGI>=2.0.20', 'psycopg2-binary']
STAMP = os.path.join(VENV, '.bench-installed')
START_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
# Largest single chunk of a chunked request body uWSGI accepts (its
# default, 1 MiB, refuses what some clients send).
CHUNKED_INPUT_LIMIT = 64 * 1024 * 1024
# The work directory of a server started from the shell, found by
# ``stop`` through a file named after the PID.
PID_DIR = os.path.join(TOP, '.bench', 'glance-servers')


class GlanceError(RuntimeError):
    """Glance could not be installed, configured or started."""


def ensure_installed(python=None, quiet=True):
    """Install Glance and uWSGI into VENV unless already there; returns
    the virtualenv's bin directory."""
    bindir = os.path.join(VENV, 'bin')
    wanted = '\n'.join(REQUIREMENTS)
    if os.path.exists(STAMP):
        with open(STAMP) as f:
            if f.read() == wanted:
                return bindir
    python = python or _base_python()
    if not os.path.exists(os.path.join(bindir, 'python')):
        _run([python, '-m', 'venv', VENV])
    print('bench: installing %s into %s (a few minutes, once)'
          % (', '.join(REQUIREMENTS), VENV), file=sys.stderr, flush=True)
    pip = [os.path.join(bindir, 'python'), '-m', 'pip',
           '--disable-pip-version-check']
    if quiet:
        pip.append('-qq')
    _run(pip + ['install'] + REQUIREMENTS)
    with open(STAMP, 'w') as f:
        f.write(wanted)
    return bindir


def _base_python():
    """The interpreter to create the virtualenv with: the one running
    this script (inside a virtualenv, the interpreter it was made from
    is used by ``venv`` anyway)."""
    return sys.executable


def _run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise GlanceError('%s failed (%d):\n%s%s' % (
            ' '.join(command), done.returncode, done.stdout[-4000:],
            done.stderr[-4000:]))
    return done


def free_port():
    """A port nothing listens on now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _ini(sections):
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        lines.extend('%s = %s' % item for item in options.items())
        lines.append('')
    return '\n'.join(lines)


class GlanceServer:
    """One Glance API under uWSGI.

    :param processes: uWSGI worker processes.
    :param threads: threads per worker.
    :param workdir: directory for config, catalogue, store and logs
        (a new temporary one by default, removed by :meth:`stop`).
    :param postgresql: an admin URL of a PostgreSQL server
        (``postgresql://postgres@127.0.0.1:5432/postgres``): the
        catalogue is then a new database there, dropped by :meth:`stop`,
        instead of SQLite (which Glance serves badly to concurrent
        uploads: "database is locked").

    After :meth:`start`: ``url``, ``port``, ``pid`` (uWSGI's master; the
    workers are its children), ``datadir`` (the filesystem store),
    ``log_file``.
    """

    def __init__(self, processes=2, threads=8, workdir=None,
                 postgresql=None):
        self.postgresql = postgresql
        self.database = None
        self.processes = processes
        self.threads = threads
        self.workdir = workdir or tempfile.mkdtemp(prefix='bench-glance-')
        self.datadir = os.path.join(self.workdir, 'images')
        self.log_file = os.path.join(self.workdir, 'uwsgi.log')
        self.glance_log = os.path.join(self.workdir, 'glance-api.log')
        self.config_dir = os.path.join(self.workdir, 'etc')
        self.process = None
        self.pid = None
        self.port = None
        self.url = None

    def describe(self):
        """One line saying how this Glance is served."""
        return ('Glance %s under uWSGI %s: %d processes x %d threads, '
                'http-socket, http-chunked-input, chunked-input-limit %d, '
                'Connection: close, filesystem store, %s, no auth'
                % (self.version('glance'), self.version('uWSGI'),
                   self.processes, self.threads, CHUNKED_INPUT_LIMIT,
                   'PostgreSQL' if self.postgresql else 'SQLite'))

    @staticmethod
    def version(distribution):
        python = os.path.join(VENV, 'bin', 'python')
        done = subprocess.run(
            [python, '-c', 'import importlib.metadata as m; '
             'print(m.version(%r))' % distribution],
            capture_output=True, text=True)
        return done.stdout.strip() or '?'

    def _configure(self, bindir):
        os.makedirs(self.config_dir, exist_ok=True)
        paste_ini = os.path.join(VENV, 'etc', 'glance',
                                 'glance-api-paste.ini')
        stores = {name: os.path.join(self.workdir, name)
                  for name in ('images', 'staging', 'tasks')}
        for path in stores.values():
            os.makedirs(path, exist_ok=True)
        conf = {
            'DEFAULT': {
                'enabled_backends': 'fs:file',
                'log_file': self.glance_log,
                'debug': 'false',
                'worker_self_reference_url': 'http://127.0.0.1:%d'
                                             % self.port,
                # Image API v2 only: no import methods are used.
                'enabled_import_methods': '[]',
            },
            'database': {'connection': self._database_url(bindir)},
            # No flavor: the plain glance-api pipeline, whose 'default'
            # (no keystone) gives every request an admin context.
            'paste_deploy': {'flavor': '', 'config_file': paste_ini},
            'glance_store': {'default_backend': 'fs'},
            'fs': {'filesystem_store_datadir': stores['images']},
            'os_glance_staging_store': {
                'filesystem_store_datadir': stores['staging']},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': stores['tasks']},
        }
        conf['oslo_policy'] = {'policy_file': self._allow_all_policy(bindir)}
        conf_file = os.path.join(self.config_dir, 'glance-api.conf')
        with open(conf_file, 'w') as f:
            f.write(_ini(conf))
        _run([os.path.join(bindir, 'glance-manage'), '--config-file',
              conf_file, 'db_sync'])
        uwsgi = {'uwsgi': {
            'http-socket': '127.0.0.1:%d' % self.port,
            'http-chunked-input': 'true',
            'chunked-input-limit': CHUNKED_INPUT_LIMIT,
            'chunked-input-timeout': 300,
            'add-header': 'Connection: close',
            'post-buffering': 0,
            'limit-post': 0,
            'buffer-size': 65535,
            'socket-timeout': 300,
            'harakiri': 0,
            'home': VENV,
            'wsgi-file': os.path.join(
                VENV, 'lib', 'python%d.%d' % sys.version_info[:2],
                'site-packages', 'glance', 'wsgi', 'api.py'),
            'env': 'OS_GLANCE_CONFIG_DIR=%s' % self.config_dir,
            'need-app': 'true',
            'master': 'true',
            'processes': self.processes,
            'threads': self.threads,
            'enable-threads': 'true',
            'lazy-apps': 'true',
            'die-on-term': 'true',
            'disable-logging': 'true',
        }}
        ini_file = os.path.join(self.workdir, 'uwsgi.ini')
        with open(ini_file, 'w') as f:
            f.write(_ini(uwsgi))
        return ini_file

    def _database_url(self, bindir):
        if not self.postgresql:
            return 'sqlite:///' + os.path.join(self.workdir, 'glance.sqlite')
        self.database = 'bench_glance_%d_%d' % (os.getpid(), self.port)
        self._admin_sql(bindir, 'CREATE DATABASE %s' % self.database)
        admin = self.postgresql.replace('postgresql://',
                                        'postgresql+psycopg2://', 1)
        return admin.rsplit('/', 1)[0] + '/' + self.database

    def _admin_sql(self, bindir, statement):
        _run([os.path.join(bindir, 'python'), '-c',
              'import sqlalchemy as sa, sys\n'
              'engine = sa.create_engine(sys.argv[1].replace('
              '"postgresql://", "postgresql+psycopg2://", 1), '
              'isolation_level="AUTOCOMMIT")\n'
              'with engine.connect() as c: c.execute(sa.text(sys.argv[2]))',
              self.postgresql, statement])

    def _allow_all_policy(self, bindir):
        """A policy file allowing every Glance rule to everyone.

        Without keystone the request context has no roles, and Glance's
        defaults need ``role:admin`` or a project member to create or
        upload an image.
        """
        done = _run([os.path.join(bindir, 'python'), '-c',
                     'from glance import policies\n'
                     'for rule in policies.list_rules():\n'
                     '    print(\'"%s": ""\' % rule.name)'])
        path = os.path.join(self.config_dir, 'policy.yaml')
        with open(path, 'w') as f:
            f.write(done.stdout)
        return path

    def start(self, timeout=START_TIMEOUT, detach=False):
        """Install if needed, configure, start and wait until Glance
        answers ``GET /versions``. ``detach`` puts uWSGI in its own
        session, so that it outlives the calling script."""
        bindir = ensure_installed()
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        ini_file = self._configure(bindir)
        log = open(self.log_file, 'ab')
        try:
            self.process = subprocess.Popen(
                [os.path.join(bindir, 'uwsgi'), '--ini', ini_file],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=detach)
        finally:
            log.close()
        self.pid = self.process.pid
        try:
            self._wait_until_up(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_up(self, timeout):
        deadline = time.monotonic() + timeout
        last = 'no answer'
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise GlanceError('uWSGI exited (%d):\n%s' % (
                    self.process.returncode, self.log_tail()))
            try:
                with urllib.request.urlopen(self.url + '/versions',
                                            timeout=5) as answer:
                    answer.read()
                    return
            except urllib.error.HTTPError as error:
                if error.code == 300:  # the version list
                    return
                last = 'status %d' % error.code
            except OSError as error:
                last = str(error)
            time.sleep(0.2)
        raise GlanceError('Glance did not answer within %.0f s (%s):\n%s'
                          % (timeout, last, self.log_tail()))

    def log_tail(self, lines=30):
        text = []
        for path in (self.log_file, self.glance_log):
            try:
                with open(path, errors='replace') as f:
                    text.extend(f.readlines()[-lines:])
            except OSError:
                pass
        return ''.join(text)

    def stop(self, remove=True):
        """Stop uWSGI by PID (SIGTERM, SIGKILL after STOP_TIMEOUT) and
        remove the work directory."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        elif self.pid:
            stop_pid(self.pid)
        if self.database:
            self._admin_sql(os.path.join(VENV, 'bin'),
                            'DROP DATABASE IF EXISTS %s' % self.database)
            self.database = None
        if remove:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_pid(pid, timeout=STOP_TIMEOUT):
    """SIGTERM a server that is not our child, SIGKILL if it lingers."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('start', 'run'):
        command = sub.add_parser(name)
        command.add_argument('--processes', type=int, default=2)
        command.add_argument('--threads', type=int, default=8)
        command.add_argument('--postgresql', metavar='ADMIN_URL',
                             help='catalogue in a new database there '
                                  '(default: SQLite)')
    sub.add_parser('install')
    stop = sub.add_parser('stop')
    stop.add_argument('pid', type=int)
    args = parser.parse_args(argv)

    if args.command == 'install':
        print(ensure_installed(quiet=False))
        return 0
    if args.command == 'stop':
        record = os.path.join(PID_DIR, str(args.pid))
        if not os.path.exists(record):
            print('no Glance server started by this script has PID %d'
                  % args.pid, file=sys.stderr)
            return 1
        with open(record) as f:
            started = json.load(f)
        glance = GlanceServer(workdir=started['workdir'],
                              postgresql=started['postgresql'])
        glance.pid, glance.database = args.pid, started['database']
        glance.stop()
        os.remove(record)
        print('stopped %d' % args.pid)
        return 0
    glance = GlanceServer(args.processes, args.threads,
                          postgresql=args.postgresql)
    glance.start(detach=args.command == 'start')
    print('url %s\npid %d\nworkdir %s\n%s' % (
        glance.url, glance.pid, glance.workdir, glance.describe()),
        flush=True)
    if args.command == 'start':
        os.makedirs(PID_DIR, exist_ok=True)
        with open(os.path.join(PID_DIR, str(glance.pid)), 'w') as f:
            json.dump({'workdir': glance.workdir,
                       'postgresql': glance.postgresql,
                       'database': glance.database}, f)
        return 0
    try:
        glance.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        glance.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
