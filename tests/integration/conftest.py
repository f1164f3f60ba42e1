"""The integration tests' real OpenStack Keystone (tests/keystone.py).

``keystone`` (session scope) is a running, seeded
:class:`tests.keystone.Keystone`. It is started once per test run: the
pytest-xdist workers share one server through a state file and a lock in
the run's common temporary directory; the last worker to finish with it
stops it by PID (workers that died without tearing down are not waited
for). Keystone is installed by tools/keystone/setup.sh (run here when
needed). When Keystone cannot be installed or started, every
test that uses it fails with the server's log: it is never skipped.
"""

import contextlib
import fcntl
import json
import os
import subprocess
import tempfile

import pytest

from tests import keystone as ks_mod


@contextlib.contextmanager
def _locked(path):
    with open(path, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write(path, state):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, path)


def _install():
    """Run tools/keystone/setup.sh (a no-op when .keystone-venv is up to
    date); fail with its output when it does not succeed."""
    result = subprocess.run(['bash', ks_mod.SETUP_SCRIPT],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        pytest.fail('%s failed (exit %d), Keystone is not installed:\n%s'
                    % (ks_mod.SETUP_SCRIPT, result.returncode,
                       result.stdout), pytrace=False)


def _shared_dir(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        # Each worker's basetemp is <run>/popen-gwN: share <run>.
        base = base.parent
    path = base / 'keystone'
    path.mkdir(exist_ok=True)
    return str(path)


@pytest.fixture(scope='session')
def keystone(tmp_path_factory):
    """A running Keystone seeded with tests.keystone.ACCOUNTS; see
    tests.keystone.Keystone for its attributes."""
    shared = _shared_dir(tmp_path_factory)
    state_file = os.path.join(shared, 'state.json')
    lock = os.path.join(shared, 'lock')
    me = os.getpid()
    with _locked(lock):
        state = _read(state_file)
        if state and state.get('error'):
            # Another worker tried and failed: the same failure, at once.
            pytest.fail(state['error'], pytrace=False)
        if state and not ks_mod._gone(state['keystone']['pid']):
            server = ks_mod.Keystone.from_state(state['keystone'])
            state['holders'].append(me)
        else:
            _install()
            server = ks_mod.Keystone()
            try:
                server.start(tempfile.mkdtemp(prefix='run-', dir=shared))
            except ks_mod.KeystoneError as e:
                _write(state_file, {'error': str(e)})
                pytest.fail(str(e), pytrace=False)
            state = {'keystone': server.to_state(), 'holders': [me]}
        _write(state_file, state)
    yield server
    with _locked(lock):
        state = _read(state_file)
        if state and state.get('keystone', {}).get('pid') == server.pid:
            # Workers that died without their teardown do not count.
            holders = [pid for pid in state['holders']
                       if pid != me and not ks_mod._gone(pid)]
            if holders:
                state['holders'] = holders
                _write(state_file, state)
                return
            os.unlink(state_file)
            server.stop()
        elif server.process is not None:
            # Not in the shared state (cannot happen unless the file was
            # removed), but this process started it: stop it anyway.
            server.stop()
