"""Serve glance_lite with a real uWSGI for a test, from the shipped sample
``etc/uwsgi/glance-lite.ini``.

:class:`UWSGI` copies the sample into a temporary directory, changing only
what is specific to the test — the address (a free port on 127.0.0.1),
``home`` (this virtualenv), GLANCE_LITE_CONFIG_FILES (the test's
glance-lite.conf, state in the temporary directory) and ``uid``/``gid``
(the unprivileged test user when running as root, see tests/apache.py;
dropped otherwise) — runs ``uwsgi --ini`` in the foreground and stops it by
PID.
"""

import os
import re
import shutil
import sys
import tempfile


from tests import apache as test_apache
from tests import processes

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(TOP, 'etc', 'uwsgi', 'glance-lite.ini')
UWSGI_BIN = os.path.join(os.path.dirname(sys.executable), 'uwsgi')


class UWSGIError(RuntimeError):
    """uWSGI could not be configured or started."""


def _replace(text, key, new_lines):
    """Replace the one ``key = ...`` line of text by new_lines."""
    pattern = re.compile(r'^%s\s*=.*$' % re.escape(key), re.MULTILINE)
    if len(pattern.findall(text)) != 1:
        raise UWSGIError('%s must set %s exactly once' % (SAMPLE, key))
    return pattern.sub(lambda m: '\n'.join(new_lines), text)


class UWSGI:
    """glance_lite under uWSGI.

    :param config: {section: {option: value}} for glance-lite.conf, over
        the test defaults (noauth, state in the temporary directory).
    :param router: serve through the sample's HTTP router (``http =
        ...``, the default); False: HTTP straight to the workers
        (``http-socket = ...``, the router's options left out).
    :param config_file: serve this glance-lite.conf instead (tests/
        server.py's servers); its directory is given to the service user.

    After :meth:`start`: ``url``, ``port``, ``pid`` (the master),
    ``workdir``, ``state_path``, ``config_file``, ``ini_file``,
    ``log_file`` (uWSGI's output), ``api_log`` (glance_lite's).
    """

    def __init__(self, config=None, router=True, config_file=None):
        if not os.path.exists(UWSGI_BIN):
            raise UWSGIError('%s is missing: run tools/setup-venv.sh'
                             % UWSGI_BIN)
        self.user, self.group, self.uid, self.gid = (
            test_apache.service_account())
        self.router = router
        self.workdir = tempfile.mkdtemp(prefix='glance-lite-uwsgi-')
        self.ini_file = os.path.join(self.workdir, 'uwsgi.ini')
        self.log_file = os.path.join(self.workdir, 'uwsgi.log')
        # Writing "q" to it stops uWSGI gracefully.
        self.master_fifo = os.path.join(self.workdir, 'uwsgi.fifo')
        self.config_dir = None
        if config_file is not None:
            self.config_file = config_file
            self.config_dir = os.path.dirname(config_file)
            self.state_path = self.api_log = None
            return self._init_done()
        self.state_path = os.path.join(self.workdir, 'state')
        os.makedirs(self.state_path)
        self.config_file = os.path.join(self.workdir, 'glance-lite.conf')
        self.api_log = os.path.join(self.workdir, 'api.log')
        sections = {
            'DEFAULT': {'state_path': self.state_path,
                        'log_file': self.api_log, 'debug': 'false'},
            'paste_deploy': {'flavor': 'noauth'},
        }
        for section, options in (config or {}).items():
            sections.setdefault(section, {}).update(options)
        with open(self.config_file, 'w') as f:
            f.write(test_apache.ini(sections))
        self._init_done()

    def _init_done(self):
        self.process = None
        self.pid = None
        self.port = None
        self.url = None

    def _write_ini(self):
        with open(SAMPLE) as f:
            text = f.read()
        address = '127.0.0.1:%d' % self.port
        if self.router:
            text = _replace(text, 'http', ['http = %s' % address])
        else:
            text = _replace(text, 'http', ['http-socket = %s' % address])
            for option in ('http-manage-expect', 'http-chunked-input',
                           'http-timeout'):
                text = _replace(text, option, [])
        text = _replace(text, 'home', ['home = %s' % sys.prefix])
        text = _replace(text, 'master-fifo',
                        ['master-fifo = %s' % self.master_fifo])
        text = _replace(text, 'env', [
            'env = GLANCE_LITE_CONFIG_FILES=%s' % self.config_file])
        if os.geteuid() == 0:
            text = _replace(text, 'uid', ['uid = %s' % self.user])
            text = _replace(text, 'gid', ['gid = %s' % self.group])
        else:
            text = _replace(text, 'uid', [])
            text = _replace(text, 'gid', [])
        with open(self.ini_file, 'w') as f:
            f.write(text)

    def start(self, timeout=60, attempts=3):
        """Start uWSGI on a free port and wait until glance_lite answers
        GET /versions. Raises UWSGIError with the log."""
        for attempt in range(attempts):
            self.port = test_apache.free_port()
            self.url = 'http://127.0.0.1:%d' % self.port
            try:
                self._write_ini()
                test_apache.give_tree(self.workdir, self.uid, self.gid)
                if self.config_dir:
                    test_apache.give_tree(self.config_dir, self.uid,
                                          self.gid)
                return self._start(timeout)
            except UWSGIError:
                taken = 'Address already in use' in test_apache.tail(
                    self.log_file)
                self.stop(remove=False)
                if not taken or attempt == attempts - 1:
                    # The error carries the logs: remove the directory
                    # (unless GLANCE_LITE_KEEP_TEST_DIRS is set).
                    self.stop()
                    raise

    def _start(self, timeout):
        self.process = processes.spawn_server(
            [UWSGI_BIN, '--ini', self.ini_file], self.log_file, self.workdir)
        self.pid = self.process.pid
        try:
            processes.wait_http(self.url + '/versions', self.process,
                                timeout, self.logs)
        except RuntimeError as e:
            raise UWSGIError('glance_lite through uWSGI: %s' % e)
        return self

    def logs(self):
        text = '--- uwsgi.log\n%s' % test_apache.tail(self.log_file)
        if self.api_log:
            text += '\n--- api.log\n%s' % test_apache.tail(self.api_log)
        return text

    def stop(self, remove=True):
        """Stop uWSGI by PID: SIGTERM to the master (die-on-term), which
        stops its workers; any still alive after it exited is killed by
        its own PID. Removes the temporary directory unless asked not to
        (or GLANCE_LITE_KEEP_TEST_DIRS is set)."""
        if self.process is not None:
            processes.stop_with_children(self.process)
            self.process = None
        if remove and not os.environ.get('GLANCE_LITE_KEEP_TEST_DIRS'):
            shutil.rmtree(self.workdir, ignore_errors=True)
