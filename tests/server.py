"""Start a real glance-lite-api process for a test: its own free port, its
own temporary state directory, config file and catalogue, stopped by PID.

GLANCE_LITE_TEST_DB chooses the catalogue's engine: ``sqlite`` (the
default: the embedded file under the state directory, created by the API
itself), ``postgresql`` or ``mysql``. For the last two each server gets a
fresh, uniquely-named database through the admin URLs of tests/databases.py,
migrated with ``glance-lite-manage db sync`` as an operator would, and
dropped with the server's directory.

GLANCE_LITE_TEST_SERVER chooses what serves the application:
``standalone`` (the default: ``glance-lite-api``), ``apache`` (Debian's
Apache httpd with the shipped site, tests/apache.py) or ``uwsgi`` (the
shipped uWSGI sample, tests/uwsgi_server.py). The server's configuration
file, state directory and catalogue are the same for all three; what only
the standalone server has (its own process's memory, a command prefix)
skips the test that asks for it under the others.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import requests
import sqlalchemy as sa

from tests import databases
from tests import processes

BIN_DIR = os.path.dirname(sys.executable)
DB_KIND = os.environ.get('GLANCE_LITE_TEST_DB') or 'sqlite'
if DB_KIND not in databases.ENGINES:
    raise RuntimeError('GLANCE_LITE_TEST_DB=%s: expected one of %s'
                       % (DB_KIND, ', '.join(databases.ENGINES)))
SERVER_KINDS = ('standalone', 'apache', 'uwsgi')
SERVER_KIND = os.environ.get('GLANCE_LITE_TEST_SERVER') or 'standalone'
if SERVER_KIND not in SERVER_KINDS:
    raise RuntimeError('GLANCE_LITE_TEST_SERVER=%s: expected one of %s'
                       % (SERVER_KIND, ', '.join(SERVER_KINDS)))
# The server database of a work directory, kept there so that a server
# restarted on the same directory finds the same catalogue.
_DATABASE_FILE = 'database.json'


class Server:
    """A running glance-lite-api.

    :param config: {section: {option: value}} merged over the test
        defaults (noauth flavor, state under a fresh temp directory, the
        catalogue on the engine GLANCE_LITE_TEST_DB names).
    :param workdir: reuse the directory (and the catalogue) of a server
        stopped with ``stop(remove=False)``.
    :param run_under: a command prefix the server is started under (for
        example setpriv, to drop capabilities).
    """

    def __init__(self, config=None, workdir=None, run_under=()):
        if run_under and SERVER_KIND != 'standalone':
            _standalone_only('a command prefix for glance-lite-api')
        self.workdir = workdir or tempfile.mkdtemp(prefix='glance-lite-')
        self.run_under = list(run_under)
        self.kind = SERVER_KIND
        self.front = None
        self.state_path = os.path.join(self.workdir, 'state')
        self.datadir = os.path.join(self.state_path, 'images')
        self.log_file = os.path.join(self.workdir, 'api.log')
        given = (config or {}).get('database', {}).get('connection')
        if given:
            # The test's own database (or an unreachable one): not created,
            # migrated or dropped here.
            self.db_kind, self.db_name, self.database_url = (
                sa.engine.make_url(given).get_backend_name(), None, given)
        else:
            self.db_kind, self.db_name, self.database_url = self._database()
        sections = {
            'DEFAULT': {'bind_host': '127.0.0.1', 'bind_port': 0,
                        'state_path': self.state_path,
                        'log_file': self.log_file, 'debug': 'false',
                        # The remote sources of the tests listen on
                        # loopback, which the service refuses by default
                        # (tests/security override this).
                        'external_source_allowed_networks': '127.0.0.0/8'},
            'paste_deploy': {'flavor': 'noauth'},
        }
        if self.db_name:
            sections['database'] = {'connection': self.database_url}
        for section, options in (config or {}).items():
            sections.setdefault(section, {}).update(options)
        self._sections = sections
        self.config_file = os.path.join(self.workdir, 'glance-lite.conf')
        with open(self.config_file, 'w') as f:
            f.write(processes.ini(sections))
        self.process = None
        self.url = None

    def _database(self):
        """(engine, database name, URL) of this server's catalogue: the
        one recorded in the work directory, else a new one."""
        record = os.path.join(self.workdir, _DATABASE_FILE)
        if os.path.exists(record):
            with open(record) as f:
                kept = json.load(f)
            return kept['kind'], kept['name'], kept['url']
        if DB_KIND == 'sqlite':
            # The embedded default ($state_path/glance-lite.sqlite), which
            # the API creates and migrates itself.
            return ('sqlite', None, 'sqlite:///' + os.path.join(
                self.state_path, 'glance-lite.sqlite'))
        database = databases.Database(DB_KIND)
        with open(record, 'w') as f:
            json.dump({'kind': database.kind, 'name': database.name,
                       'url': database.url}, f)
        return database.kind, database.name, database.url

    def rewrite_config(self, config):
        """Merge {section: {option: value}} into this server's
        configuration file (a value of None removes the option); the
        running server sees it only when it reloads."""
        for section, options in config.items():
            current = self._sections.setdefault(section, {})
            for name, value in options.items():
                if value is None:
                    current.pop(name, None)
                else:
                    current[name] = value
        with open(self.config_file, 'w') as f:
            f.write(processes.ini(self._sections))

    def manage(self, *args):
        """Run ``glance-lite-manage --config-file <this server's> ARGS``;
        returns the finished process (stdout and stderr as text)."""
        return subprocess.run(
            [os.path.join(BIN_DIR, 'glance-lite-manage'), '--config-file',
             self.config_file] + list(args),
            capture_output=True, text=True, timeout=120)

    def start(self, timeout=90):
        """Start the server and wait until it answers. A server that does
        not come up is stopped, its directory and database removed (the
        error carries its output)."""
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout):
        if self.db_name:
            # A server database of our own: only the embedded SQLite
            # catalogue migrates itself.
            synced = self.manage('db', 'sync')
            if synced.returncode != 0:
                raise RuntimeError('glance-lite-manage db sync failed: %s%s'
                                   % (synced.stdout, synced.stderr))
        self._stdout = open(os.path.join(self.workdir, 'stdout'), 'w+')
        if self.kind != 'standalone':
            return self._start_front(timeout)
        self.process = subprocess.Popen(
            self.run_under + [os.path.join(BIN_DIR, 'glance-lite-api'),
                              '--config-file', self.config_file],
            stdout=self._stdout, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('glance-lite-api exited: %s'
                                   % self.output())
            match = re.search(r'listening on (https?://[\d.]+:\d+)',
                              self.output())
            if match:
                self.url = match.group(1)
                requests.get(self.url + '/versions', timeout=5)
                return self
            time.sleep(0.1)
        raise RuntimeError('glance-lite-api did not start: %s'
                           % self.output())

    def _start_front(self, timeout):
        # Imported here: tests/apache.py and tests/uwsgi_server.py need
        # what tools/apache/setup.sh installs.
        from tests import apache
        self._share_test_files(apache)
        if self.kind == 'apache':
            self.front = apache.Apache(config_file=self.config_file)
        else:
            from tests import uwsgi_server
            self.front = uwsgi_server.UWSGI(config_file=self.config_file)
        self.front.start(timeout=timeout)
        self.process = self.front.process
        self.url = self.front.url
        return self

    def _share_test_files(self, apache):
        """Let the service user (the application's under Apache and uWSGI
        when running as root) use the files of the test's own temporary
        directories that the configuration names (a logging.conf, a policy
        file, a log file to write): their directory becomes its, and the
        directories above it searchable (o+x, as tools/apache/setup.sh does
        for /root)."""
        if os.geteuid() != 0:
            return
        user, group, uid, gid = apache.service_account()
        tmp = os.path.realpath(tempfile.gettempdir())
        for options in self._sections.values():
            for value in options.values():
                value = str(value)
                if not os.path.isabs(value):
                    continue
                directory = os.path.dirname(os.path.realpath(value))
                if (not directory.startswith(tmp + os.sep) or
                        directory.startswith(
                            os.path.realpath(self.workdir))):
                    continue
                if not os.path.isdir(directory):
                    continue
                apache.give_tree(directory, uid, gid)
                parent = os.path.dirname(directory)
                while parent != tmp and parent.startswith(tmp):
                    mode = os.stat(parent).st_mode
                    os.chmod(parent, mode | 0o001)
                    parent = os.path.dirname(parent)

    def output(self):
        if self.front is not None:
            return self.front.logs()
        self._stdout.flush()
        with open(self._stdout.name) as f:
            return f.read()

    def log(self):
        if not os.path.exists(self.log_file):
            return ''
        with open(self.log_file) as f:
            return f.read()

    def stop(self, remove=True):
        """Stop the server by PID; remove its directory unless asked to
        keep it (or GLANCE_LITE_KEEP_TEST_DIRS is set, for debugging)."""
        if self.front is not None:
            self.front.stop()
            self.front = None
        elif self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if remove and not os.environ.get('GLANCE_LITE_KEEP_TEST_DIRS'):
            if self.db_name:
                databases.drop_database(self.db_kind, self.db_name)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def execute_sql(self, sql, params=None):
        """Run one SQL statement on this server's catalogue, in its own
        transaction, for what no API call can do (a v2-only status, past
        timestamps). ``params`` are bound as ``:name``; datetimes are
        stored as the catalogue stores them on every engine. Returns the
        number of rows changed."""
        params = dict(params or {})
        statement = sa.text(sql).bindparams(*[
            sa.bindparam(name, type_=sa.DateTime())
            for name, value in params.items()
            if isinstance(value, datetime.datetime)])
        connect_args = {'timeout': 30} if self.db_kind == 'sqlite' else {}
        engine = sa.create_engine(self.database_url,
                                  poolclass=sa.pool.NullPool,
                                  connect_args=connect_args)
        try:
            with engine.begin() as connection:
                return connection.execute(statement, params).rowcount
        finally:
            engine.dispose()

    def peak_rss(self):
        """The server process's peak resident memory so far, in bytes."""
        return self._proc_status_bytes('VmHWM:')

    def rss(self):
        """The server process's resident memory now, in bytes."""
        return self._proc_status_bytes('VmRSS:')

    def _proc_status_bytes(self, field):
        if self.kind != 'standalone':
            _standalone_only('the memory of the glance-lite-api process')
        with open('/proc/%d/status' % self.process.pid) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
        raise RuntimeError('no %s for the server process' % field)

    def stored_files(self):
        """Names of the files in the file store's directory."""
        if not os.path.isdir(self.datadir):
            return []
        return sorted(os.listdir(self.datadir))

    def stored_sizes(self):
        """{file name: size in bytes} of the file store's directory (the
        file store names each image's file after the image id)."""
        return {name: os.path.getsize(os.path.join(self.datadir, name))
                for name in self.stored_files()}


def _standalone_only(what):
    """Skip the calling test: it needs what only glance-lite-api has."""
    pytest.skip('GLANCE_LITE_TEST_SERVER=%s: %s is the standalone '
                'server\'s only' % (SERVER_KIND, what))
