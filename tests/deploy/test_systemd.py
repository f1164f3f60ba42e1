"""etc/systemd/glance-lite-api.service: what an operator relies on, and
``systemd-analyze verify`` (when systemd is installed) finding nothing
wrong with it."""

import os
import shutil
import subprocess
import sys

import pytest

TOP = os.path.join(os.path.dirname(__file__), '..', '..')
UNIT = os.path.join(TOP, 'etc', 'systemd', 'glance-lite-api.service')
EXEC_START = ('/opt/glance-lite/.venv/bin/glance-lite-api --config-file '
              '/etc/glance-lite/glance-lite.conf')


def _directives():
    """[(section, key, value)] in file order (keys may repeat)."""
    section, found = None, []
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(('#', ';')):
                continue
            if line.startswith('['):
                section = line.strip('[]')
                continue
            key, _, value = line.partition('=')
            found.append((section, key.strip(), value.strip()))
    return found


def _service(key):
    return [v for s, k, v in _directives() if s == 'Service' and k == key]


def test_runs_the_standalone_server_as_its_own_user():
    assert _service('ExecStart') == [EXEC_START]
    assert _service('User') == ['glance-lite']
    assert _service('Group') == ['glance-lite']
    assert _service('Restart') == ['on-failure']
    # systemctl reload sends SIGHUP: with workers, a reload in place.
    assert _service('ExecReload') == ['/bin/kill -HUP $MAINPID']
    assert ('Install', 'WantedBy', 'multi-user.target') in _directives()


def test_is_hardened_and_writes_only_to_its_state_and_log_dirs():
    assert _service('NoNewPrivileges') == ['yes']
    assert _service('ProtectSystem') == ['strict']
    assert _service('ReadWritePaths') == [
        '/var/lib/glance-lite /var/log/glance-lite']
    assert _service('StateDirectory') == ['glance-lite']
    assert _service('LogsDirectory') == ['glance-lite']
    assert _service('CapabilityBoundingSet') == ['']
    for key in ('ProtectHome', 'PrivateTmp', 'PrivateDevices',
                'RestrictSUIDSGID'):
        assert _service(key) == ['yes'], key


@pytest.mark.skipif(shutil.which('systemd-analyze') is None,
                    reason='systemd-analyze is not installed')
def test_systemd_analyze_verify_finds_nothing_wrong(tmp_path):
    # verify also checks that ExecStart's program exists: point it at this
    # checkout's glance-lite-api (the path itself is checked above).
    with open(UNIT) as f:
        text = f.read()
    program = os.path.join(os.path.dirname(sys.executable),
                           'glance-lite-api')
    shipped = 'ExecStart=/opt/glance-lite/.venv/bin/glance-lite-api '
    assert text.count(shipped) == 1
    unit = tmp_path / 'glance-lite-api.service'
    unit.write_text(text.replace(shipped, 'ExecStart=%s ' % program))

    result = subprocess.run(
        ['systemd-analyze', 'verify', '--man=no', str(unit)],
        capture_output=True, text=True, timeout=120)

    # verify exits 0 even for unknown keys or bad values, which it only
    # prints; lines about other units of this machine are not ours.
    ours = [line for line in (result.stdout + result.stderr).splitlines()
            if 'glance-lite-api.service' in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert ours == []
