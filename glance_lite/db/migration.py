"""Schema migrations: alembic, driven from glance-lite-manage and the tests."""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script
from oslo_log import log as logging
from sqlalchemy import exc as sa_exc

from glance_lite.db import api as db_api

LOG = logging.getLogger(__name__)

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(connection):
    config = alembic_config.Config()
    config.set_main_option('script_location', MIGRATIONS_DIR)
    config.attributes['connection'] = connection
    return config


def upgrade(revision='head', engine=None):
    """Bring the database schema to ``revision`` (default: the newest),
    waiting for the database as at start-up."""
    engine = engine or db_api.get_engine(wait=True)
    sqlite = engine.dialect.name == 'sqlite'
    with engine.connect() as connection:
        if sqlite:
            # SQLite alters a table by copying it into a new one and
            # dropping the old (alembic's batch mode), which the foreign
            # keys of the other tables refuse while they are enforced. The
            # pragma is ignored inside a transaction, and every statement
            # through SQLAlchemy opens one (oslo.db emits the BEGIN), so it
            # goes to the driver's connection first.
            _set_sqlite_foreign_keys(connection, 'OFF')
        try:
            with connection.begin():
                alembic_command.upgrade(_config(connection), revision)
                if sqlite:
                    _check_sqlite_foreign_keys(connection)
        finally:
            if sqlite:
                _set_sqlite_foreign_keys(connection, 'ON')
    if sqlite:
        _refresh_sqlite_statistics(engine)


def _set_sqlite_foreign_keys(connection, state):
    connection.connection.driver_connection.execute(
        'PRAGMA foreign_keys = %s' % state)


def _check_sqlite_foreign_keys(connection):
    """Fail the upgrade (rolling it back) if a copied table lost a row
    that another table refers to."""
    broken = connection.exec_driver_sql('PRAGMA foreign_key_check').all()
    if broken:
        raise RuntimeError('The migration broke foreign keys: %s'
                           % broken[:10])


# Rows ANALYZE reads per index: approximate statistics, in milliseconds
# whatever the catalogue's size.
SQLITE_ANALYSIS_LIMIT = 1000


def _refresh_sqlite_statistics(engine):
    """Give SQLite's planner its statistics (sqlite_stat1), which
    PostgreSQL and MySQL gather by themselves. Without them it walks the
    sort index for a rare name or property filter instead of looking the
    few matches up: seconds instead of milliseconds with 10^6 images. Run
    at every upgrade (``db sync``, and each start of the embedded SQLite
    catalogue).

    ANALYZE runs on its own, not in the migration's transaction: in WAL
    mode a transaction that has read and then writes fails at once
    ("database is locked", no busy wait) if another process wrote in
    between, as a uWSGI or mod_wsgi worker serving requests does while the
    next one starts. On its own it waits for the writer like any write.
    The statistics only speed queries up: failing to refresh them is
    logged, and the service starts.
    """
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql('PRAGMA analysis_limit = %d'
                                       % SQLITE_ANALYSIS_LIMIT)
            connection.exec_driver_sql('ANALYZE')
            connection.commit()
    except sa_exc.OperationalError as error:
        LOG.warning('Could not refresh the SQLite planner statistics: %s',
                    error)


def current_version(engine=None, wait=False):
    """The revision the database is at, or None for an empty database.

    :param wait: wait for the database as at start-up (see get_engine).
    """
    engine = engine or db_api.get_engine(wait)
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()


def head_version():
    """The newest revision this code knows."""
    return alembic_script.ScriptDirectory(MIGRATIONS_DIR).get_current_head()


class SchemaNotCurrent(RuntimeError):
    """The database is empty or behind this code's newest revision."""


def check_schema(engine=None, wait=False):
    """Raise SchemaNotCurrent if the database is empty or at an older
    revision than this code's newest.

    A revision this code does not know is newer (another node, already
    upgraded, ran ``db sync``): that is accepted, for rolling upgrades.
    :returns: the database's revision.
    """
    current = current_version(engine, wait)
    head = head_version()
    if current == head:
        return current
    known = {script.revision for script in
             alembic_script.ScriptDirectory(MIGRATIONS_DIR).walk_revisions()}
    if current is None or current in known:
        raise SchemaNotCurrent(
            'The catalogue database is at revision %s, this glance_lite '
            'needs %s: run "glance-lite-manage --config-file <its config> '
            'db sync" first.' % (current or 'None (empty)', head))
    return current
