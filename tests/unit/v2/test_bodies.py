"""JSON request bodies of the v2 routes (v2 spec §3)."""

import pytest

from glance_lite.api.v2 import bodies
from glance_lite.common import exception


@pytest.mark.parametrize('body', [b'', None])
def test_no_body_is_refused(body):
    with pytest.raises(exception.Invalid) as raised:
        bodies.load_json(body)
    assert raised.value.msg == "Body expected in request."


@pytest.mark.parametrize('body', [
    b'{', b'   ', b'{"a": }', b"{'a': 1}", b'\xff\xfe{}', b'{"a": "\xe9"}',
    b'NaN', b'[Infinity]', b'{"a": -Infinity}',
    b'\xef\xbb\xbf{}'])
def test_text_that_is_not_utf8_json_is_malformed(body):
    with pytest.raises(exception.Invalid) as raised:
        bodies.load_json(body)
    assert raised.value.msg == "Malformed JSON in request body."


def test_json_nested_too_deep_for_the_parser_is_malformed():
    with pytest.raises(exception.Invalid) as raised:
        bodies.load_json(b'[' * 100000 + b']' * 100000)
    assert raised.value.msg == "Malformed JSON in request body."


@pytest.mark.parametrize('body', [b'5', b'"x"', b'null', b'true', b'1.5'])
def test_a_json_scalar_is_refused(body):
    with pytest.raises(exception.Invalid) as raised:
        bodies.load_json(body)
    assert raised.value.msg == "Unexpected body type. Expected list/dict."


@pytest.mark.parametrize('body, expected', [
    (b'{}', {}), (b'[]', []), (b' {"name": "x"} ', {'name': 'x'}),
    ('{"name": "caf\u00e9"}'.encode('utf-8'), {'name': 'caf\u00e9'}),
    (b'[{"op": "add"}]', [{'op': 'add'}])])
def test_objects_and_arrays_are_returned(body, expected):
    assert bodies.load_json(body) == expected


def test_a_body_over_the_limit_is_refused():
    with pytest.raises(exception.LimitExceeded) as raised:
        bodies.load_json(b'{"a": "bc"}', max_size=10)
    assert raised.value.msg == ("The JSON request body is 11 bytes, more "
                                "than the 10 bytes allowed.")


def test_a_body_of_exactly_the_limit_is_read():
    assert bodies.load_json(b'{"a": "b"}', max_size=10) == {'a': 'b'}


def test_the_limit_is_checked_before_parsing():
    with pytest.raises(exception.LimitExceeded):
        bodies.load_json(b'not json at all', max_size=3)


def test_check_size_without_a_limit_accepts_anything():
    bodies.check_size(10 ** 12, None)


def test_check_size_refuses_one_byte_over():
    bodies.check_size(1024, 1024)
    with pytest.raises(exception.LimitExceeded):
        bodies.check_size(1025, 1024)
