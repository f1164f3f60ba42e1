"""Request headers whose name has an underscore, dropped from the WSGI
environ.

WSGI folds ``X-Roles`` and ``X_Roles`` into the same environ key
(HTTP_X_ROLES), so a client could slip an identity header past a proxy
that strips only the dashed form. Apache httpd and nginx drop headers with
an underscore for that reason; glance-lite-api does the same, except for
the ``x-image-meta-*`` ones (python-glanceclient sends
``x-image-meta-disk_format``).
"""

KEPT_PREFIX = 'x-image-meta-'


def environ_key(header_name):
    """The WSGI environ key of a request header (``HTTP_X_ROLES``)."""
    return 'HTTP_' + header_name.upper().replace('-', '_')


def drop_underscore_headers(environ, headers):
    """Remove from ``environ`` the keys of the request's headers whose
    name has an underscore (but for ``x-image-meta-*``); a dashed header of
    the same key keeps its value.

    :param environ: the WSGI environ the server built from ``headers``.
    :param headers: the request's headers as sent, (name, value) strings.
    """
    dropped = {environ_key(name) for name, _value in headers
               if '_' in name and not name.lower().startswith(KEPT_PREFIX)}
    for key in dropped:
        environ.pop(key, None)
    for name, value in headers:
        if '_' not in name and environ_key(name) in dropped:
            environ[environ_key(name)] = value
