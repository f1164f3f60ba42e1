"""WSGI entry point for mod_wsgi and uWSGI: ``glance_lite.wsgi:application``.

Config files come from GLANCE_LITE_CONFIG_FILES (comma-separated) or, when
unset, the usual places oslo.config searches for glance-lite.conf.

Under uWSGI, a chunked request body (python-glanceclient always uploads
chunked) is not in wsgi.input, which uWSGI 2.0 leaves empty: it has to be
pulled chunk by chunk with ``uwsgi.chunked_read()``. ``application`` then
gives the pipeline a wsgi.input that reads from there.
"""

import os

from glance_lite.api import app
from glance_lite.api import upload

try:
    import uwsgi
except ImportError:  # not running under uWSGI
    uwsgi = None


def _is_chunked(environ):
    codings = environ.get('HTTP_TRANSFER_ENCODING', '').split(',')
    return codings[-1].strip().lower() == 'chunked'


def uwsgi_chunked_input(wsgi_app, chunked_read):
    """Wrap wsgi_app so that a chunked request body is read through
    chunked_read (one chunk per call, b'' after the last one)."""

    def application(environ, start_response):
        if _is_chunked(environ):
            environ['wsgi.input'] = upload.ChunkedInput(
                iter(chunked_read, b''))
            environ['wsgi.input_terminated'] = True
        return wsgi_app(environ, start_response)

    return application


_files = os.environ.get('GLANCE_LITE_CONFIG_FILES')
app.prepare_service(
    [], default_config_files=_files.split(',') if _files else None)
application = app.load_app()
if uwsgi is not None:
    application = uwsgi_chunked_input(application, uwsgi.chunked_read)
