"""Shared fixtures: a real glance-lite-api per test module, or per test
when a test needs its own configuration."""

import pytest

from tests import server as test_server


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make ``--dist loadgroup`` honour ``xdist_group`` marks on pytest 9.

    pytest-xdist (3.8) tags each item's node id with its group on the
    workers by setting ``item._nodeid``; pytest 9 builds ``nodeid`` from
    ``item._id`` instead, so the tag is lost and the groups are silently
    spread over all workers (the Keystone catalog's image endpoint, shared
    by the ``keystone`` group, then points at another worker's server).
    Tag the id pytest 9 reads, unless xdist already did.
    """
    if not config.getoption('loadgroup', default=False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest < 9: xdist's own tagging works
        return
    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else
                             mark.kwargs.get('name', 'default'))
                         for mark in item.iter_markers('xdist_group')})
        if not groups or '@' in item.nodeid.rpartition(']')[2]:
            continue
        item._id = NodeId.parse('%s@%s' % (item.nodeid, '_'.join(groups)))


FIGURES = 'glance_lite_figures'


def pytest_terminal_summary(terminalreporter):
    """Show the figures tests recorded with ``record_property(FIGURES,
    text)`` (the soak run's counts), also for passing tests and under
    xdist, whose workers send user properties back with their reports."""
    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, 'user_properties', ()):
                if name == FIGURES and getattr(report, 'when',
                                               'call') == 'call':
                    lines.append('%s: %s' % (report.nodeid, value))
    if lines:
        terminalreporter.write_sep('-', 'glance_lite figures')
        for line in lines:
            terminalreporter.write_line(line)


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
