"""glance_lite under Apache mod_wsgi: the script WSGIScriptAlias names
(etc/apache2/glance-lite.conf).

glance_lite.wsgi reads the GLANCE_LITE_CONFIG_FILES environment variable
when it is imported. mod_wsgi does not put SetEnv values into os.environ
(they only reach each request's WSGI environ, after the application was
loaded), so the variable is set here: to the glance-lite.conf beside this
script, unless Apache's own environment already has it (for example from
/etc/apache2/envvars).
"""

import os

os.environ.setdefault(
    'GLANCE_LITE_CONFIG_FILES',
    os.path.join(os.path.dirname(os.path.abspath(__file__)),
                 'glance-lite.conf'))

from glance_lite.wsgi import application  # noqa: E402,F401
