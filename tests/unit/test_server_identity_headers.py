"""server.identity_headers: headers whose name has an underscore leave the
WSGI environ (but x-image-meta-*); tests/security/test_identity_headers.py
checks it through the real server and the Keystone pipeline."""

from glance_lite.server import identity_headers


def environ_of(headers):
    """The environ keys cheroot (like every WSGI server) builds."""
    return {identity_headers.environ_key(name): value
            for name, value in headers}


def test_underscore_headers_are_dropped():
    headers = [('X_Roles', 'admin'), ('X-Auth-Token', 't')]
    environ = environ_of(headers)
    identity_headers.drop_underscore_headers(environ, headers)
    assert environ == {'HTTP_X_AUTH_TOKEN': 't'}


def test_the_dashed_header_of_the_same_key_keeps_its_value():
    headers = [('X-Roles', 'member'), ('X_Roles', 'admin')]
    # The server folded both into one key, the underscore one last.
    environ = environ_of(headers)
    assert environ == {'HTTP_X_ROLES': 'admin'}
    identity_headers.drop_underscore_headers(environ, headers)
    assert environ == {'HTTP_X_ROLES': 'member'}


def test_image_meta_headers_with_underscores_are_kept():
    headers = [('x-image-meta-disk_format', 'raw'),
               ('X-Image-Meta-Property-os_distro', 'debian')]
    environ = environ_of(headers)
    identity_headers.drop_underscore_headers(environ, headers)
    assert environ == {'HTTP_X_IMAGE_META_DISK_FORMAT': 'raw',
                       'HTTP_X_IMAGE_META_PROPERTY_OS_DISTRO': 'debian'}


def test_other_environ_keys_are_untouched():
    headers = [('Remote_User', 'admin')]
    environ = dict(environ_of(headers), REMOTE_USER='', PATH_INFO='/')
    identity_headers.drop_underscore_headers(environ, headers)
    assert environ == {'REMOTE_USER': '', 'PATH_INFO': '/'}
