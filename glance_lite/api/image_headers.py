"""The header codec: ``x-image-meta-*`` request headers to image metadata,
and an image back to response headers (spec §5.2, §5.3).

This is the only module that knows how image metadata travels in headers.
"""

import re
import urllib.parse

from oslo_utils import timeutils

from glance_lite.common import exception

PREFIX = 'x-image-meta-'
PROPERTY_PREFIX = 'x-image-meta-property-'
COPY_FROM_HEADER = 'x-glance-api-copy-from'
PURGE_PROPS_HEADER = 'x-glance-registry-purge-props'

# Every x-image-meta-<field> a request may carry; anything else is a 400.
ACCEPTED_FIELDS = frozenset([
    'location', 'size', 'is_public', 'disk_format', 'container_format',
    'name', 'status', 'copy_from', 'uri', 'checksum', 'created_at',
    'updated_at', 'deleted_at', 'min_ram', 'min_disk', 'owner', 'store',
    'id', 'protected', 'deleted', 'virtual_size'])
INTEGER_FIELDS = ('size', 'min_disk', 'min_ram', 'virtual_size')
BOOLEAN_FIELDS = ('is_public', 'protected', 'deleted')
TIMESTAMP_FIELDS = ('created_at', 'updated_at', 'deleted_at')
# Accepted for compatibility, with no effect (spec §5.1).
IGNORED_FIELDS = ('copy_from', 'uri')
TRUE_WORDS = frozenset(['1', 't', 'true', 'on', 'y', 'yes'])

# C0 controls but TAB (which HTTP field values may hold, and names such
# as 'tab\tinside' round-trip through python-glanceclient) and DEL,
# refused in decoded names and values (spec §5.2.8).
CONTROL_CHARACTERS = re.compile('[\x00-\x08\x0a-\x1f\x7f]')

# Range of the database's integer columns (min_disk/min_ram are 32-bit,
# sizes 64-bit); out-of-range values are a 400, never a database error.
MAX_INT32 = 2 ** 31 - 1
MAX_INT64 = 2 ** 63 - 1
MAX_NAME_LENGTH = 255
MAX_CHECKSUM_LENGTH = 32

# Attributes sent back as x-image-meta-<attr>, in this order.
RESPONSE_FIELDS = ('id', 'name', 'disk_format', 'container_format', 'size',
                   'virtual_size', 'checksum', 'status', 'is_public',
                   'protected', 'min_disk', 'min_ram', 'owner', 'created_at',
                   'updated_at', 'deleted_at', 'deleted')


class ImageMetaRequest:
    """What a request's headers ask for.

    ``core`` holds the parsed core attributes named by the request (a value
    of None means "set to null"); ``properties`` the custom properties;
    ``location``, ``copy_from`` and ``store`` the source directives.
    """

    def __init__(self):
        self.core = {}
        self.properties = {}
        self.location = None
        self.copy_from = None
        self.store = None
        self.has_location = False
        self.has_copy_from = False
        self.purge_props = None


def is_true(value):
    """The permissive boolean of v1: a few words mean true, all else false."""
    return value is not None and value.strip().lower() in TRUE_WORDS


def decode_header_text(raw, what):
    """Header text as the user typed it (spec §5.2.8).

    A Python 3 WSGI server hands header bytes over latin-1-decoded; current
    python-glanceclient percent-encodes names and values, older clients send
    raw UTF-8. Both end up as the same text here.
    """
    data = urllib.parse.unquote_to_bytes(raw.encode('latin-1', 'replace'))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise exception.Invalid(
            "Header %s is not valid UTF-8 (percent-encoded or raw)." % what)
    if any(ord(ch) > 0xFFFF for ch in text):
        raise exception.Invalid(
            "Header %s can't contain 4 byte unicode characters." % what)
    if CONTROL_CHARACTERS.search(text):
        # Decoded CR LF would be sent back raw in HEAD/GET headers (a
        # response split: a header of the client's choosing for every
        # reader); NUL no catalogue engine holds everywhere (PostgreSQL
        # refuses); no other control character is printable text.
        raise exception.Invalid(
            "Header %s can't contain control characters (NUL, CR, LF "
            "or any other below U+0020 but TAB, or DEL)." % what)
    return text


def encode_header_text(text):
    """Response header text: UTF-8 bytes carried in a latin-1 WSGI str.

    A control character (stored before requests were refused for them,
    or written straight into the catalogue) goes out percent-encoded, so
    no stored value can end a header line or start another one.
    """
    text = CONTROL_CHARACTERS.sub(
        lambda match: '%%%02X' % ord(match.group()), str(text))
    return text.encode('utf-8').decode('latin-1')


def _parse_integer(field, value):
    if value == '':
        return None
    if field == 'virtual_size' and value == 'None':
        return None
    what = 'image size' if field == 'size' else field
    try:
        number = int(value.strip(), 10)
    except ValueError:
        raise exception.Invalid(
            "Invalid value '%s' for parameter '%s': Cannot convert %s '%s' "
            "to an integer." % (value, field, what, value))
    if number < 0:
        raise exception.Invalid(
            "Invalid value '%s' for parameter '%s': Cannot be a negative "
            "value." % (value, field))
    limit = MAX_INT32 if field in ('min_disk', 'min_ram') else MAX_INT64
    if number > limit:
        raise exception.Invalid(
            "'%s' value out of range, must not exceed %d." % (field, limit))
    return number


def parse_timestamp(field, value):
    """An ISO 8601 time (date-only allowed) as naive UTC, or a 400."""
    try:
        parsed = timeutils.normalize_time(timeutils.parse_isotime(value))
        if parsed.year < 1900:
            raise ValueError(value)
    except (ValueError, TypeError, OverflowError):
        raise exception.Invalid("Invalid time format for %s." % field)
    return parsed


def _parse_core(field, value):
    if field in INTEGER_FIELDS:
        return _parse_integer(field, value)
    if field in BOOLEAN_FIELDS:
        return is_true(value)
    if value == '':
        return None
    if field in TIMESTAMP_FIELDS:
        return parse_timestamp(field, value)
    if field == 'name' and len(value) > MAX_NAME_LENGTH:
        raise exception.Invalid("Image name too long: %d" % len(value))
    if field == 'owner' and len(value) > MAX_NAME_LENGTH:
        raise exception.Invalid("Owner too long: %d characters, at most %d"
                                % (len(value), MAX_NAME_LENGTH))
    if field == 'checksum' and len(value) > MAX_CHECKSUM_LENGTH:
        raise exception.Invalid(
            "Invalid checksum '%s': can't exceed %d characters"
            % (value, MAX_CHECKSUM_LENGTH))
    return value


def parse_request(headers):
    """Parse a request's image headers into an ``ImageMetaRequest``.

    :param headers: the request headers (case-insensitive mapping).
    :raises Invalid: a bad header name or value (the caller answers 400).
    """
    meta = ImageMetaRequest()
    for raw_name, raw_value in headers.items():
        lname = raw_name.lower()
        if lname == COPY_FROM_HEADER:
            meta.has_copy_from = True
            meta.copy_from = decode_header_text(raw_value, raw_name).strip()
            continue
        if lname == PURGE_PROPS_HEADER:
            meta.purge_props = raw_value
            continue
        if not lname.startswith(PREFIX):
            continue
        value = decode_header_text(raw_value, raw_name)
        if lname.startswith(PROPERTY_PREFIX):
            key = decode_header_text(raw_name[len(PROPERTY_PREFIX):],
                                     raw_name).lower().replace('-', '_')
            if not key:
                raise exception.Invalid("Bad header: %s" % raw_name)
            if len(key) > MAX_NAME_LENGTH:
                raise exception.Invalid(
                    "Property name too long: %d" % len(key))
            meta.properties[key] = value if value != '' else None
            continue
        field = decode_header_text(raw_name[len(PREFIX):], raw_name)
        field = field.lower().replace('-', '_')
        if field not in ACCEPTED_FIELDS:
            # Named as the client sent it (lower-cased, dashes kept), not
            # by the field it would have been (spec §5.2 rule 3).
            raise exception.Invalid("Bad header: %s" % raw_name.lower())
        if field == 'location':
            meta.has_location = True
            meta.location = value.strip()
        elif field == 'store':
            meta.store = value.strip() or None
        elif field in IGNORED_FIELDS:
            continue
        else:
            meta.core[field] = _parse_core(field, value)
    return meta


def purge_requested(meta, has_body):
    """Whether properties not named in the request are deleted (spec §7.6)."""
    if has_body:
        return False
    if meta.purge_props is None:
        return True
    return is_true(meta.purge_props)


def format_timestamp(value):
    """A stored time as v1 shows it: UTC, no zone, always microseconds."""
    return value.strftime('%Y-%m-%dT%H:%M:%S.%f') if value else None


def _render(value):
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if hasattr(value, 'strftime'):
        return format_timestamp(value)
    return encode_header_text(value)


def image_to_headers(image):
    """Response headers for an image (HEAD and GET), as (name, value) pairs.

    Null attributes and null properties are left out; the location never
    appears.

    Properties whose name is not ASCII come last: Python's http.client
    (under requests, hence python-glanceclient) stops parsing headers at the
    first non-ASCII header name and drops every header after it, so those go
    after everything a client needs (core attributes, ETag).
    """
    headers = []
    for field in RESPONSE_FIELDS:
        value = image.get(field)
        if field == 'size' and value is None:
            value = 0  # no data yet; v1 has always said 0 (v2 spec X-10)
        if value is not None:
            headers.append((PREFIX + field, _render(value)))
    non_ascii_named = []
    for key, value in image.get('properties', {}).items():
        if value is not None:
            header = (encode_header_text(PROPERTY_PREFIX + key),
                      encode_header_text(value))
            (headers if key.isascii() else non_ascii_named).append(header)
    if image.get('checksum'):
        headers.append(('ETag', image['checksum']))
    return headers + non_ascii_named
