"""A private PostgreSQL server for one test: its own cluster (initdb) in a
temporary directory, on a free loopback port, that the test may stop
(``-m immediate``: a crash; ``-m fast``: an orderly shutdown) and start
again on the same port and data, to see what the API does while its
catalogue database is away.

It runs the machine's PostgreSQL binaries (/usr/lib/postgresql/<newest
version>/bin, or GLANCE_LITE_TEST_PG_BIN) as the ``postgres`` user, since
PostgreSQL refuses to run as root. Trust authentication on 127.0.0.1
only; fsync is off (the data does not need to survive a machine crash,
and a stop with ``-m immediate`` is a crash of the server processes only,
which the operating system's page cache survives). A machine without the
binaries makes the test fail, never skip.

    with PostgresInstance() as pg:
        url = pg.create_database('glance')
        ...
        pg.stop('immediate'); ...; pg.start()
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import sqlalchemy as sa

OS_USER = 'postgres'
DEFAULT_BIN_GLOB = '/usr/lib/postgresql/*/bin'


def _bin_dir():
    given = os.environ.get('GLANCE_LITE_TEST_PG_BIN')
    if given:
        return given
    candidates = sorted(glob.glob(DEFAULT_BIN_GLOB),
                        key=lambda path: [int(part) for part in
                                          path.split('/')[-2].split('.')
                                          if part.isdigit()])
    if not candidates:
        raise RuntimeError('no PostgreSQL binaries under %s (install the '
                           'postgresql package, or set '
                           'GLANCE_LITE_TEST_PG_BIN)' % DEFAULT_BIN_GLOB)
    return candidates[-1]


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class PostgresInstance:
    """A PostgreSQL cluster of its own, started by ``start()``.

    :param port: the port to listen on (default: a free one, kept for
        every restart so that clients find the server again).
    """

    def __init__(self, port=None):
        self.bin_dir = _bin_dir()
        self.port = port or _free_port()
        self.tmpdir = tempfile.mkdtemp(prefix='glance-lite-pg-')
        self.datadir = os.path.join(self.tmpdir, 'data')
        self.socket_dir = self.tmpdir
        self.log_file = os.path.join(self.tmpdir, 'postgres.log')
        user = pwd.getpwnam(OS_USER)
        # mkdtemp makes the directory 0700 for root: hand it over.
        os.chown(self.tmpdir, user.pw_uid, user.pw_gid)
        try:
            self._run('initdb', '--pgdata', self.datadir, '--auth', 'trust',
                      '--username', 'postgres', '--encoding', 'UTF8',
                      '--locale', 'C', '--no-sync')
        except BaseException:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            raise

    def _run(self, program, *args, timeout=120, check=True):
        command = ['runuser', '-u', OS_USER, '--',
                   os.path.join(self.bin_dir, program)] + list(args)
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=timeout, cwd=self.tmpdir)
        if check and done.returncode != 0:
            raise RuntimeError('%s failed (%d): %s%s\n%s' % (
                program, done.returncode, done.stdout, done.stderr,
                self.log()))
        return done

    def log(self):
        """The server's log so far (for failure messages)."""
        try:
            with open(self.log_file) as f:
                return f.read()
        except OSError:
            return ''

    @property
    def admin_url(self):
        return 'postgresql+psycopg2://postgres@127.0.0.1:%d/postgres' % (
            self.port)

    def start(self, timeout=60):
        """Start the server (again, after ``stop``) and wait until it
        accepts connections."""
        options = ('-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off '
                   '-c max_connections=100' % (self.port, self.socket_dir))
        self._run('pg_ctl', '--pgdata', self.datadir, '--log', self.log_file,
                  '--options', options, '--wait', '--timeout', str(timeout),
                  'start', timeout=timeout + 30)
        return self

    def stop(self, mode='fast', timeout=60):
        """Stop the server: ``immediate`` kills it as a crash would (every
        connection cut at once, recovery at the next start), ``fast``
        rolls back open transactions and disconnects their clients."""
        self._run('pg_ctl', '--pgdata', self.datadir, '--mode', mode,
                  '--wait', '--timeout', str(timeout), 'stop',
                  timeout=timeout + 30)

    def pid(self):
        """The postmaster's PID, or None when it is not running."""
        try:
            with open(os.path.join(self.datadir, 'postmaster.pid')) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def create_database(self, name):
        """Create database ``name``; returns its SQLAlchemy URL."""
        engine = sa.create_engine(self.admin_url,
                                  isolation_level='AUTOCOMMIT',
                                  poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(
                    "CREATE DATABASE %s ENCODING 'UTF8'" % name)
        finally:
            engine.dispose()
        return 'postgresql+psycopg2://postgres@127.0.0.1:%d/%s' % (
            self.port, name)

    def destroy(self):
        """Stop the server by its PID (SIGQUIT: immediate shutdown) and
        remove its directory."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 30
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.pid() is not None:
                os.kill(pid, signal.SIGKILL)
        if not os.environ.get('GLANCE_LITE_KEEP_TEST_DIRS'):
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.destroy()
            raise

    def __exit__(self, *exc):
        self.destroy()
