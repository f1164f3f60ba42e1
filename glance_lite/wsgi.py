"""WSGI entry point for mod_wsgi and uWSGI: ``glance_lite.wsgi:application``.

Config files come from GLANCE_LITE_CONFIG_FILES (comma-separated) or, when
unset, the usual places oslo.config searches for glance-lite.conf.

Under uWSGI, a chunked request body (python-glanceclient always uploads
chunked) is not in wsgi.input, which uWSGI 2.0 leaves empty: it has to be
pulled chunk by chunk with ``uwsgi.chunked_read()``. ``application`` then
gives the pipeline a wsgi.input that reads from there.

uWSGI also closes every connection after its answer without saying so.
``application`` says it, in a ``Connection: close`` sent first: a header
uWSGI adds itself (``add-header``) comes after the application's, and
Python's http.client (under requests and python-glanceclient) stops
reading headers at the first non-ASCII name, which glance_lite sends last
(a raw UTF-8 property name, spec §5.3). A client that never saw the close
sends its next request on the closed connection and fails.
"""

import os

from glance_lite.api import app
from glance_lite.server import uwsgi_input

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
            environ['wsgi.input'] = uwsgi_input.ChunkedInput(
                iter(chunked_read, b''))
            environ['wsgi.input_terminated'] = True
        return wsgi_app(environ, start_response)

    return application


def announce_close(wsgi_app):
    """Wrap wsgi_app so that every answer starts with
    ``Connection: close``."""

    def application(environ, start_response):
        def start_closing(status, headers, exc_info=None):
            return start_response(
                status, [('Connection', 'close')] + list(headers), exc_info)
        return wsgi_app(environ, start_closing)

    return application


_files = os.environ.get('GLANCE_LITE_CONFIG_FILES')
app.prepare_service(
    [], default_config_files=_files.split(',') if _files else None)
application = app.load_app()
if uwsgi is not None:
    application = announce_close(
        uwsgi_chunked_input(application, uwsgi.chunked_read))
