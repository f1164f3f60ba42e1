"""Fixtures shared by the unit tests."""

from oslo_config import cfg
import pytest

from glance_lite import conf
from glance_lite.db import api as db_api
from glance_lite.db import migration
from glance_lite import store

CONF = cfg.CONF


@pytest.fixture
def catalogue(tmp_path):
    """A real SQLite catalogue and file store (``images/``) under
    tmp_path, which it returns."""
    conf.parse_args([], default_config_files=[])
    CONF.set_override('state_path', str(tmp_path))
    CONF.set_default('connection',
                     'sqlite:///%s' % (tmp_path / 'catalogue.sqlite'),
                     group='database')
    CONF.set_default('filesystem_store_datadir', str(tmp_path / 'images'),
                     group='glance_store')
    db_api.reset()
    migration.upgrade()
    store.configure()
    yield tmp_path
    db_api.reset()
    CONF.reset()
