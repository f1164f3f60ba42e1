"""etc/systemd/glance-lite-clean-stale.{service,timer}: the hourly
stale-upload cleanup. Its command line, run as the unit runs it (with this
checkout's glance-lite-manage and a test server's configuration), works;
``systemd-analyze verify`` finds nothing wrong with either unit."""

import os
import shlex
import subprocess
import sys

from tests import server as test_server

TOP = os.path.join(os.path.dirname(__file__), '..', '..')
SERVICE = os.path.join(TOP, 'etc', 'systemd',
                       'glance-lite-clean-stale.service')
TIMER = os.path.join(TOP, 'etc', 'systemd', 'glance-lite-clean-stale.timer')
INSTALLED_MANAGE = '/opt/glance-lite/.venv/bin/glance-lite-manage'
MANAGE = os.path.join(os.path.dirname(sys.executable), 'glance-lite-manage')


def _exec_start():
    with open(SERVICE) as f:
        [line] = [line for line in f if line.startswith('ExecStart=')]
    return shlex.split(line[len('ExecStart='):])


def test_the_units_command_cleans_stale_uploads_with_the_api_config():
    argv = _exec_start()
    assert argv[0] == INSTALLED_MANAGE
    assert argv[1:3] == ['--config-file', '/etc/glance-lite/glance-lite.conf']
    assert argv[3:] == ['images', 'clean-stale', '--saving-older-than',
                        '3600']
    srv = test_server.Server().start()
    try:
        result = subprocess.run(
            [MANAGE, '--config-file', srv.config_file] + argv[3:],
            capture_output=True, text=True, timeout=120)
    finally:
        srv.stop()

    assert result.returncode == 0, result.stdout + result.stderr
    assert '0 stale upload(s) cleaned.' in result.stdout


def test_systemd_analyze_verify_finds_nothing_wrong(tmp_path):
    with open(SERVICE) as f:
        text = f.read()
    service = tmp_path / 'glance-lite-clean-stale.service'
    service.write_text(text.replace(INSTALLED_MANAGE, MANAGE))
    timer = tmp_path / 'glance-lite-clean-stale.timer'
    with open(TIMER) as f:
        timer.write_text(f.read())

    result = subprocess.run(
        ['systemd-analyze', 'verify', '--man=no', str(service), str(timer)],
        capture_output=True, text=True, timeout=120)

    ours = [line for line in (result.stdout + result.stderr).splitlines()
            if 'glance-lite-clean-stale' in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert ours == []
