"""Configuration: every option glance_lite reads, registered on one CONF.

Options are grouped by concern in the sibling modules; ``list_opts`` in
``opts.py`` hands them to oslo-config-generator.
"""

import os

import glance_store
from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log as logging

from glance_lite.conf import api
from glance_lite.conf import image_format
from glance_lite.conf import paste

CONF = cfg.CONF

api.register_opts(CONF)
image_format.register_opts(CONF)
paste.register_opts(CONF)
logging.register_options(CONF)
db_options.set_defaults(CONF)


def state_path_join(*parts):
    """A path under ``[DEFAULT] state_path``, home of the embedded defaults."""
    return os.path.join(CONF.state_path, *parts)


def set_defaults():
    """Register the store options and the defaults glance_lite changes.

    Called before config files are parsed, so any file value wins.
    """
    glance_store.register_opts(CONF)
    CONF.set_default('stores', ['file', 'http'], group='glance_store')
    CONF.set_default('default_store', 'file', group='glance_store')
    # Resolved against state_path once the files are read (see parse_args).
    CONF.set_default('filesystem_store_datadir', None, group='glance_store')


def parse_args(argv, default_config_files=None):
    """Parse the command line and config files into CONF."""
    set_defaults()
    CONF(argv, project='glance-lite', prog=None,
         default_config_files=default_config_files)
    # The embedded defaults live under state_path; they are set as defaults
    # after parsing so that moving state_path moves them and an explicit
    # value in a config file still wins.
    CONF.set_default('connection',
                     'sqlite:///' + state_path_join('glance-lite.sqlite'),
                     group='database')
    CONF.set_default('filesystem_store_datadir', state_path_join('images'),
                     group='glance_store')
