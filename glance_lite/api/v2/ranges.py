"""The byte range a v2 download asks for (v2 spec §12.3): a single-range
``Range`` header, or the ``Content-Range`` request header that pre-Pike
clients send instead.

Every 416 carries ``Content-Range: bytes */<size>``: RFC 9110 section 15.5.17
says a 416 to a byte-range request SHOULD name the representation's
current length, so a client can retry with a range that fits.
"""

import re

import webob.exc

from glance_lite.common import exception

# RFC 9110 allows no whitespace inside a range-spec; WebOb (which Glance
# parses with) tolerates blanks around the dash, and so does this.
_RANGE_SPEC = re.compile(r'([0-9]*)[ \t]*-[ \t]*([0-9]*)')
_CONTENT_RANGE = re.compile(r'bytes[ \t]+([0-9]+)-([0-9]+)/(?:[0-9]+|\*)',
                            re.IGNORECASE)

MULTIPLE_RANGES = ("Requests with multiple ranges are not supported in "
                   "Glance. You may make multiple single-range requests "
                   "instead.")
INVALID_RANGE = "Invalid Range header."
INVALID_CONTENT_RANGE = "Invalid Content-Range header."


def requested_range(size, range_header=None, content_range_header=None):
    """The bytes ``(first, last)``, both inclusive, that a download of an
    image of ``size`` bytes asks for, or None for the whole image (200).

    ``Range`` wins when both headers are given (a header given empty
    counts as given, and as unparsable).

    With ``size`` 0 there is no byte to address: a suffix range
    (``bytes=-n``, "the last n bytes") asks for the whole image, which is
    answered as a whole (None, so 200 with an empty body: a 206 would need
    a ``Content-Range`` of no bytes, which has no spelling); a range with
    a start position is unsatisfiable, and its 416 message names the
    inclusive range [0, -1], i.e. none.

    :param size: the image's size in bytes (an image with data has one).
    :raises Invalid: several ranges (400).
    :raises webob.exc.HTTPRequestRangeNotSatisfiable: an unparsable or
        unsatisfiable range (416), with the message of v2 spec §12.3.
    """
    if range_header is not None:
        return _from_range(range_header, size)
    if content_range_header is not None:
        return _from_content_range(content_range_header, size)
    return None


def content_range(first, last, size):
    """The ``Content-Range`` value of a 206 carrying bytes first…last."""
    return 'bytes %d-%d/%d' % (first, last, size)


def _not_satisfiable(message, size):
    return webob.exc.HTTPRequestRangeNotSatisfiable(
        explanation=message,
        headers=[('Content-Range', 'bytes */%d' % size)])


def _start_error(header, size):
    return _not_satisfiable(
        "Invalid start position in %s header. Start position MUST be in "
        "the inclusive range [0, %d]." % (header, size - 1), size)


def _number(digits, message, size):
    try:
        return int(digits)
    except ValueError:
        # Beyond sys.get_int_max_str_digits: not a position anyone means.
        raise _not_satisfiable(message, size)


def _from_range(header, size):
    unit, equals, range_set = header.partition('=')
    # Range units are case-insensitive (RFC 9110 section 14.1). Any other
    # unit is a 416, as in Glance and the v2 spec §12.3, where RFC 9110
    # section 14.2 would have the header ignored.
    if not equals or unit.strip().lower() != 'bytes':
        raise _not_satisfiable(INVALID_RANGE, size)
    # The list syntax allows empty elements: "bytes=0-1," is one range.
    specs = [spec.strip() for spec in range_set.split(',') if spec.strip()]
    if len(specs) > 1:
        raise exception.Invalid(MULTIPLE_RANGES)
    match = _RANGE_SPEC.fullmatch(specs[0]) if specs else None
    if match is None or match.groups() == ('', ''):
        raise _not_satisfiable(INVALID_RANGE, size)
    first, last = (_number(digits, INVALID_RANGE, size) if digits else None
                   for digits in match.groups())
    if first is None:
        # bytes=-n: the last n bytes. A suffix of no byte is unsatisfiable
        # (RFC 9110 section 14.1.2); one of n >= size is the whole image, still
        # sent as 206 (v2 spec §12.3).
        if last == 0:
            raise _not_satisfiable(INVALID_RANGE, size)
        if size == 0:
            return None
        return max(size - last, 0), size - 1
    if last is not None and last < first:
        raise _not_satisfiable(INVALID_RANGE, size)
    if first >= size:
        raise _start_error('Range', size)
    if last is None or last >= size:
        last = size - 1
    return first, last


def _from_content_range(header, size):
    # The complete length after the slash is the client's guess; the size
    # of the image decides.
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise _not_satisfiable(INVALID_CONTENT_RANGE, size)
    first, last = (_number(digits, INVALID_CONTENT_RANGE, size)
                   for digits in match.groups())
    if last < first:
        raise _not_satisfiable(INVALID_CONTENT_RANGE, size)
    # The start is checked first, so that both messages can be seen: with
    # first <= last, a stop within the image implies a start within it.
    if first >= size:
        raise _start_error('Content-Range', size)
    if last >= size:
        raise _not_satisfiable(
            "Invalid stop position in Content-Range header. Stop position "
            "MUST be in the inclusive range [0, %d]." % (size - 1), size)
    return first, last
