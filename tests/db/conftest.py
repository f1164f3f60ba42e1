"""A fresh catalogue database per test, on every engine glance_lite supports.

The ``db`` fixture runs each test on SQLite (a temporary file), PostgreSQL
and MySQL/MariaDB (see tests/databases.py for the admin URLs). A server
that cannot be reached makes the test fail, never skip: CI must really
exercise all three engines.
"""

import pytest

from glance_lite import conf
from glance_lite.db import api as db_api
from glance_lite.db import migration
from tests.databases import Database
from tests.databases import ENGINES


@pytest.fixture(params=ENGINES)
def empty_db(request):
    """An empty database that ``[database] connection`` points at."""
    database = Database(request.param)
    conf.CONF.set_override('connection', database.url, group='database')
    db_api.reset()
    try:
        yield database
    finally:
        db_api.reset()
        conf.CONF.clear_override('connection', group='database')
        database.drop()


@pytest.fixture
def db(empty_db):
    """A database migrated to the newest schema."""
    migration.upgrade()
    return empty_db
