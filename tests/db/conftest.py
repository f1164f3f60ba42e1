"""A fresh catalogue database per test, on every engine glance_lite supports.

The ``db`` fixture runs each test on SQLite (a temporary file), PostgreSQL
and MySQL/MariaDB. The server databases are created through the admin URLs
in GLANCE_LITE_TEST_PG_URL and GLANCE_LITE_TEST_MYSQL_URL and dropped
afterwards. A server that cannot be reached makes the test fail, never
skip: CI must really exercise all three engines.
"""

import os
import tempfile
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url

from glance_lite import conf
from glance_lite.db import api as db_api
from glance_lite.db import migration

ENGINES = ['sqlite', 'postgresql', 'mysql']
ADMIN_URLS = {
    'postgresql': os.environ.get(
        'GLANCE_LITE_TEST_PG_URL',
        'postgresql+psycopg2://postgres@127.0.0.1:5432/test'),
    'mysql': os.environ.get(
        'GLANCE_LITE_TEST_MYSQL_URL',
        'mysql+pymysql://root@127.0.0.1:3306/test'),
}


def _admin_engine(kind):
    return sa.create_engine(ADMIN_URLS[kind], isolation_level='AUTOCOMMIT',
                            poolclass=sa.pool.NullPool)


class Database:
    """A uniquely-named, empty database on one engine."""

    def __init__(self, kind):
        self.kind = kind
        self.name = 'glt_%s' % uuid.uuid4().hex[:16]
        self.tmpdir = None
        if kind == 'sqlite':
            self.tmpdir = tempfile.mkdtemp(prefix='glance-lite-db-')
            self.url = 'sqlite:///' + os.path.join(self.tmpdir, 'test.db')
            return
        admin = sa_url.make_url(ADMIN_URLS[kind])
        engine = _admin_engine(kind)
        try:
            with engine.connect() as connection:
                if kind == 'mysql':
                    connection.exec_driver_sql(
                        'CREATE DATABASE %s CHARACTER SET utf8mb4' %
                        self.name)
                else:
                    connection.exec_driver_sql(
                        "CREATE DATABASE %s ENCODING 'UTF8'" % self.name)
        finally:
            engine.dispose()
        url = admin.set(database=self.name)
        if kind == 'mysql':
            url = url.update_query_dict({'charset': 'utf8mb4'})
        self.url = url.render_as_string(hide_password=False)

    def drop(self):
        if self.kind == 'sqlite':
            for name in os.listdir(self.tmpdir):
                os.unlink(os.path.join(self.tmpdir, name))
            os.rmdir(self.tmpdir)
            return
        engine = _admin_engine(self.kind)
        try:
            with engine.connect() as connection:
                if self.kind == 'postgresql':
                    connection.exec_driver_sql(
                        'DROP DATABASE IF EXISTS %s WITH (FORCE)' % self.name)
                else:
                    connection.exec_driver_sql(
                        'DROP DATABASE IF EXISTS %s' % self.name)
        finally:
            engine.dispose()


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
