"""glance_lite under Apache mod_wsgi: the script WSGIScriptAlias names
(etc/apache2/glance-lite.conf).

glance_lite.wsgi reads the GLANCE_LITE_CONFIG_FILES environment variable
when it is imported. mod_wsgi does not put SetEnv values into os.environ
(they only reach each request's WSGI environ, after the application was
loaded), so the variable is set here: to the glance-lite.conf beside this
script, unless Apache's own environment already has it (for example from
/etc/apache2/envvars).

``application`` also puts back the x-image-meta-* request headers that
glance-lite-headers.lua carried past mod_wsgi (whose names hold a
character mod_wsgi drops, such as the '.' of
x-image-meta-property-hw.cpu_model): each GLANCE_LITE_CARRIED_HEADER_<n>
variable becomes the HTTP_... variable the standalone server and uWSGI
hand over for the same header.
"""

import os

os.environ.setdefault(
    'GLANCE_LITE_CONFIG_FILES',
    os.path.join(os.path.dirname(os.path.abspath(__file__)),
                 'glance-lite.conf'))

from glance_lite.wsgi import application as _glance_lite  # noqa: E402

CARRIED = 'GLANCE_LITE_CARRIED_HEADER_'


def application(environ, start_response):
    for key in [k for k in environ if k.startswith(CARRIED)]:
        name, _, value = environ.pop(key).partition(':')
        variable = 'HTTP_' + name.upper().replace('-', '_')
        if variable in environ:
            # Repeated headers are joined, as HTTP servers do.
            value = environ[variable] + ', ' + value
        environ[variable] = value
    return _glance_lite(environ, start_response)
