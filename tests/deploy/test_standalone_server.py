"""The standalone server (glance-lite-api) listens with the backlog
[DEFAULT] backlog asks for: a burst of clients larger than cheroot's own
default queue of 5 waits in the kernel instead of being dropped and
retrying seconds later. Checked as an operator would, with ss."""

import subprocess
import urllib.parse

import pytest

from tests import server as test_server


def _listen_backlog(port):
    # For a listening socket ss shows the backlog as Send-Q.
    out = subprocess.run(
        ['ss', '-ltnH', 'sport = :%d' % port], check=True,
        capture_output=True, text=True).stdout.split()
    return int(out[2])


@pytest.mark.parametrize('config, expected', [
    ({}, 4096),
    ({'DEFAULT': {'backlog': '100'}}, 100),
])
def test_listen_backlog_is_the_configured_one(config, expected):
    srv = test_server.Server(config)
    try:
        srv.start()
        port = urllib.parse.urlsplit(srv.url).port
        # The kernel caps the backlog at net.core.somaxconn.
        with open('/proc/sys/net/core/somaxconn') as f:
            cap = int(f.read())
        assert _listen_backlog(port) == min(expected, cap)
    finally:
        srv.stop()
