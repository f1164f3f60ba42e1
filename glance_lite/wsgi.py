"""WSGI entry point for mod_wsgi and uWSGI: ``glance_lite.wsgi:application``.

Config files come from GLANCE_LITE_CONFIG_FILES (comma-separated) or, when
unset, the usual places oslo.config searches for glance-lite.conf.
"""

import os

from glance_lite.api import app

_files = os.environ.get('GLANCE_LITE_CONFIG_FILES')
app.prepare_service(
    [], default_config_files=_files.split(',') if _files else None)
application = app.load_app()
