"""PATCH media types and parsing (v2 spec §10.1, v2 spec §10.2 steps 1-8)."""

import json
import os

from oslo_config import cfg
import pytest
import webob.exc

from glance_lite.api.v2 import patch
from glance_lite.api.v2 import schemas
from glance_lite.common import exception
from glance_lite.conf import image_format
from glance_lite.conf import v2 as v2_conf

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
V2_0 = 'application/openstack-images-v2.0-json-patch'
V2_1 = 'application/openstack-images-v2.1-json-patch'
ACCEPT_PATCH = ('application/openstack-images-v2.0-json-patch, '
                'application/openstack-images-v2.1-json-patch')
UUID = 'b2173dd3-7ad6-4362-baa6-a68bce3565cb'
SCHEMA_MISMATCH = "Provided object does not match schema 'image': "


@pytest.fixture(autouse=True)
def shipped_schema():
    """The image schema with the shipped deployer properties."""
    conf = cfg.ConfigOpts()
    conf.register_opts(image_format.image_format_opts, group='image_format')
    v2_conf.register_opts(conf)
    conf([], project='glance-lite', default_config_files=[])
    conf.set_override('image_schema_file',
                      os.path.join(TOP, 'etc', 'schema-image.json'))
    schemas.load(conf)
    yield
    schemas.reset()


def parse(changes, content_type=V2_1):
    body = changes if isinstance(changes, bytes) else json.dumps(
        changes).encode('utf-8')
    return patch.parse(content_type, body)


def refused(changes, error=exception.Invalid, content_type=V2_1):
    """The message of the error parsing ``changes`` raises."""
    with pytest.raises(error) as raised:
        parse(changes, content_type)
    assert type(raised.value) is error
    return raised.value.msg


def one(op, path, **value):
    return dict(op=op, path=path, **value)


# -- media types (v2 spec §10.1) ----------------------------------------------

@pytest.mark.parametrize('content_type, v2_0_form', [
    (V2_1, False), (V2_0, True),
    (V2_1 + '; charset=utf-8', False), (V2_0 + ';charset=UTF-8', True),
    ('Application/OpenStack-Images-V2.1-JSON-Patch', False),
    ('  %s ; q=1' % V2_1, False)])
def test_both_media_types_are_accepted(content_type, v2_0_form):
    body = ([{'replace': '/name', 'value': 'x'}] if v2_0_form
            else [one('replace', '/name', value='x')])
    assert parse(body, content_type) == [
        patch.Operation('replace', ('name',), 'x', v2_0_form)]


@pytest.mark.parametrize('content_type', [
    'application/json', 'application/json-patch+json', 'text/plain', '',
    None, 'application/openstack-images-v2.2-json-patch',
    'application/openstack-images-v2.1-json-patch+json',
    'application; %s' % V2_1])
def test_other_media_types_are_415_with_accept_patch(content_type):
    with pytest.raises(webob.exc.HTTPUnsupportedMediaType) as raised:
        patch.parse(content_type, b'[]')
    error = raised.value
    assert error.code == 415
    assert error.headers['Accept-Patch'] == ACCEPT_PATCH
    assert error.explanation == (
        'Image PATCH expects Content-Type one of: '
        'application/openstack-images-v2.0-json-patch, '
        'application/openstack-images-v2.1-json-patch')


def test_media_type_is_checked_before_the_body():
    with pytest.raises(webob.exc.HTTPUnsupportedMediaType):
        patch.parse('application/json', b'')


def test_media_type_names_the_form():
    assert patch.media_type(V2_0 + '; charset=utf-8') == V2_0
    assert patch.media_type(V2_1.upper()) == V2_1


# -- the body (v2 spec §10.2 step 2) ------------------------------------------

def test_an_empty_list_is_no_operation():
    assert parse([]) == []


def test_missing_body():
    assert refused(b'') == "Body expected in request."


def test_body_that_is_not_json():
    assert refused(b'[{"op": ') == "Malformed JSON in request body."


def test_body_that_is_a_json_scalar():
    assert refused(b'"x"') == "Unexpected body type. Expected list/dict."


def test_body_that_is_an_object():
    assert refused({}) == ("Request body must be a JSON array of operation "
                           "objects.")


@pytest.mark.parametrize('element', ['x', 5, None, [], ['op']])
def test_elements_must_be_objects(element):
    assert refused([element]) == "Operations must be JSON objects."


def test_body_over_the_limit_is_413():
    with pytest.raises(exception.LimitExceeded):
        patch.parse(V2_1, b'[]' + b' ' * 20, max_size=10)


# -- operations, v2.1 form (v2 spec §10.2 step 3) -----------------------------

@pytest.mark.parametrize('change', [
    {'path': '/name', 'value': 'x'}, {'op': None, 'path': '/name'}])
def test_v2_1_operation_without_op(change):
    assert refused([change]) == (
        "Unable to find `op` in JSON Schema change. It must be one of the "
        "following: add, remove, replace.")


@pytest.mark.parametrize('op', ['move', 'test', 'copy', 'Add', ''])
def test_v2_1_unknown_op(op):
    assert refused([one(op, '/name', value='x')]) == (
        "Invalid operation: `%s`. It must be one of the following: add, "
        "remove, replace." % op)


def test_v2_1_op_that_is_not_a_string():
    assert refused([one(['add'], '/name', value='x')]) == (
        'Invalid operation: `["add"]`. It must be one of the following: '
        'add, remove, replace.')


def test_v2_1_operation_without_path():
    assert refused([{'op': 'add', 'value': 'x'}]) == (
        "Unable to find 'path' in JSON Schema change")


def test_v2_1_op_is_checked_before_path():
    assert refused([{'op': 'move'}]).startswith("Invalid operation: `move`")


def test_v2_1_operations_in_order():
    assert parse([one('replace', '/name', value='image-2'),
                  one('replace', '/disk_format', value='vhd'),
                  one('add', '/ping', value='pong'),
                  one('replace', '/protected', value=True),
                  one('remove', '/ping')]) == [
        patch.Operation('replace', ('name',), 'image-2', False),
        patch.Operation('replace', ('disk_format',), 'vhd', False),
        patch.Operation('add', ('ping',), 'pong', False),
        patch.Operation('replace', ('protected',), True, False),
        patch.Operation('remove', ('ping',), None, False)]


def test_v2_1_members_other_than_op_path_value_are_ignored():
    assert parse([{'op': 'add', 'path': '/a', 'value': 'b', 'from': '/c',
                   'replace': '/d'}]) == [
        patch.Operation('add', ('a',), 'b', False)]


# -- operations, v2.0 form (v2 spec §10.2 step 3) -----------------------------

@pytest.mark.parametrize('op', ['add', 'replace'])
def test_v2_0_add_and_replace(op):
    assert parse([{op: '/ding', 'value': 'dong'}], V2_0) == [
        patch.Operation(op, ('ding',), 'dong', True)]


def test_v2_0_remove():
    assert parse([{'remove': '/ding'}], V2_0) == [
        patch.Operation('remove', ('ding',), None, True)]


@pytest.mark.parametrize('change', [
    {'value': 'x'}, {'op': 'add', 'path': '/a', 'value': 'x'}, {}])
def test_v2_0_without_an_operation_member(change):
    assert refused([change], content_type=V2_0) == (
        'Operation objects must contain exactly one member named "add", '
        '"remove", or "replace".')


@pytest.mark.parametrize('change', [
    {'add': '/a', 'remove': '/b'},
    {'add': '/a', 'replace': '/a', 'value': 'x'},
    {'add': '/a', 'remove': '/a', 'replace': '/a', 'value': 'x'}])
def test_v2_0_with_several_operation_members(change):
    assert refused([change], content_type=V2_0) == (
        'Operation objects must contain only one member named "add", '
        '"remove", or "replace".')


def test_v2_0_paths_are_pointers_too():
    assert refused([{'add': 'ding', 'value': 'x'}], content_type=V2_0) == (
        'Pointer `ding` does not start with "/".')


def test_v2_0_value_is_required():
    assert refused([{'replace': '/ding'}], content_type=V2_0) == (
        'Operation "replace" requires a member named "value".')


def test_the_v2_0_form_in_the_v2_1_media_type_is_refused():
    assert refused([{'add': '/a', 'value': 'b'}]).startswith(
        "Unable to find `op`")


# -- JSON pointers (v2 spec §10.2 step 4) -------------------------------------

@pytest.mark.parametrize('pointer, reason', [
    ('name', 'Pointer `name` does not start with "/".'),
    ('', 'Pointer `` does not start with "/".'),
    (' /name', 'Pointer ` /name` does not start with "/".'),
    ('/a//b', 'Pointer `/a//b` contains adjacent "/".'),
    ('//a', 'Pointer `//a` contains adjacent "/".'),
    ('/a/ /b', 'Pointer `/a/ /b` contains adjacent "/".'),
    ('/a//', 'Pointer `/a//` contains adjacent "/".'),
    ('/name/', 'Pointer `/name/` end with "/".'),
    ('/', 'Pointer `/` does not contains valid token.'),
    ('/ ', 'Pointer `/ ` does not contains valid token.'),
    ('/na~2me', 'Pointer `/na~2me` contains "~" not part of a recognized '
                'escape sequence.'),
    ('/name~', 'Pointer `/name~` contains "~" not part of a recognized '
               'escape sequence.'),
    ('/~~0', 'Pointer `/~~0` contains "~" not part of a recognized '
             'escape sequence.'),
])
def test_bad_pointers(pointer, reason):
    assert refused([one('replace', pointer, value='x')]) == reason


@pytest.mark.parametrize('pointer', [5, None, ['/name'], {'a': 1}])
def test_a_pointer_that_is_not_a_string(pointer):
    assert refused([one('replace', pointer, value='x')]) == (
        'Pointer `%s` does not start with "/".' % json.dumps(pointer))


@pytest.mark.parametrize('pointer, name', [
    ('/a~1b', 'a/b'), ('/a~0b', 'a~b'), ('/~01', '~1'), ('/~10', '/0'),
    ('/~0~1~0', '~/~'), ('/ name ', 'name'), ('/\tname', 'name'),
    ('/caf\u00e9', 'caf\u00e9')])
def test_pointers_are_unescaped_and_stripped(pointer, name):
    assert parse([one('add', pointer, value='x')]) == [
        patch.Operation('add', (name,), 'x', False)]


def test_escaped_slash_makes_no_second_segment():
    assert parse([one('remove', '/tags~1-')])[0].path == ('tags/-',)


def test_pointer_is_checked_before_depth():
    assert refused([one('replace', '/a//b/c', value='x')]).endswith(
        'contains adjacent "/".')


# -- depth (v2 spec §10.2 step 5) ---------------------------------------------

@pytest.mark.parametrize('op, pointer, shown', [
    ('replace', '/name/x', '/name/x'),
    ('add', '/name/x', '/name/x'),
    ('remove', '/name/x', '/name/x'),
    ('add', '/tags/-', '/tags/-'),
    ('remove', '/tags/0', '/tags/0'),
    ('replace', '/locations/0', '/locations/0'),
    ('add', '/locations', '/locations'),
    ('remove', '/locations', '/locations'),
    ('add', '/locations/0/url', '/locations/0/url'),
    ('add', '/a~1b/c', '/a/b/c'),
    ('add', '/ a / b ', '/a/b'),
    ('add', '/id/x', '/id/x'),
])
def test_paths_of_the_wrong_depth(op, pointer, shown):
    value = {'url': 'http://x', 'metadata': {}}
    assert refused([one(op, pointer, value=value)]) == (
        "Invalid JSON pointer for this resource: '%s'" % shown)


def test_locations_elements_for_add_and_remove():
    location = {'url': 'http://example.com/image', 'metadata': {}}
    assert parse([one('add', '/locations/-', value=location),
                  one('add', '/locations/0', value=location),
                  one('remove', '/locations/1')]) == [
        patch.Operation('add', ('locations', '-'), location, False),
        patch.Operation('add', ('locations', '0'), location, False),
        patch.Operation('remove', ('locations', '1'), None, False)]


def test_locations_replaced_whole():
    locations = [{'url': 'http://example.com/image', 'metadata': {'a': 1}}]
    assert parse([one('replace', '/locations', value=locations)]) == [
        patch.Operation('replace', ('locations',), locations, False)]


# -- value (v2 spec §10.2 step 6) ---------------------------------------------

@pytest.mark.parametrize('op', ['add', 'replace'])
def test_add_and_replace_need_a_value(op):
    assert refused([one(op, '/name')]) == (
        'Operation "%s" requires a member named "value".' % op)


def test_a_null_value_is_a_value():
    assert parse([one('replace', '/name', value=None)]) == [
        patch.Operation('replace', ('name',), None, False)]


def test_remove_takes_no_value():
    assert parse([one('remove', '/foo', value='ignored')]) == [
        patch.Operation('remove', ('foo',), None, False)]


def test_value_is_checked_before_the_path_permissions():
    assert refused([one('replace', '/id')]) == (
        'Operation "replace" requires a member named "value".')


# -- forbidden paths (v2 spec §10.2 step 7) -----------------------------------

READ_ONLY = ['created_at', 'updated_at', 'status', 'checksum', 'size',
             'virtual_size', 'direct_url', 'self', 'file', 'schema', 'id',
             'os_hash_algo', 'os_hash_value', 'stores']
RESERVED = ['location', 'deleted', 'deleted_at', 'os_glance',
            'os_glance_x', 'os_glance_import_task', 'os_glancefoo']


@pytest.mark.parametrize('op', ['add', 'replace', 'remove'])
@pytest.mark.parametrize('name', READ_ONLY)
def test_read_only_paths_are_403(op, name):
    assert refused([one(op, '/' + name, value='x')],
                   exception.Forbidden) == (
        "Attribute '%s' is read-only." % name)


@pytest.mark.parametrize('op', ['add', 'replace', 'remove'])
@pytest.mark.parametrize('name', RESERVED)
def test_reserved_paths_are_403(op, name):
    assert refused([one(op, '/' + name, value='x')],
                   exception.Forbidden) == (
        "Attribute '%s' is reserved." % name)


def test_stores_is_read_only_in_the_v2_0_form_too():
    assert refused([{'add': '/stores', 'value': 'a'}], exception.Forbidden,
                   content_type=V2_0) == "Attribute 'stores' is read-only."


def test_forbidden_path_is_found_after_unescaping():
    assert refused([one('remove', '/ os_glance~0x ')],
                   exception.Forbidden) == (
        "Attribute 'os_glance~x' is reserved.")


def test_forbidden_is_checked_before_the_schema():
    assert refused([one('replace', '/size', value='big')],
                   exception.Forbidden) == "Attribute 'size' is read-only."


def test_names_that_only_resemble_forbidden_ones_pass():
    assert [op.path for op in parse([
        one('add', '/Status', value='x'), one('add', '/os_glanc', value='x'),
        one('add', '/x_os_glance', value='x'),
        one('add', '/locations_note', value='x')])] == [
        ('Status',), ('os_glanc',), ('x_os_glance',), ('locations_note',)]


# -- schema validation (v2 spec §10.2 step 8) ---------------------------------

@pytest.mark.parametrize('op, name, value, reason', [
    ('replace', 'name', 'n' * 256, "'%s' is too long" % ('n' * 256)),
    ('replace', 'min_ram', 'big', "'big' is not of type 'integer'"),
    ('add', 'min_disk', '1', "'1' is not of type 'integer'"),
    ('replace', 'visibility', 'secret', "'secret' is not one of "
     "['community', 'public', 'private', 'shared']"),
    ('replace', 'disk_format', 'floppy', "'floppy' is not one of [None, "
     "'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', "
     "'iso', 'ploop']"),
    ('replace', 'protected', 'true', "'true' is not of type 'boolean'"),
    ('replace', 'tags', ['t' * 256], "'%s' is too long" % ('t' * 256)),
    ('add', 'tags', 'sniff', "'sniff' is not of type 'array'"),
    ('add', 'foo', 5, "5 is not of type 'string'"),
    ('add', 'foo', True, "True is not of type 'string'"),
    ('replace', 'foo', None, "None is not of type 'string'"),
    ('add', 'kernel_id', 'not-a-uuid',
     "'not-a-uuid' does not match '%s'" % schemas.UUID_PATTERN),
    ('add', 'cinder_encryption_key_deletion_policy', 'sometimes',
     "'sometimes' is not one of ['on_image_deletion', 'do_not_delete']"),
    ('replace', 'locations', {'url': 'http://x', 'metadata': {}},
     "{'url': 'http://x', 'metadata': {}} is not of type 'array'"),
    ('replace', 'locations', [{'url': 'http://x'}],
     "'metadata' is a required property"),
])
def test_values_must_match_the_image_schema(op, name, value, reason):
    assert refused([one(op, '/' + name, value=value)]) == (
        SCHEMA_MISMATCH + reason)


@pytest.mark.parametrize('op, name, value', [
    ('replace', 'name', 'n' * 255), ('replace', 'name', None),
    ('replace', 'disk_format', None), ('replace', 'disk_format', 'qcow2'),
    ('add', 'visibility', 'community'), ('replace', 'os_hidden', True),
    ('replace', 'tags', ['sniff', 'snozz', 'sniff']),
    ('add', 'kernel_id', UUID), ('add', 'kernel_id', None),
    ('add', 'foo', ''), ('replace', 'owner', None),
    # Ranges are the update's to check, with the image (v2 spec §10.3).
    ('replace', 'min_disk', -1), ('replace', 'min_ram', 2 ** 40),
])
def test_values_that_match_the_image_schema(op, name, value):
    assert parse([one(op, '/' + name, value=value)]) == [
        patch.Operation(op, (name,), value, False)]


def test_a_location_element_is_one_location_object():
    with pytest.raises(exception.Invalid) as raised:
        parse([one('add', '/locations/-', value={'url': 'http://x'})])
    assert raised.value.msg == (
        SCHEMA_MISMATCH + "'metadata' is a required property")


@pytest.mark.parametrize('value, reason', [
    ([{'url': 'http://x', 'metadata': {}}],
     "[{'url': 'http://x', 'metadata': {}}] is not of type 'object'"),
    ({'url': 5, 'metadata': {}}, "5 is not of type 'string'"),
    ({'url': 'u' * 256, 'metadata': {}}, "'%s' is too long" % ('u' * 256)),
    ({'url': 'http://x', 'metadata': {},
      'validation_data': {'os_hash_algo': 'sha512'}},
     "'os_hash_value' is a required property"),
    ({'url': 'http://x', 'metadata': {},
      'validation_data': {'os_hash_algo': 'sha512', 'os_hash_value': 'a',
                          'extra': 1}},
     "Additional properties are not allowed ('extra' was unexpected)"),
])
def test_bad_location_elements(value, reason):
    assert refused([one('add', '/locations/0', value=value)]) == (
        SCHEMA_MISMATCH + reason)


def test_a_location_element_with_validation_data():
    value = {'url': 'http://x', 'metadata': {'k': 'v'},
             'validation_data': {'checksum': 'a' * 32,
                                 'os_hash_algo': 'sha512',
                                 'os_hash_value': 'b' * 128}}
    assert parse([one('add', '/locations/-', value=value)])[0].value == value


def test_property_name_over_255_characters():
    assert refused([one('add', '/' + 'p' * 256, value='x')]) == (
        "Custom property should not be greater than 255 characters.")


def test_property_name_of_255_characters():
    assert parse([one('replace', '/' + 'p' * 255, value='x')])[0].path == (
        'p' * 255,)


def test_removing_a_long_name_is_left_to_the_update():
    assert parse([one('remove', '/' + 'p' * 256)])[0].path == ('p' * 256,)


def test_the_value_is_checked_before_the_name_length():
    assert refused([one('add', '/' + 'p' * 256, value=5)]) == (
        SCHEMA_MISMATCH + "5 is not of type 'string'")


# -- the first failure decides ----------------------------------------------

def test_a_bad_operation_after_good_ones_refuses_all():
    assert refused([one('replace', '/name', value='new'),
                    one('replace', '/name/x', value='y')]) == (
        "Invalid JSON pointer for this resource: '/name/x'")


def test_operations_are_checked_in_order():
    assert refused([one('replace', '/id', value=UUID),
                    one('move', '/name')], exception.Forbidden) == (
        "Attribute 'id' is read-only.")
    assert refused([one('move', '/name'),
                    one('replace', '/id', value=UUID)]).startswith(
        "Invalid operation")
