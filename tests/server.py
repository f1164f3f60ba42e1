"""Start a real glance-lite-api process for a test: its own free port, its
own temporary state directory and config file, stopped by PID."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests

BIN_DIR = os.path.dirname(sys.executable)


def _ini(sections):
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for key, value in options.items():
            lines.append('%s = %s' % (key, value))
        lines.append('')
    return '\n'.join(lines)


class Server:
    """A running glance-lite-api.

    :param config: {section: {option: value}} merged over the test
        defaults (noauth flavor, state under a fresh temp directory).
    """

    def __init__(self, config=None, workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix='glance-lite-')
        self.state_path = os.path.join(self.workdir, 'state')
        self.datadir = os.path.join(self.state_path, 'images')
        self.log_file = os.path.join(self.workdir, 'api.log')
        sections = {
            'DEFAULT': {'bind_host': '127.0.0.1', 'bind_port': 0,
                        'state_path': self.state_path,
                        'log_file': self.log_file, 'debug': 'false'},
            'paste_deploy': {'flavor': 'noauth'},
        }
        for section, options in (config or {}).items():
            sections.setdefault(section, {}).update(options)
        self.config_file = os.path.join(self.workdir, 'glance-lite.conf')
        with open(self.config_file, 'w') as f:
            f.write(_ini(sections))
        self.process = None
        self.url = None

    def start(self, timeout=30):
        self._stdout = open(os.path.join(self.workdir, 'stdout'), 'w+')
        self.process = subprocess.Popen(
            [os.path.join(BIN_DIR, 'glance-lite-api'), '--config-file',
             self.config_file],
            stdout=self._stdout, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('glance-lite-api exited: %s'
                                   % self.output())
            match = re.search(r'listening on (http://[\d.]+:\d+)',
                              self.output())
            if match:
                self.url = match.group(1)
                requests.get(self.url + '/versions', timeout=5)
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError('glance-lite-api did not start: %s'
                           % self.output())

    def output(self):
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
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if remove and not os.environ.get('GLANCE_LITE_KEEP_TEST_DIRS'):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def stored_files(self):
        """Names of the files in the file store's directory."""
        if not os.path.isdir(self.datadir):
            return []
        return sorted(os.listdir(self.datadir))
