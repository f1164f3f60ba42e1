"""Several processes loading the application at once on a new embedded
SQLite catalogue — mod_wsgi's daemon processes, uWSGI's workers — all
start, and the catalogue they create is usable."""

import os
import sqlite3
import subprocess
import sys
import time

from glance_lite.db import migration

PROCESSES = 6

# Each process imports first, then waits for the others, so that they
# all create the catalogue at the same moment.
LOAD = '''
import os, sys, time
from glance_lite.api import app
config, ready, go = sys.argv[1:]
open(ready, 'w').close()
while not os.path.exists(go):
    time.sleep(0.005)
app.prepare_service(['--config-file', config])
app.load_app()
'''


def test_processes_starting_together_on_a_new_catalogue(tmp_path):
    state = tmp_path / 'state'
    config = tmp_path / 'glance-lite.conf'
    config.write_text('[DEFAULT]\nstate_path = %s\nlog_file = %s\n'
                      % (state, tmp_path / 'api.log'))
    env = dict(os.environ)
    env.pop('GLANCE_LITE_CONFIG_FILES', None)
    go = tmp_path / 'go'
    ready = [tmp_path / ('ready-%d' % i) for i in range(PROCESSES)]
    procs = [subprocess.Popen(
        [sys.executable, '-c', LOAD, str(config), str(ready[i]), str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        for i in range(PROCESSES)]
    deadline = time.monotonic() + 120
    while not all(path.exists() for path in ready):
        assert time.monotonic() < deadline, 'the processes did not start'
        assert all(p.poll() is None for p in procs), 'a process exited'
        time.sleep(0.01)
    go.touch()
    outputs = [p.communicate(timeout=120)[0].decode(errors='replace')
               for p in procs]
    failed = [(p.returncode, out[-2000:]) for p, out in zip(procs, outputs)
              if p.returncode != 0]
    log = (tmp_path / 'api.log').read_text(errors='replace')
    assert not failed, log[-3000:]
    assert 'CRITICAL' not in log
    with sqlite3.connect(str(state / 'glance-lite.sqlite')) as db:
        tables = {row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        [(version,)] = db.execute('SELECT version_num FROM alembic_version')
    assert 'images' in tables
    assert version == migration.head_version()
