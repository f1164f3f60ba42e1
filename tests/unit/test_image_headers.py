"""The x-image-meta-* header codec (spec §5.2, §5.3, §7.6)."""

import datetime

import pytest

from glance_lite.api import image_headers
from glance_lite.common import exception


def parse(headers):
    return image_headers.parse_request(headers)


def wsgi_str(text):
    """How a Python 3 WSGI server hands over raw UTF-8 header bytes."""
    return text.encode('utf-8').decode('latin-1')


# -- names (§5.2 items 1-3) -------------------------------------------------

@pytest.mark.parametrize('header', [
    'X-Image-Meta-Disk-Format', 'x-image-meta-disk_format',
    'X-IMAGE-META-DISK_FORMAT', 'x-image-meta-Disk-format'])
def test_core_names_are_normalised(header):
    meta = parse({header: 'qcow2'})
    assert meta.core == {'disk_format': 'qcow2'}
    assert meta.properties == {}


def test_property_name_lower_cased_dashes_become_underscores():
    meta = parse({'X-Image-Meta-Property-OS-Distro': 'ubuntu'})
    assert meta.properties == {'os_distro': 'ubuntu'}
    assert meta.core == {}


def test_property_name_keeps_other_punctuation():
    meta = parse({'x-image-meta-property-a.b:c': 'v'})
    assert meta.properties == {'a.b:c': 'v'}


def test_non_image_headers_are_ignored():
    meta = parse({'Content-Type': 'application/octet-stream',
                  'X-Auth-Token': 'x', 'X-Image-Meta-Name': 'n'})
    assert meta.core == {'name': 'n'}
    assert meta.properties == {}


@pytest.mark.parametrize('header', [
    'x-image-meta-foo', 'x-image-meta-properties', 'X-Image-Meta-Bar-Baz',
    'x-image-meta-locations', 'x-image-meta-'])
def test_bad_header_is_invalid(header):
    with pytest.raises(exception.Invalid) as err:
        parse({header: 'x'})
    assert 'Bad header' in str(err.value)


def test_bad_header_message_names_the_normalised_field():
    with pytest.raises(exception.Invalid) as err:
        parse({'X-Image-Meta-Foo': 'x'})
    assert str(err.value) == 'Bad header: x-image-meta-foo'


@pytest.mark.parametrize('header, named', [
    ('X-Image-Meta-Location-Data', 'x-image-meta-location-data'),
    ('x-image-meta-Disk-Formats', 'x-image-meta-disk-formats'),
])
def test_bad_header_message_names_the_header_as_sent_lower_cased(header,
                                                                 named):
    # Spec §5.2 rule 3: dashes kept, not turned into the field's "_".
    with pytest.raises(exception.Invalid) as err:
        parse({header: 'x'})
    assert str(err.value) == 'Bad header: %s' % named


@pytest.mark.parametrize('field', sorted(image_headers.ACCEPTED_FIELDS))
def test_every_accepted_field_is_accepted(field):
    value = {'size': '1', 'min_disk': '1', 'min_ram': '1',
             'virtual_size': '1', 'created_at': '2012-01-01',
             'updated_at': '2012-01-01', 'deleted_at': '2012-01-01',
             'id': '6c4b7b38-7f6e-4a1c-9a6c-7e3f1f0b3b7a'}.get(field, 'x')
    parse({'x-image-meta-' + field: value})


def test_source_directives():
    meta = parse({'x-image-meta-location': ' http://example.com/a ',
                  'x-image-meta-store': 'file',
                  'x-glance-api-copy-from': 'http://example.com/b'})
    assert meta.has_location and meta.location == 'http://example.com/a'
    assert meta.store == 'file'
    assert meta.has_copy_from and meta.copy_from == 'http://example.com/b'
    assert 'location' not in meta.core and 'store' not in meta.core


def test_copy_from_and_uri_meta_headers_have_no_effect():
    meta = parse({'x-image-meta-copy_from': 'http://example.com/x',
                  'x-image-meta-uri': 'http://example.com/y'})
    assert meta.core == {}
    assert not meta.has_copy_from
    assert not meta.has_location


# -- empty values (§5.2 item 4) ---------------------------------------------

def test_empty_values_mean_null():
    meta = parse({'x-image-meta-name': '', 'x-image-meta-disk_format': '',
                  'x-image-meta-checksum': '', 'x-image-meta-owner': '',
                  'x-image-meta-property-foo': ''})
    assert meta.core == {'name': None, 'disk_format': None,
                         'checksum': None, 'owner': None}
    assert meta.properties == {'foo': None}


# -- integers (§5.2 item 5, Q5, Q26) ----------------------------------------

@pytest.mark.parametrize('field', ['size', 'min_disk', 'min_ram',
                                   'virtual_size'])
def test_integers_parse(field):
    assert parse({'x-image-meta-' + field: '42'}).core == {field: 42}
    assert parse({'x-image-meta-' + field: '0'}).core == {field: 0}


@pytest.mark.parametrize('field', ['size', 'min_disk', 'min_ram',
                                   'virtual_size'])
@pytest.mark.parametrize('value', ['abc', '1.5', '0x10', '1e3', '12a'])
def test_integer_not_a_number_is_invalid(field, value):
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-' + field: value})
    assert "Invalid value '%s' for parameter '%s'" % (value, field) in str(
        err.value)


def test_size_message_wording():
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-size': 'abc'})
    assert str(err.value) == (
        "Invalid value 'abc' for parameter 'size': Cannot convert image "
        "size 'abc' to an integer.")


@pytest.mark.parametrize('field', ['size', 'min_disk', 'min_ram',
                                   'virtual_size'])
def test_negative_integer_is_invalid(field):
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-' + field: '-1'})
    assert 'Cannot be a negative value' in str(err.value)


@pytest.mark.parametrize('field', ['min_disk', 'min_ram'])
def test_min_values_out_of_range(field):
    assert parse({'x-image-meta-' + field: '2147483647'}).core == {
        field: 2147483647}
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-' + field: '2147483648'})
    assert str(err.value) == (
        "'%s' value out of range, must not exceed 2147483647." % field)


@pytest.mark.parametrize('field', ['size', 'virtual_size'])
def test_sizes_out_of_64_bit_range(field):
    assert parse({'x-image-meta-' + field: str(2 ** 63 - 1)}).core == {
        field: 2 ** 63 - 1}
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-' + field: str(2 ** 63)})
    assert 'out of range' in str(err.value)
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-' + field: '9' * 40})


@pytest.mark.parametrize('field', ['size', 'min_disk', 'min_ram',
                                   'virtual_size'])
def test_empty_integer_is_null(field):
    assert parse({'x-image-meta-' + field: ''}).core == {field: None}


def test_virtual_size_none_literal():
    assert parse({'x-image-meta-virtual_size': 'None'}).core == {
        'virtual_size': None}
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-size': 'None'})


# -- booleans (§5.2 item 6, Q18) --------------------------------------------

@pytest.mark.parametrize('field', ['is_public', 'protected', 'deleted'])
@pytest.mark.parametrize('value', ['1', 't', 'true', 'on', 'y', 'yes',
                                   'True', 'TRUE', 'Yes', 'ON', 'T', 'Y'])
def test_boolean_true_words(field, value):
    assert parse({'x-image-meta-' + field: value}).core == {field: True}


@pytest.mark.parametrize('field', ['is_public', 'protected', 'deleted'])
@pytest.mark.parametrize('value', ['0', 'false', 'False', 'no', 'off',
                                   'banana', '', '2', 'truee', 'None'])
def test_boolean_everything_else_is_false(field, value):
    assert parse({'x-image-meta-' + field: value}).core == {field: False}


# -- timestamps (§5.4) ------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('2012-01-01T12:32:12', datetime.datetime(2012, 1, 1, 12, 32, 12)),
    ('2012-01-01T12:32:12.123456',
     datetime.datetime(2012, 1, 1, 12, 32, 12, 123456)),
    ('2012-01-01T12:32:12Z', datetime.datetime(2012, 1, 1, 12, 32, 12)),
    ('2012-01-01T14:32:12+02:00', datetime.datetime(2012, 1, 1, 12, 32, 12)),
    ('2012-01-01', datetime.datetime(2012, 1, 1)),
])
@pytest.mark.parametrize('field', ['created_at', 'updated_at', 'deleted_at'])
def test_valid_timestamps(field, value, expected):
    parsed = parse({'x-image-meta-' + field: value}).core[field]
    assert parsed == expected
    assert parsed.tzinfo is None


@pytest.mark.parametrize('value', ['-42', 'foo', '1100',
                                   '2012-01-01hey12:32:12', '1899-12-31'])
@pytest.mark.parametrize('field', ['created_at', 'updated_at', 'deleted_at'])
def test_invalid_timestamps(field, value):
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-' + field: value})
    assert str(err.value) == 'Invalid time format for %s.' % field


def test_format_timestamp_always_has_microseconds():
    assert image_headers.format_timestamp(
        datetime.datetime(2016, 5, 10, 21, 35, 15)) == (
        '2016-05-10T21:35:15.000000')
    assert image_headers.format_timestamp(
        datetime.datetime(2016, 5, 10, 21, 35, 15, 42)) == (
        '2016-05-10T21:35:15.000042')
    assert image_headers.format_timestamp(None) is None


# -- string limits (§5.1) ---------------------------------------------------

def test_name_length_limit():
    assert parse({'x-image-meta-name': 'n' * 255}).core == {'name': 'n' * 255}
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-name': 'n' * 256})
    assert str(err.value) == 'Image name too long: 256'


def test_name_length_counts_characters_not_bytes():
    name = '\u00e9' * 255
    assert parse({'x-image-meta-name': wsgi_str(name)}).core == {
        'name': name}


def test_checksum_length_limit():
    value = 'a' * 32
    assert parse({'x-image-meta-checksum': value}).core == {
        'checksum': value}
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-checksum': 'a' * 33})
    assert str(err.value) == (
        "Invalid checksum '%s': can't exceed 32 characters" % ('a' * 33))


def test_checksum_is_stored_as_given():
    assert parse({'x-image-meta-checksum': 'not-hex!'}).core == {
        'checksum': 'not-hex!'}


def test_property_name_longer_than_255_is_invalid():
    assert parse({'x-image-meta-property-' + 'k' * 255: 'v'}).properties == {
        'k' * 255: 'v'}
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-property-' + 'k' * 256: 'v'})


# -- character encoding (§5.2 item 8, Q23) ----------------------------------

def test_percent_encoded_value_is_decoded():
    meta = parse({'x-image-meta-name': 'a%20b%20%C3%A9'})
    assert meta.core == {'name': 'a b \u00e9'}


def test_percent_encoded_property_name_and_value():
    meta = parse({'x-image-meta-property-%C3%A9t%C3%A9':
                  'Ubuntu%2022.04'})
    assert meta.properties == {'\u00e9t\u00e9': 'Ubuntu 22.04'}


@pytest.mark.parametrize('raw, expected', [
    ('%zz', '%zz'), ('100%', '100%'), ('a%2', 'a%2'), ('%%41', '%A'),
    ('50%-off', '50%-off')])
def test_percent_without_two_hex_digits_stays_literal(raw, expected):
    assert parse({'x-image-meta-name': raw}).core == {'name': expected}


def test_copy_from_is_percent_decoded():
    meta = parse({'x-glance-api-copy-from': 'http://h/a%20b'})
    assert meta.copy_from == 'http://h/a b'


def test_raw_utf8_sent_as_latin1_str_is_decoded():
    meta = parse({'x-image-meta-name': wsgi_str('caf\u00e9 \u65e5\u672c'),
                  'x-image-meta-property-' + wsgi_str('cl\u00e9'):
                  wsgi_str('\u00fcber')})
    assert meta.core == {'name': 'caf\u00e9 \u65e5\u672c'}
    assert meta.properties == {'cl\u00e9': '\u00fcber'}


@pytest.mark.parametrize('raw', ['%C3%28', '%FF', '\xe9', '%E9t%E9',
                                 '\xc3('])
def test_invalid_utf8_is_invalid(raw):
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-name': raw})
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-property-foo': raw})


def test_invalid_utf8_in_property_name_is_invalid():
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-property-%FF': 'v'})


@pytest.mark.parametrize('raw', ['%F0%9F%98%80', wsgi_str('\U0001F600'),
                                 'a%F0%90%8D%88b'])
def test_four_byte_unicode_is_invalid(raw):
    with pytest.raises(exception.Invalid) as err:
        parse({'x-image-meta-name': raw})
    assert '4 byte unicode' in str(err.value)
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-property-p': raw})
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-property-' + raw: 'v'})


@pytest.mark.parametrize('raw', ['a%00b', '%00'])
def test_nul_is_invalid(raw):
    # Validated up front: the catalogue cannot store it on every engine.
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-name': raw})
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-property-p': raw})
    with pytest.raises(exception.Invalid):
        parse({'x-image-meta-property-' + raw: 'v'})
    with pytest.raises(exception.Invalid):
        parse({'x-glance-api-copy-from': 'http://h/' + raw})


@pytest.mark.parametrize('raw', [
    'x%0d%0aSet-Cookie:%20s=evil', 'a%0Db', 'a%0ab', '%0A', 'a%08b',
    'a%01b', 'a%1Fb', 'a%7Fb', 'a\x7fb', 'a%0Bb', 'a\x0bb'])
def test_control_characters_are_invalid(raw):
    # Percent-decoded CR LF sent back raw in a HEAD answer would be a
    # header of the client's choosing (response splitting).
    for headers in ({'x-image-meta-name': raw},
                    {'x-image-meta-disk_format': raw},
                    {'x-image-meta-owner': raw},
                    {'x-image-meta-location': 'http://h/' + raw},
                    {'x-image-meta-property-p': raw},
                    {'x-image-meta-property-' + raw: 'v'},
                    {'x-image-meta-' + raw: 'v'},
                    {'x-glance-api-copy-from': 'http://h/' + raw}):
        with pytest.raises(exception.Invalid) as err:
            parse(headers)
        assert 'control characters' in str(err.value)


def test_printable_ascii_and_tab_are_fine():
    text = '\t' + ''.join(chr(c) for c in range(0x20, 0x7f) if chr(c) != '%')
    meta = parse({'x-image-meta-property-p': text})
    assert meta.properties == {'p': text}


def test_bmp_characters_are_fine():
    text = '\uffff\u4e2d\u0416'
    assert parse({'x-image-meta-name': wsgi_str(text)}).core == {
        'name': text}


# -- purge (§7.6) -----------------------------------------------------------

@pytest.mark.parametrize('header, has_body, expected', [
    (None, False, True),
    ('true', False, True), ('True', False, True), ('1', False, True),
    ('yes', False, True), ('on', False, True), ('t', False, True),
    ('y', False, True), ('YES', False, True),
    ('false', False, False), ('False', False, False), ('0', False, False),
    ('no', False, False), ('foo', False, False), ('', False, False),
    (None, True, False), ('true', True, False), ('false', True, False),
])
def test_purge_requested(header, has_body, expected):
    headers = {}
    if header is not None:
        headers['X-Glance-Registry-Purge-Props'] = header
    meta = parse(headers)
    assert image_headers.purge_requested(meta, has_body) is expected


def test_purge_header_is_not_image_metadata():
    meta = parse({'x-glance-registry-purge-props': 'false'})
    assert meta.core == {} and meta.properties == {}


# -- image -> headers (§5.3) ------------------------------------------------

def _image(**overrides):
    image = {
        'id': '6c4b7b38-7f6e-4a1c-9a6c-7e3f1f0b3b7a', 'name': 'img',
        'disk_format': 'raw', 'container_format': 'bare', 'size': 5,
        'virtual_size': None, 'checksum': None, 'status': 'queued',
        'is_public': True, 'protected': False, 'min_disk': 0, 'min_ram': 0,
        'owner': None,
        'created_at': datetime.datetime(2016, 5, 10, 21, 35, 15),
        'updated_at': datetime.datetime(2016, 5, 10, 21, 35, 15, 123),
        'deleted_at': None, 'deleted': False, 'properties': {},
        'locations': [{'url': 'file:///secret', 'metadata': {},
                       'status': 'active'}],
    }
    image.update(overrides)
    return image


def test_image_to_headers_renders_core_attributes():
    headers = dict(image_headers.image_to_headers(_image()))
    assert headers == {
        'x-image-meta-id': '6c4b7b38-7f6e-4a1c-9a6c-7e3f1f0b3b7a',
        'x-image-meta-name': 'img',
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare',
        'x-image-meta-size': '5',
        'x-image-meta-status': 'queued',
        'x-image-meta-is_public': 'True',
        'x-image-meta-protected': 'False',
        'x-image-meta-min_disk': '0',
        'x-image-meta-min_ram': '0',
        'x-image-meta-created_at': '2016-05-10T21:35:15.000000',
        'x-image-meta-updated_at': '2016-05-10T21:35:15.000123',
        'x-image-meta-deleted': 'False',
    }


def test_image_to_headers_omits_nulls_and_never_shows_location():
    headers = dict(image_headers.image_to_headers(_image(name=None)))
    for absent in ('x-image-meta-name', 'x-image-meta-checksum',
                   'x-image-meta-owner', 'x-image-meta-deleted_at',
                   'x-image-meta-virtual_size', 'x-image-meta-location',
                   'x-image-meta-locations', 'x-image-meta-direct_url',
                   'x-image-meta-store', 'x-image-meta-uri', 'ETag',
                   'Content-MD5'):
        assert absent not in headers
    assert not any('secret' in v for v in headers.values())


def test_image_to_headers_properties():
    headers = image_headers.image_to_headers(_image(
        properties={'os_distro': 'ubuntu', 'gone': None, 'empty': ''}))
    as_dict = dict(headers)
    assert as_dict['x-image-meta-property-os_distro'] == 'ubuntu'
    assert as_dict['x-image-meta-property-empty'] == ''
    assert 'x-image-meta-property-gone' not in as_dict


def test_image_to_headers_encodes_utf8():
    headers = dict(image_headers.image_to_headers(_image(
        name='caf\u00e9', properties={'cl\u00e9': '\u65e5\u672c'})))
    # WSGI carries bytes in latin-1 strs: the wire bytes must be UTF-8.
    assert headers['x-image-meta-name'].encode('latin-1') == (
        'caf\u00e9'.encode('utf-8'))
    name = 'x-image-meta-property-cl\u00e9'.encode('utf-8').decode('latin-1')
    assert headers[name].encode('latin-1').decode('utf-8') == '\u65e5\u672c'
    for key, value in headers.items():
        key.encode('latin-1')
        value.encode('latin-1')


def test_image_to_headers_round_trips_through_parse():
    image = _image(name='a b \u00e9', properties={'os_distro': 'd\u00e9b'})
    sent = image_headers.image_to_headers(image)
    meta = parse({k: v for k, v in sent if k.startswith('x-image-meta-')
                  and k not in ('x-image-meta-status',)})
    assert meta.core['name'] == 'a b \u00e9'
    assert meta.properties == {'os_distro': 'd\u00e9b'}


def test_image_to_headers_etag_and_deleted():
    headers = dict(image_headers.image_to_headers(_image(
        checksum='d41d8cd98f00b204e9800998ecf8427e', owner='tenant',
        virtual_size=10, deleted=True,
        deleted_at=datetime.datetime(2017, 1, 2, 3, 4, 5, 6))))
    assert headers['ETag'] == 'd41d8cd98f00b204e9800998ecf8427e'
    assert headers['x-image-meta-checksum'] == (
        'd41d8cd98f00b204e9800998ecf8427e')
    assert headers['x-image-meta-owner'] == 'tenant'
    assert headers['x-image-meta-virtual_size'] == '10'
    assert headers['x-image-meta-deleted'] == 'True'
    assert headers['x-image-meta-deleted_at'] == '2017-01-02T03:04:05.000006'


def test_owner_longer_than_255_characters_is_refused():
    assert parse({'x-image-meta-owner': 'o' * 255}).core['owner'] == 'o' * 255
    with pytest.raises(exception.Invalid, match='Owner too long: 256'):
        parse({'x-image-meta-owner': 'o' * 256})


def test_stored_control_characters_never_split_a_response_header():
    # Written before such requests were refused: sent percent-encoded.
    image = {'id': 'i', 'name': 'a\r\nSet-Cookie: s=evil',
             'properties': {'p\nq': 'x\r\nSet-Cookie: s=evil\x7f'}}
    headers = dict(image_headers.image_to_headers(image))
    assert headers['x-image-meta-name'] == 'a%0D%0ASet-Cookie: s=evil'
    assert headers['x-image-meta-property-p%0Aq'] == (
        'x%0D%0ASet-Cookie: s=evil%7F')
    for name, value in headers.items():
        assert not image_headers.CONTROL_CHARACTERS.search(name + value)
