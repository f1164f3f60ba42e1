"""The test tiers, and shared fixtures: a real glance-lite-api per test
module, or per test when a test needs its own configuration."""

import pathlib

import pytest

from tests import server as test_server

# The one definition of the tiers, by directory under tests/. The fast
# tier needs no root, no server, no database server and no network: it
# is what `tox -e py3` runs (`--tier fast`). Every other directory is the
# system tier (`tox -e system`, `--tier system`): real servers, Keystone,
# Swift, Apache, uWSGI, PostgreSQL and MariaDB, root-only faults, the
# soak. tools/run-tests.sh runs the fast tier, then the system tier.
FAST_TIER = ('unit', 'inprocess')
TIERS = ('fast', 'system')
_TESTS = pathlib.Path(__file__).resolve().parent


def pytest_addoption(parser):
    parser.addoption(
        '--tier', choices=TIERS + ('all',), default='all',
        help='run one test tier only: fast (tests/%s) or system (every '
             'other directory of tests/); default: all'
             % ', tests/'.join(FAST_TIER))


def pytest_configure(config):
    config.addinivalue_line('markers', 'fast: a test of the fast tier '
                            '(set by directory, see tests/conftest.py)')
    config.addinivalue_line('markers', 'system: a test of the system tier '
                            '(set by directory, see tests/conftest.py)')


def tier_of(path):
    """The tier of a path in a directory of tests/ (None for tests/ itself,
    the helper modules at its top, and paths outside it)."""
    path = pathlib.Path(path).resolve()
    try:
        parts = path.relative_to(_TESTS).parts
    except ValueError:
        return None
    if not parts or (len(parts) == 1 and not path.is_dir()):
        return None
    return 'fast' if parts[0] in FAST_TIER else 'system'


def pytest_ignore_collect(collection_path, config):
    """Leave the other tier's directories unread (not even imported: the
    system tier imports what a fresh machine may not have)."""
    wanted = config.getoption('tier')
    tier = tier_of(collection_path)
    if wanted == 'all' or tier is None:
        return None
    return True if tier != wanted else None


def pytest_itemcollected(item):
    """Mark every test with its tier, so ``-m fast`` / ``-m system`` select
    a tier too (``--tier`` also leaves the other tier's modules
    unimported)."""
    tier = tier_of(item.path)
    if tier:
        item.add_marker(tier)


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


@pytest.fixture
def servers():
    """Servers a test started (restarted ones included), stopped and
    removed at the end: the crash tests' (tests/reliability,
    tests/stores)."""
    started = []
    yield started
    for srv in reversed(started):
        srv.stop()
