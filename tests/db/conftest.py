"""A fresh catalogue database per test, on every engine glance_lite supports.

The ``db`` fixture runs each test on SQLite (a temporary file), PostgreSQL
and MySQL/MariaDB (see tests/databases.py for the admin URLs). A server
that cannot be reached makes the test fail, never skip: CI must really
exercise all three engines.
"""

import pytest

from glance_lite.db import migration
from tests.databases import ENGINES
from tests.db import support


@pytest.fixture(params=ENGINES)
def empty_db(request):
    """An empty database that ``[database] connection`` points at."""
    yield from support.empty_catalogue(request.param)


@pytest.fixture
def db(empty_db):
    """A database migrated to the newest schema."""
    migration.upgrade()
    return empty_db
