"""The embedded SQLite catalogue keeps its connections open between
requests, and every pooled connection still has the settings oslo.db and
glance_lite give it (foreign keys, WAL, busy timeout), whichever thread
uses it next."""

import sqlite3
import threading
import time
from unittest import mock

from oslo_config import cfg
import pytest

from glance_lite import conf
from glance_lite.db import api as db_api
from glance_lite.db import migration

CONF = cfg.CONF


@pytest.fixture
def engine(tmp_path):
    conf.parse_args([], default_config_files=[])
    CONF.set_default('connection',
                     'sqlite:///%s' % (tmp_path / 'catalogue.sqlite'),
                     group='database')
    db_api.reset()
    migration.upgrade()
    yield db_api.get_engine()
    db_api.reset()
    CONF.reset()


def _settings(engine):
    with engine.connect() as connection:
        return {name: connection.exec_driver_sql('PRAGMA %s' % name).scalar()
                for name in ('foreign_keys', 'journal_mode', 'busy_timeout')}


def test_connections_are_reused_with_their_settings_across_threads(engine):
    first = _settings(engine)
    assert first == {'foreign_keys': 1, 'journal_mode': 'wal',
                     'busy_timeout': 30000}
    seen = []
    errors = []

    def request():
        try:
            seen.append(_settings(engine))
            db_api.image_list(limit=5)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == [first] * 8
    # Kept open for the next requests instead of closed after each one.
    assert engine.pool.checkedin() >= 1


def test_upgrade_waits_for_another_process_writing(engine, tmp_path):
    # A second worker starting (upgrade at start-up) while the first one
    # writes: the other writer is a separate sqlite3 connection, as
    # another process's would be. Its write began before the upgrade and
    # commits during it.
    path = str(tmp_path / 'catalogue.sqlite')
    other = sqlite3.connect(path, isolation_level=None,
                            check_same_thread=False)
    other.execute('CREATE TABLE other_writes (n INTEGER)')
    writing = threading.Event()

    def other_process_writes():
        other.execute('BEGIN IMMEDIATE')
        try:
            other.execute('INSERT INTO other_writes VALUES (1)')
            writing.set()
            time.sleep(1)
        finally:
            other.execute('COMMIT')
            other.close()

    writer = threading.Thread(target=other_process_writes)
    writer.start()
    writing.wait(10)
    try:
        with mock.patch.object(migration.LOG, 'warning') as warning:
            migration.upgrade()
    finally:
        writer.join(10)

    assert not warning.called, warning.call_args
    with engine.connect() as connection:
        analysed = connection.exec_driver_sql(
            'SELECT count(*) FROM sqlite_stat1').scalar()
    assert analysed > 0
