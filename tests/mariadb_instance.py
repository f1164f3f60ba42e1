"""A private MariaDB server for one test: its own datadir
(mariadb-install-db) in a temporary directory, on a free loopback port
with its own socket and pid file, that the test may stop (``crash``:
SIGKILL; ``clean``: SIGTERM and wait) and start again on the same port
and data, to see what the API does while its catalogue database is away.

mariadbd runs with --no-defaults (the machine's own server and its
configuration are not touched) and --user=mysql, since MariaDB refuses
to run as root otherwise. root has no password. A machine without the
binaries makes the test fail, never skip.

    with MariaDBInstance() as db:
        url = db.create_database('glance')
        ...
        db.stop('crash'); ...; db.start()
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import sqlalchemy as sa

OS_USER = 'mysql'


def _program(*names):
    for name in names:
        found = shutil.which(name) or shutil.which(name, path='/usr/sbin')
        if found:
            return found
    raise RuntimeError('none of %s found (install the mariadb-server '
                       'package)' % ', '.join(names))


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class MariaDBInstance:
    """A MariaDB server of its own, started by ``start()``.

    :param port: the port to listen on (default: a free one, kept for
        every restart so that clients find the server again).
    """

    def __init__(self, port=None):
        self.server = _program('mariadbd', 'mysqld')
        install = _program('mariadb-install-db', 'mysql_install_db')
        self.port = port or _free_port()
        self.tmpdir = tempfile.mkdtemp(prefix='glance-lite-mariadb-')
        self.datadir = os.path.join(self.tmpdir, 'data')
        self.socket = os.path.join(self.tmpdir, 'mariadb.sock')
        self.pid_file = os.path.join(self.tmpdir, 'mariadb.pid')
        self.log_file = os.path.join(self.tmpdir, 'mariadb.log')
        self.process = None
        user = pwd.getpwnam(OS_USER)
        # mkdtemp makes the directory 0700 for root: hand it over.
        os.chown(self.tmpdir, user.pw_uid, user.pw_gid)
        try:
            done = subprocess.run(
                [install, '--no-defaults', '--datadir=' + self.datadir,
                 '--user=' + OS_USER, '--skip-test-db',
                 '--auth-root-authentication-method=normal'],
                capture_output=True, text=True, timeout=120, cwd=self.tmpdir)
            if done.returncode != 0:
                raise RuntimeError('%s failed (%d): %s%s' % (
                    install, done.returncode, done.stdout, done.stderr))
        except BaseException:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            raise

    def log(self):
        """The server's log so far (for failure messages)."""
        try:
            with open(self.log_file) as f:
                return f.read()
        except OSError:
            return ''

    @property
    def admin_url(self):
        return 'mysql+pymysql://root@127.0.0.1:%d/mysql' % self.port

    def start(self, timeout=60):
        """Start the server (again, after ``stop``) and wait until it
        accepts connections."""
        self.process = subprocess.Popen(
            [self.server, '--no-defaults', '--datadir=' + self.datadir,
             '--user=' + OS_USER, '--bind-address=127.0.0.1',
             '--port=%d' % self.port, '--socket=' + self.socket,
             '--pid-file=' + self.pid_file, '--log-error=' + self.log_file,
             '--skip-log-bin', '--max-connections=200',
             # The data need not survive a machine crash; a SIGKILL of the
             # server alone leaves the log in the page cache.
             '--innodb-flush-log-at-trx-commit=2',
             '--innodb-buffer-pool-size=64M'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        engine = sa.create_engine(self.admin_url, poolclass=sa.pool.NullPool)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError('mariadbd exited (%d):\n%s' % (
                        self.process.returncode, self.log()))
                try:
                    with engine.connect():
                        return self
                except sa.exc.OperationalError:
                    if time.monotonic() > deadline:
                        raise RuntimeError('mariadbd did not accept '
                                           'connections:\n' + self.log())
                    time.sleep(0.1)
        finally:
            engine.dispose()

    def stop(self, mode='clean', timeout=60):
        """Stop the server: ``crash`` kills it (SIGKILL: every connection
        cut at once, InnoDB recovery at the next start), ``clean`` shuts
        it down (SIGTERM) and waits."""
        if self.process is None or self.process.poll() is not None:
            return
        if mode not in ('crash', 'clean'):
            raise ValueError('mode is crash or clean, not %r' % mode)
        self.process.send_signal(signal.SIGKILL if mode == 'crash'
                                 else signal.SIGTERM)
        self.process.wait(timeout)

    def pid(self):
        """The server's PID, or None when it is not running."""
        if self.process is None or self.process.poll() is not None:
            return None
        return self.process.pid

    def create_database(self, name):
        """Create database ``name``; returns its SQLAlchemy URL."""
        engine = sa.create_engine(self.admin_url,
                                  isolation_level='AUTOCOMMIT',
                                  poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(
                    'CREATE DATABASE %s CHARACTER SET utf8mb4' % name)
        finally:
            engine.dispose()
        return 'mysql+pymysql://root@127.0.0.1:%d/%s?charset=utf8mb4' % (
            self.port, name)

    def destroy(self):
        """Kill the server by its PID and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
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
