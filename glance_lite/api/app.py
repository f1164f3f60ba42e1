"""Build the WSGI application: configuration, logging, database, stores,
then the paste pipeline chosen by [paste_deploy] flavor."""

import fcntl
import os

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging
from paste import deploy
from sqlalchemy import exc as sa_exc

from glance_lite.api import policy
from glance_lite.api.v2 import schemas as v2_schemas
from glance_lite.common import memory
from glance_lite.common import redaction
from glance_lite import conf as glance_conf
from glance_lite.db import migration
from glance_lite.image import notifications
from glance_lite.image import protections
from glance_lite.image import stale_uploads
from glance_lite import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Held while the embedded SQLite catalogue is migrated (in state_path).
MIGRATE_LOCK = 'glance-lite.migrate.lock'

# The api-paste.ini at the top of the source tree (development checkouts).
_SOURCE_PASTE = os.path.join(os.path.dirname(__file__), '..', '..',
                             'api-paste.ini')


def find_paste_file():
    """The paste file: [paste_deploy] config_file, else api-paste.ini next
    to the first config file, else the one at the top of the source tree,
    else /etc/glance-lite/api-paste.ini."""
    candidates = [CONF.paste_deploy.config_file]
    if CONF.config_file:
        candidates.append(os.path.join(
            os.path.dirname(os.path.abspath(CONF.config_file[0])),
            'api-paste.ini'))
    candidates += [_SOURCE_PASTE, '/etc/glance-lite/api-paste.ini']
    for path in candidates:
        if path and os.path.exists(path):
            return os.path.abspath(path)
    raise RuntimeError('No api-paste.ini found (tried %s)' %
                       ', '.join(p for p in candidates if p))


def prepare_service(argv, default_config_files=None):
    """Parse configuration and set up logging (once per process), with
    store locations and credentials redacted from every line."""
    glance_conf.parse_args(argv, default_config_files)
    logging.setup(CONF, 'glance-lite')
    redaction.install(log_redactor())


def log_redactor():
    """The redaction of log lines for the configured stores: their
    endpoints and the file store's directories, besides every store URI,
    Swift account and token."""
    options = CONF.glance_store
    endpoints = [getattr(options, name, None) for name in (
        'swift_store_auth_address', 'swift_store_endpoint', 's3_store_host')]
    paths = [getattr(options, 'filesystem_store_datadir', None)]
    paths += [entry.rsplit(':', 1)[0] if entry.rsplit(':', 1)[-1].isdigit()
              else entry
              for entry in getattr(options, 'filesystem_store_datadirs',
                                   None) or []]
    return redaction.Redactor(endpoints=[e for e in endpoints if e],
                              paths=[p for p in paths if p])


def _check_schema():
    """Refuse to serve a PostgreSQL/MySQL catalogue that db sync has not
    brought up to date: every v1 request would fail while /healthcheck
    says OK. A database that cannot be reached (after oslo.db's start-up
    retries, [database] max_retries) is no reason not to start: requests
    answer 503 until it is back."""
    try:
        revision = migration.check_schema(wait=True)
    except (db_exc.DBError, sa_exc.SQLAlchemyError) as error:
        LOG.warning('Could not check the catalogue schema: %s', error)
        return
    if revision != migration.head_version():
        LOG.warning('The catalogue database is at revision %s, which this '
                    'glance_lite (at %s) does not know: another node must '
                    'have upgraded it.', revision, migration.head_version())


def load_app():
    """Set up the catalogue and the stores, and load the paste pipeline."""
    if not (CONF.enable_v1_api or CONF.enable_v2_api):
        raise RuntimeError('enable_v1_api and enable_v2_api are both false: '
                           'there would be no API to serve')
    if CONF.enabled_import_methods:
        raise RuntimeError('enabled_import_methods must be empty: this '
                           'release offers no image import method (%s)'
                           % ', '.join(CONF.enabled_import_methods))
    # Before any request thread allocates (see common/memory.py).
    memory.limit_malloc_arenas(CONF.malloc_arena_max)
    os.makedirs(CONF.state_path, exist_ok=True)
    if CONF.database.connection.startswith('sqlite'):
        # The embedded SQLite catalogue is created on first start; other
        # engines are migrated by the operator (glance-lite-manage db sync).
        # Several processes may start at once (mod_wsgi daemon processes,
        # uWSGI workers), and SQLite refuses concurrent schema changes with
        # "database is locked" at once: they migrate one after the other,
        # the later ones finding the schema up to date.
        with open(os.path.join(CONF.state_path, MIGRATE_LOCK), 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            migration.upgrade()
    else:
        _check_schema()
    store.configure()
    protections.load(policy.check_rule)
    # A bad schema-image.json stops the start, not the first v2 request.
    v2_schemas.load()
    notifications.start()
    stale_uploads.start()
    paste_file = find_paste_file()
    flavor = CONF.paste_deploy.flavor
    LOG.info('Loading pipeline glance-lite-api-%s from %s', flavor,
             paste_file)
    return deploy.loadapp('config:%s' % paste_file,
                          name='glance-lite-api-%s' % flavor)
