"""Configuration: every option glance_lite reads, registered on one CONF.

Options are grouped by concern in the sibling modules; ``list_opts`` in
``opts.py`` hands them to oslo-config-generator.
"""

from importlib import metadata as importlib_metadata
import logging as std_logging

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log as logging

from glance_lite.conf import api
from glance_lite.conf import cache
from glance_lite.conf import cors
from glance_lite.conf import image_format
from glance_lite.conf import notifications
from glance_lite.conf import paste
from glance_lite.conf import scrubber
from glance_lite.conf import server
from glance_lite.conf import store_requests
from glance_lite.conf import v2

CONF = cfg.CONF

api.register_opts(CONF)
cache.register_opts(CONF)
image_format.register_opts(CONF)
notifications.register_opts(CONF)
paste.register_opts(CONF)
scrubber.register_opts(CONF)
server.register_opts(CONF)
store_requests.register_opts(CONF)
v2.register_opts(CONF)
logging.register_options(CONF)
db_options.set_defaults(CONF)
# glance_store's DEBUG lines name the files and URIs of image data (which
# may carry credentials); glance_lite never logs those, debug on or not.
# swiftclient logs every failed request at INFO, and botocore its retries
# at DEBUG, with the object's URL (and swiftclient part of the token):
# glance_lite logs those failures itself. Lines that still name a store
# are redacted (common/redaction.py).
logging.set_defaults(default_log_levels=logging.get_default_log_levels() +
                     ['glance_store=INFO', 'swiftclient=WARN',
                      'botocore=WARN', 's3transfer=WARN'])


def set_defaults():
    """Register the store options and the defaults glance_lite changes.

    Called before config files are parsed, so any file value wins. The
    embedded catalogue and file store live under state_path: oslo.config
    expands ``$state_path`` when the values are read, so moving state_path
    moves them too.
    """
    # The option objects themselves are changed (not CONF's overrides), so
    # oslo-config-generator shows these defaults in the sample too. The
    # entry point glance_store publishes for the generator lists them.
    for group, opts in _glance_store_opts():
        CONF.register_opts(opts, group=group)
        cfg.set_defaults(opts, stores=['file', 'http'], default_store='file',
                         filesystem_store_datadir='$state_path/images',
                         # glance_store's default (True) fetches https
                         # sources without checking their certificate.
                         https_insecure=False,
                         # Not used: every S3 upload is multipart (see
                         # glance_lite.store.s3); 0 so that only an
                         # operator's setting draws the warning about it.
                         s3_store_large_object_size=0)
    cfg.set_defaults(db_options.database_opts,
                     connection='sqlite:///$state_path/glance-lite.sqlite')
    cors.set_defaults()


# glance_store publishes its options to oslo-config-generator under this
# name; loading the entry point is the public way to list them.
GLANCE_STORE_OPTS_ENTRY_POINT = 'glance.store'


def _published_opts(name):
    """The list_opts function published as ``name`` in the
    ``oslo.config.opts`` entry point group."""
    (entry_point,) = importlib_metadata.entry_points(
        group='oslo.config.opts', name=name)
    return entry_point.load()


def _glance_store_opts():
    """glance_store's option groups, every driver's options included.

    Listing them imports each driver glance_store ships. The ones whose
    libraries glance_lite does not install (cinder needs os-brick) fail to
    import, and stevedore logs an ERROR for each, on every start of every
    command, about stores glance_lite does not offer: those lines are
    dropped here. A store named in ``stores`` that cannot be loaded is
    still refused at start-up by glance_store.create_stores.
    """
    stevedore_log = std_logging.getLogger('stevedore.extension')
    level = stevedore_log.level
    stevedore_log.setLevel(std_logging.CRITICAL)
    try:
        return _published_opts(GLANCE_STORE_OPTS_ENTRY_POINT)()
    finally:
        stevedore_log.setLevel(level)


def parse_args(argv, default_config_files=None):
    """Parse the command line and config files into CONF."""
    set_defaults()
    CONF(argv, project='glance-lite', prog=None,
         default_config_files=default_config_files)
