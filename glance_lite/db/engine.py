"""The catalogue's engine and sessions: oslo.db's enginefacade, tuned
through public hooks only.

Every query runs in a session of the facade's ``writer`` or ``reader``
(``writer``/``reader`` below). What glance_lite adds to the engine
oslo.db builds, from its ``on_engine_create`` hook and SQLAlchemy events:

- a file-based SQLite catalogue keeps its connections in a pool, each
  with foreign keys, WAL and a busy timeout, and writers of one process
  take turns (spec §18 Q27);
- an unreachable PostgreSQL is a DBConnectionError (503) whatever the
  wording of its libpq;
- start-up waits for the database as [database] max_retries and
  retry_interval say, and a request never does.
"""

import functools
import itertools
import os
import re
import threading
import time

from oslo_config import cfg
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy import event

from glance_lite.db import sanitize

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_facade_lock = threading.Lock()
_facade = None
_dialect_name = None
# SQLite has one writer at a time; serialising writers inside the process
# avoids "database is locked" between our own threads (spec §18 Q27).
_sqlite_write_lock = threading.RLock()

# oslo.db knows PostgreSQL's "could not connect to server" of libpq before
# 14; newer libpq says 'connection to server at "HOST", port N failed: ...'
# (or 'on socket "PATH"'). Without this, an unreachable PostgreSQL was a 500
# instead of the 503 of an unreachable database, and start-up did not wait
# for it.
_POSTGRESQL_CONNECTION_FAILED = re.compile(
    r'connection to server (?:at|on socket) .* failed')


def get_facade(wait=False):
    """The enginefacade transaction context of ``[database] connection``
    (created on first use).

    :param wait: when it is created now, wait for the database as
        [database] max_retries and retry_interval say (service start-up).
    """
    facade = _facade
    if facade is not None:
        return facade
    return _create_facade(wait)


def _create_facade(wait):
    global _facade, _dialect_name
    with _facade_lock:
        if _facade is not None:
            return _facade
        facade = enginefacade.transaction_context()
        # No connection at creation: oslo.db's own first-connection retries
        # run before any on_engine_create hook, so they could not see
        # PostgreSQL's connection errors as such; _wait_for_database does
        # them once the engine is complete. An engine created for a request
        # while the database is down fails at once (503), instead of
        # holding the request for minutes.
        facade.configure(sqlite_fk=True,
                         connection=CONF.database.connection,
                         max_retries=0)
        facade.append_on_engine_create(_complete_engine)
        engine = facade.writer.get_engine()
        if wait:
            try:
                _wait_for_database(engine)
            except Exception:
                engine.dispose()
                raise
        _dialect_name = engine.dialect.name
        _facade = facade
        return facade


def get_engine(wait=False):
    """The engine of ``[database] connection`` (created on first use).

    :param wait: as for ``get_facade``.
    """
    return get_facade(wait).writer.get_engine()


def dialect_name():
    """The name of the catalogue's SQLAlchemy dialect (sqlite, postgresql,
    mysql ...)."""
    if _dialect_name is None:
        get_facade()
    return _dialect_name


def reset():
    """Forget the engine, so the next use reads the configuration again."""
    global _facade, _dialect_name
    with _facade_lock:
        if _facade is not None:
            _facade.writer.get_engine().dispose()
        _facade = None
        _dialect_name = None


def _wait_for_database(engine):
    """Connect once, trying [database] max_retries times (-1: for ever),
    retry_interval seconds apart, as oslo.db does at start-up."""
    retries = CONF.database.max_retries
    attempts = itertools.count() if retries == -1 else range(retries)
    failure = None
    for attempt in attempts:
        try:
            with engine.connect():
                return
        except db_exc.DBConnectionError as error:
            LOG.warning('SQL connection failed. %s attempts left.',
                        retries - attempt if retries != -1 else 'infinite')
            failure = error
            time.sleep(CONF.database.retry_interval)
    if failure is not None:
        raise failure


def _complete_engine(engine):
    """oslo.db's on_engine_create hook: what glance_lite's catalogue adds
    to every engine."""
    if engine.dialect.name == 'postgresql':
        # oslo.db's handler raises for every error it does not know, and
        # the handlers after it are then skipped: this one must run first.
        # SQLAlchemy keeps handle_error listeners on the dialect and calls
        # those of its class before those of one engine (oslo.db's), so it
        # is registered on the dialect's class, once; it acts only on
        # PostgreSQL's connection failures.
        dialect_class = type(engine.dialect)
        if not event.contains(dialect_class, 'handle_error',
                              _postgresql_connection_error):
            event.listen(dialect_class, 'handle_error',
                         _postgresql_connection_error)
    if engine.dialect.name == 'sqlite':
        if isinstance(engine.pool, sa.pool.NullPool):
            _pool_sqlite_connections(engine)
        event.listen(engine, 'connect', _tune_sqlite_connection)


def _postgresql_connection_error(context):
    """handle_error listener: a PostgreSQL that cannot be reached is a
    DBConnectionError, as oslo.db makes it for older libpq wordings."""
    if (context.dialect.name != 'postgresql'
            or not isinstance(context.sqlalchemy_exception,
                              sa.exc.OperationalError)
            or not _POSTGRESQL_CONNECTION_FAILED.search(
                str(context.original_exception))):
        return
    context.is_disconnect = True
    # is_pre_ping is new in SQLAlchemy 2.0.5; the pool's own ping handling
    # reconnects.
    if getattr(context, 'is_pre_ping', False):
        return
    raise db_exc.DBConnectionError(context.sqlalchemy_exception)


def _pool_sqlite_connections(engine):
    """Keep SQLite file connections open between requests.

    oslo.db gives a file-based SQLite engine no pool (NullPool, kept for
    its eventlet users), so every request opened the file, set it up and
    closed it again: about 30 % of the time of a HEAD request under load.
    glance_lite's threads share connections safely (each is used by one
    thread at a time; writers are serialised by _sqlite_write_lock), so a
    queue pool keeps up to [database] max_pool_size of them; more are
    opened when needed, never waited for.

    The new pool connects through the dialect's public interface and sets
    each connection up as create_engine's pool would (the dialect's
    functions, foreign keys, the process guard); the dialect learns the
    server's version on a first connection through oslo.db's pool.
    """
    with engine.connect():
        pass
    dialect = engine.dialect
    cargs, cparams = dialect.create_connect_args(engine.url)
    # A connection is handed from thread to thread through the pool.
    cparams = dict(cparams, check_same_thread=False)
    engine.pool = sa.pool.QueuePool(
        lambda: dialect.connect(*cargs, **cparams),
        pool_size=CONF.database.max_pool_size or 5, max_overflow=-1,
        dialect=dialect)
    set_up = dialect.on_connect()
    if set_up is not None:
        event.listen(engine, 'connect',
                     lambda dbapi_connection, _record: set_up(
                         dbapi_connection))
    event.listen(engine, 'connect', _enable_sqlite_foreign_keys)
    event.listen(engine, 'connect', _note_process)
    event.listen(engine, 'checkout', _refuse_other_process)


def _enable_sqlite_foreign_keys(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA foreign_keys = ON')
    cursor.close()


def _note_process(_dbapi_connection, record):
    record.info['pid'] = os.getpid()


def _refuse_other_process(_dbapi_connection, record, _proxy):
    # A forked worker (uWSGI, mod_wsgi) must not share its parent's
    # connections: the pool replaces one that belongs to another process.
    if record.info.get('pid') != os.getpid():
        raise sa.exc.DisconnectionError(
            'connection of process %s used in process %s'
            % (record.info.get('pid'), os.getpid()))


def _tune_sqlite_connection(dbapi_connection, _record):
    # WAL lets readers run beside the writer; the busy timeout makes other
    # processes sharing the file wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA busy_timeout = 30000')
    cursor.execute('PRAGMA journal_mode = WAL')
    cursor.close()


def _is_sqlite_busy(exc):
    return 'database is locked' in str(exc)


class _Call:
    """What an enginefacade transaction is attached to: one per call of
    a catalogue function (they do not nest)."""


def writer(func):
    """Run ``func(session, ...)`` in one write transaction of the facade,
    retried on deadlocks and lock timeouts; text no engine can store is
    refused first (sanitize)."""
    @functools.wraps(func)
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True,
                               exception_checker=_is_sqlite_busy)
    def wrapper(*args, **kwargs):
        sanitize.reject_unstorable(args, kwargs)
        facade = get_facade()
        if _dialect_name == 'sqlite':
            with _sqlite_write_lock:
                with facade.writer.using(_Call()) as session:
                    return func(session, *args, **kwargs)
        with facade.writer.using(_Call()) as session:
            return func(session, *args, **kwargs)
    return wrapper


def reader(func):
    """Run ``func(session, ...)`` in one read transaction of the facade."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        sanitize.reject_unstorable(args, kwargs)
        with get_facade().reader.using(_Call()) as session:
            return func(session, *args, **kwargs)
    return wrapper
