"""The body of ``PATCH /v2/images/{image_id}`` parsed into operations
(v2 spec §10.1, and v2 spec §10.2 steps 1-8).

Everything here is decided from the request alone, before the image is
looked up; applying the operations to an image (v2 spec §10.3) is the
caller's.
"""

import dataclasses
import json
import re

import webob.exc

from glance_lite.api.v2 import bodies
from glance_lite.api.v2 import schemas
from glance_lite.common import exception

MEDIA_TYPE_V2_0 = 'application/openstack-images-v2.0-json-patch'
MEDIA_TYPE_V2_1 = 'application/openstack-images-v2.1-json-patch'
MEDIA_TYPES = (MEDIA_TYPE_V2_0, MEDIA_TYPE_V2_1)
ACCEPT_PATCH = ', '.join(MEDIA_TYPES)

ADD, REMOVE, REPLACE = 'add', 'remove', 'replace'
OPERATIONS = (ADD, REMOVE, REPLACE)

READ_ONLY = frozenset([
    'created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size',
    'direct_url', 'self', 'file', 'schema', 'id', 'os_hash_algo',
    'os_hash_value',
    # Glance stores a PATCHed "stores" as an additional property, which
    # the view then shows as if the image were in those stores
    # (v2 spec §23 V9).
    'stores'])
RESERVED = frozenset(['location', 'deleted', 'deleted_at'])
RESERVED_PREFIX = 'os_glance'
MAX_PROPERTY_NAME_LENGTH = 255

# Paths are one segment, except the element paths of locations
# (/locations/0, /locations/-) for add and remove.
_TWO_SEGMENTS = {('locations', ADD), ('locations', REMOVE)}
_BAD_ESCAPE = re.compile('~(?![01])')


@dataclasses.dataclass(frozen=True)
class Operation:
    """One change of a PATCH: ``path`` holds the unescaped segments;
    ``value`` is None for ``remove``; ``v2_0_form`` tells that it came in
    the deprecated media type, whose ``add`` never overwrites
    (v2 spec §10.3)."""

    op: str
    path: tuple
    value: object = None
    v2_0_form: bool = False


def _unsupported_media_type():
    return webob.exc.HTTPUnsupportedMediaType(
        explanation='Image PATCH expects Content-Type one of: %s'
                    % ACCEPT_PATCH,
        headers=[('Accept-Patch', ACCEPT_PATCH)])


def media_type(content_type):
    """The PATCH media type ``content_type`` names (parameters and case
    ignored).

    :raises webob.exc.HTTPUnsupportedMediaType: none of the two (415, with
        ``Accept-Patch``).
    """
    name = (content_type or '').split(';', 1)[0].strip().lower()
    if name not in MEDIA_TYPES:
        raise _unsupported_media_type()
    return name


def decode_pointer(pointer):
    """The segments of a JSON pointer, unescaped and stripped.

    :raises Invalid: a pointer of a form not accepted (400).
    """
    if not isinstance(pointer, str) or not pointer.startswith('/'):
        shown = pointer if isinstance(pointer, str) else json.dumps(pointer)
        raise exception.Invalid('Pointer `%s` does not start with "/".'
                                % shown)
    raw = pointer[1:].split('/')
    if any(not segment.strip() for segment in raw[:-1]):
        raise exception.Invalid('Pointer `%s` contains adjacent "/".'
                                % pointer)
    if not raw[-1]:
        if len(pointer) > 1:
            raise exception.Invalid('Pointer `%s` end with "/".' % pointer)
        raise exception.Invalid('Pointer `%s` does not contains valid '
                                'token.' % pointer)
    if not raw[-1].strip():
        # "/ ", a name of white space only: no property can have it.
        raise exception.Invalid('Pointer `%s` does not contains valid '
                                'token.' % pointer)
    if _BAD_ESCAPE.search(pointer):
        raise exception.Invalid('Pointer `%s` contains "~" not part of a '
                                'recognized escape sequence.' % pointer)
    # "~1" first, so that "~01" is "~1" and not "/" (RFC 6901, section 4).
    return tuple(segment.replace('~1', '/').replace('~0', '~').strip()
                 for segment in raw)


def _op_and_pointer(change, v2_0_form):
    if v2_0_form:
        named = [op for op in OPERATIONS if op in change]
        if not named:
            raise exception.Invalid(
                'Operation objects must contain exactly one member named '
                '"add", "remove", or "replace".')
        if len(named) > 1:
            raise exception.Invalid(
                'Operation objects must contain only one member named '
                '"add", "remove", or "replace".')
        return named[0], change[named[0]]
    op = change.get('op')
    if op is None:
        raise exception.Invalid(
            'Unable to find `op` in JSON Schema change. It must be one of '
            'the following: %s.' % ', '.join(OPERATIONS))
    if not isinstance(op, str) or op not in OPERATIONS:
        shown = op if isinstance(op, str) else json.dumps(op)
        raise exception.Invalid(
            'Invalid operation: `%s`. It must be one of the following: %s.'
            % (shown, ', '.join(OPERATIONS)))
    if 'path' not in change:
        raise exception.Invalid(
            "Unable to find 'path' in JSON Schema change")
    return op, change['path']


def _check_depth(op, path):
    depth = 2 if (path[0], op) in _TWO_SEGMENTS else 1
    if len(path) != depth:
        raise exception.Invalid(
            "Invalid JSON pointer for this resource: '/%s'" % '/'.join(path))


def _check_writable(name):
    if name in READ_ONLY:
        raise exception.Forbidden("Attribute '%s' is read-only." % name)
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise exception.Forbidden("Attribute '%s' is reserved." % name)


def _validate_value(path, value):
    name = path[0]
    if len(path) == 1:
        schemas.validate_image({name: value})
        if len(name) > MAX_PROPERTY_NAME_LENGTH:
            raise exception.Invalid("Custom property should not be greater "
                                    "than 255 characters.")
    else:
        # /locations/N: the value is one element of the locations array.
        schemas.validate_image({name: [value]})


def _parse_operation(change, v2_0_form):
    # The checks run in the order of v2 spec §10.2: the first failure
    # decides.
    if not isinstance(change, dict):
        raise exception.Invalid('Operations must be JSON objects.')
    op, pointer = _op_and_pointer(change, v2_0_form)
    path = decode_pointer(pointer)
    _check_depth(op, path)
    value = None
    if op != REMOVE:
        if 'value' not in change:
            raise exception.Invalid('Operation "%s" requires a member named '
                                    '"value".' % op)
        value = change['value']
    _check_writable(path[0])
    if op != REMOVE:
        _validate_value(path, value)
    return Operation(op, path, value, v2_0_form)


def parse(content_type, body, max_size=None):
    """The operations of a PATCH request, in request order.

    :param content_type: the request's Content-Type header value.
    :param body: the request body bytes.
    :param max_size: most body bytes accepted, None for no limit.
    :raises webob.exc.HTTPUnsupportedMediaType: not a PATCH media type
        (415, with ``Accept-Patch``).
    :raises LimitExceeded: the body is over ``max_size`` (413).
    :raises Invalid: a body, operation, pointer or value that is not
        accepted (400).
    :raises Forbidden: a read-only or reserved path (403).
    """
    v2_0_form = media_type(content_type) == MEDIA_TYPE_V2_0
    changes = bodies.load_json(body, max_size)
    if not isinstance(changes, list):
        raise exception.Invalid('Request body must be a JSON array of '
                                'operation objects.')
    return [_parse_operation(change, v2_0_form) for change in changes]
