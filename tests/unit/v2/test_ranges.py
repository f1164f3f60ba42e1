"""The byte range of a v2 download (v2 spec §12.3): the Range header, or
the Content-Range request header of older clients."""

import string

import pytest
import webob.exc

from glance_lite.api.v2 import ranges
from glance_lite.common import exception

DATA = string.ascii_uppercase.encode()
SIZE = len(DATA)
MULTIPLE = ("Requests with multiple ranges are not supported in Glance. You "
            "may make multiple single-range requests instead.")


def _range(header, size=SIZE):
    return ranges.requested_range(size, range_header=header)


def _content_range(header, size=SIZE):
    return ranges.requested_range(size, content_range_header=header)


def _unsatisfiable(size=SIZE, **headers):
    with pytest.raises(webob.exc.HTTPRequestRangeNotSatisfiable) as caught:
        ranges.requested_range(size, **headers)
    error = caught.value
    assert error.status_int == 416
    # RFC 9110 section 15.5.17: the current length, for a retry that fits.
    assert error.headers['Content-Range'] == 'bytes */%d' % size
    return error.explanation


def _bytes(byte_range):
    first, last = byte_range
    return DATA[first:last + 1]


def test_no_range_header_asks_for_the_whole_image():
    assert ranges.requested_range(SIZE) is None
    assert ranges.requested_range(SIZE, None, None) is None


# --- Range ------------------------------------------------------------------

def test_a_range_within_the_image():
    assert _range('bytes=3-10') == (3, 10)
    assert _bytes(_range('bytes=3-10')) == b'DEFGHIJK'


@pytest.mark.parametrize('header, expected', [
    ('bytes=0-0', (0, 0)),
    ('bytes=25-25', (25, 25)),
    ('bytes=0-25', (0, 25)),
    ('bytes=3-26', (3, 25)),
    ('bytes=3-1000000000000000000000', (3, 25)),
])
def test_the_last_position_stops_at_the_image_end(header, expected):
    assert _range(header) == expected


def test_an_open_range_runs_to_the_end():
    assert _range('bytes=5-') == (5, 25)
    assert _bytes(_range('bytes=25-')) == b'Z'


def test_a_suffix_range_is_the_last_bytes():
    assert _range('bytes=-3') == (23, 25)
    assert _bytes(_range('bytes=-3')) == b'XYZ'


@pytest.mark.parametrize('suffix', [SIZE, SIZE + 1, 10 ** 30])
def test_a_suffix_as_long_as_the_image_or_longer_is_the_whole_image(suffix):
    # Still a range (206), not None (200).
    assert _range('bytes=-%d' % suffix) == (0, 25)


@pytest.mark.parametrize('header', ['bytes=26-30', 'bytes=26-', 'bytes=99-',
                                    'bytes=%d-' % 10 ** 30])
def test_a_start_beyond_the_image_is_unsatisfiable(header):
    assert _unsatisfiable(range_header=header) == (
        "Invalid start position in Range header. Start position MUST be in "
        "the inclusive range [0, 25].")


@pytest.mark.parametrize('header', ['bytes=10-5', 'bytes=1-0',
                                    'bytes=30-27'])
def test_a_reversed_range_is_invalid(header):
    assert _unsatisfiable(range_header=header) == "Invalid Range header."


@pytest.mark.parametrize('header', [
    'items=0-1', 'bytes 0-1', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=0-1-2',
    'bytes=0', '=0-1', '', '0-1', 'bytes=-0', 'bytes=+1-2', 'bytes=0x1-2',
    'bytes=1-%s' % ('9' * 5000)])
def test_an_unparsable_range_is_invalid(header):
    assert _unsatisfiable(range_header=header) == "Invalid Range header."


@pytest.mark.parametrize('header', ['Bytes=3-10', 'BYTES=3-10',
                                    ' bytes = 3 - 10 ', 'bytes=3-10,',
                                    'bytes=,3-10'])
def test_range_syntax_leniency(header):
    assert _range(header) == (3, 10)


@pytest.mark.parametrize('header', ['bytes=0-1,3-4', 'bytes=0-1, 3-4',
                                    'bytes=0-1,-2', 'bytes=0-1,junk',
                                    'bytes=50-60,70-80'])
def test_several_ranges_are_refused(header):
    with pytest.raises(exception.Invalid) as caught:
        _range(header)
    assert caught.value.msg == MULTIPLE


# --- Content-Range in the request -------------------------------------------

@pytest.mark.parametrize('header', ['bytes 3-10/*', 'bytes 3-10/26',
                                    'bytes 3-10/1000', 'Bytes 3-10/*'])
def test_a_content_range_is_taken_as_a_range(header):
    assert _content_range(header) == (3, 10)
    assert _bytes(_content_range(header)) == b'DEFGHIJK'


def test_a_content_range_may_end_at_the_last_byte():
    assert _content_range('bytes 0-25/*') == (0, 25)


@pytest.mark.parametrize('header', ['bytes 3-26/*', 'bytes 0-100/*'])
def test_a_content_range_stop_beyond_the_image_is_unsatisfiable(header):
    # Unlike Range, the stop is not cut down to the image.
    assert _unsatisfiable(content_range_header=header) == (
        "Invalid stop position in Content-Range header. Stop position MUST "
        "be in the inclusive range [0, 25].")


@pytest.mark.parametrize('header', ['bytes 26-30/*', 'bytes 30-30/*'])
def test_a_content_range_start_beyond_the_image_is_unsatisfiable(header):
    assert _unsatisfiable(content_range_header=header) == (
        "Invalid start position in Content-Range header. Start position MUST "
        "be in the inclusive range [0, 25].")


@pytest.mark.parametrize('header', [
    'bytes 10-5/*', 'bytes=3-10', 'bytes 3-/*', 'bytes -3/*', 'bytes */26',
    'bytes 3-10', 'items 3-10/*', '', 'bytes 3-10/x', 'bytes 0-1,3-4/*'])
def test_an_unparsable_content_range_is_invalid(header):
    assert (_unsatisfiable(content_range_header=header)
            == "Invalid Content-Range header.")


# --- both headers -----------------------------------------------------------

def test_range_wins_over_content_range():
    assert ranges.requested_range(SIZE, 'bytes=1-2', 'bytes 3-4/*') == (1, 2)


def test_range_wins_even_when_content_range_is_broken():
    assert ranges.requested_range(SIZE, 'bytes=1-2', 'garbage') == (1, 2)


def test_a_broken_range_is_not_rescued_by_content_range():
    assert _unsatisfiable(range_header='bytes=5-1',
                          content_range_header='bytes 3-4/*') == (
        "Invalid Range header.")


# --- an empty image ---------------------------------------------------------

@pytest.mark.parametrize('header', ['bytes=-1', 'bytes=-100'])
def test_a_suffix_range_of_an_empty_image_is_the_whole_image(header):
    # No 206 can describe zero bytes: the answer is a 200 with no body.
    assert _range(header, size=0) is None


@pytest.mark.parametrize('header', ['bytes=0-', 'bytes=0-0', 'bytes=0-10'])
def test_a_start_position_in_an_empty_image_is_unsatisfiable(header):
    assert _unsatisfiable(size=0, range_header=header) == (
        "Invalid start position in Range header. Start position MUST be in "
        "the inclusive range [0, -1].")


def test_a_content_range_of_an_empty_image_is_unsatisfiable():
    assert _unsatisfiable(size=0, content_range_header='bytes 0-0/*') == (
        "Invalid start position in Content-Range header. Start position MUST "
        "be in the inclusive range [0, -1].")


def test_a_zero_suffix_of_an_empty_image_is_still_invalid():
    assert _unsatisfiable(size=0, range_header='bytes=-0') == (
        "Invalid Range header.")


# --- the 206 header ---------------------------------------------------------

def test_content_range_of_a_partial_answer():
    assert ranges.content_range(3, 10, 26) == 'bytes 3-10/26'
