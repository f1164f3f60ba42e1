"""Shared fixtures: a real glance-lite-api per test module, or per test
when a test needs its own configuration."""

import pytest

from tests import server as test_server


@pytest.fixture(scope='module')
def api():
    """A glance-lite-api on embedded defaults (noauth), shared by a module."""
    srv = test_server.Server().start()
    yield srv
    srv.stop()


@pytest.fixture
def make_api():
    """Factory for servers with their own configuration, stopped after
    the test: ``make_api({'DEFAULT': {'image_size_cap': 512}})``."""
    servers = []

    def _make(config=None):
        srv = test_server.Server(config).start()
        servers.append(srv)
        return srv

    yield _make
    for srv in servers:
        srv.stop()
