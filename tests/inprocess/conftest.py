"""Fixtures of the in-process tier: the paste app of a flavor, built in
this process over a temporary catalogue and file store (see support.py).
"""

import pytest

from tests.inprocess import support


@pytest.fixture
def make_app(tmp_path):
    """Factory: ``make_app({'DEFAULT': {'image_member_quota': 2}})`` gives
    a ``support.App``; a second call replaces the first (one app at a
    time: they share the process's configuration)."""
    count = [0]

    def _make(config=None):
        count[0] += 1
        workdir = tmp_path / ('app%d' % count[0])
        workdir.mkdir()
        return support.App(workdir, config)

    yield _make
    support.reset()


@pytest.fixture
def app(make_app):
    """The noauth flavor on embedded defaults: every caller an admin."""
    return make_app()


@pytest.fixture
def trusted_app(make_app):
    """The trusted-auth flavor: identity from X-Identity-Status etc."""
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'}})
