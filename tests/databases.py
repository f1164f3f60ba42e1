"""Uniquely-named, empty catalogue databases on the engines glance_lite
supports, for the database tests (tests/db) and the real servers
(tests/server.py).

The PostgreSQL and MySQL/MariaDB databases are created through the admin
URLs in GLANCE_LITE_TEST_PG_URL and GLANCE_LITE_TEST_MYSQL_URL and dropped
afterwards. A server that cannot be reached makes the test fail, never
skip: CI must really exercise all three engines.
"""

import os
import shutil
import tempfile
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url

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
    """A uniquely-named, empty database on one engine.

    :param kind: 'sqlite', 'postgresql' or 'mysql'.
    :param sqlite_path: for SQLite, the file to use (default: test.db in
        a new temporary directory, removed by ``drop``).
    """

    def __init__(self, kind, sqlite_path=None):
        if kind not in ENGINES:
            raise ValueError('unknown database engine %r (expected one of '
                             '%s)' % (kind, ', '.join(ENGINES)))
        self.kind = kind
        self.name = 'glt_%s' % uuid.uuid4().hex[:16]
        self.tmpdir = None
        if kind == 'sqlite':
            if sqlite_path is None:
                self.tmpdir = tempfile.mkdtemp(prefix='glance-lite-db-')
                sqlite_path = os.path.join(self.tmpdir, 'test.db')
            self.url = 'sqlite:///' + sqlite_path
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
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            return
        drop_database(self.kind, self.name)


def drop_database(kind, name):
    """Drop the server database ``name`` (nothing if it is gone)."""
    engine = _admin_engine(kind)
    try:
        with engine.connect() as connection:
            if kind == 'postgresql':
                connection.exec_driver_sql(
                    'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
            else:
                connection.exec_driver_sql('DROP DATABASE IF EXISTS %s'
                                           % name)
    finally:
        engine.dispose()
