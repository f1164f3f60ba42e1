"""etc/systemd/glance-lite-scrubber.service and glance-lite-purge.{service,
timer}: their command lines, run as the units run them (this checkout's
glance-lite-manage, a test server's configuration), work, and
``systemd-analyze verify`` finds nothing wrong with the units."""

import os
import shlex
import signal
import subprocess
import sys

import pytest

from tests.functional import images_support as s
from tests import server as test_server

UNITS = os.path.join(os.path.dirname(__file__), '..', '..', 'etc', 'systemd')
INSTALLED_MANAGE = '/opt/glance-lite/.venv/bin/glance-lite-manage'
MANAGE = os.path.join(os.path.dirname(sys.executable), 'glance-lite-manage')
CONFIG = ['--config-file', '/etc/glance-lite/glance-lite.conf']


def _exec_start(unit):
    with open(os.path.join(UNITS, unit)) as f:
        [line] = [line for line in f if line.startswith('ExecStart=')]
    argv = shlex.split(line[len('ExecStart='):])
    assert argv[0] == INSTALLED_MANAGE
    assert argv[1:3] == CONFIG
    return argv[3:]


@pytest.fixture(scope='module')
def api():
    server = test_server.Server({'DEFAULT': {'delayed_delete': 'true',
                                             'wakeup_time': 1}}).start()
    yield server
    server.stop()


def test_the_scrubber_unit_scrubs_until_sigterm(api):
    command = _exec_start('glance-lite-scrubber.service')
    assert command == ['images', 'scrub', '--daemon']
    daemon = subprocess.Popen(
        [MANAGE, '--config-file', api.config_file] + command,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        image = s.upload(api)
        s.delete(api, image['id'])
        status = s.wait_for_status(api, image['id'], ('deleted',),
                                   timeout=30)
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=60)
    assert status == 'deleted', out + err
    assert daemon.returncode == 0, err


def test_the_purge_unit_purges(api):
    command = _exec_start('glance-lite-purge.service')
    assert command == ['db', 'purge', '--age-in-days', '30',
                       '--max-rows', '1000']

    result = subprocess.run(
        [MANAGE, '--config-file', api.config_file] + command,
        capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert 'image_members: 0 row(s) purged' in result.stdout


def test_systemd_analyze_verify_finds_nothing_wrong(tmp_path):
    names = ['glance-lite-scrubber.service', 'glance-lite-purge.service',
             'glance-lite-purge.timer']
    paths = []
    for name in names:
        with open(os.path.join(UNITS, name)) as f:
            text = f.read()
        path = tmp_path / name
        path.write_text(text.replace(INSTALLED_MANAGE, MANAGE))
        paths.append(str(path))

    result = subprocess.run(
        ['systemd-analyze', 'verify', '--man=no'] + paths,
        capture_output=True, text=True, timeout=120)

    ours = [line for line in (result.stdout + result.stderr).splitlines()
            if 'glance-lite-scrubber' in line or 'glance-lite-purge' in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert ours == []
