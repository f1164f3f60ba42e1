"""The v2 JSON schemas and the image validator (v2 spec §6)."""

import json
import logging
import os

import jsonschema
from oslo_config import cfg
import pytest

from glance_lite.api.v2 import schemas
from glance_lite.common import exception
from glance_lite.conf import image_format
from glance_lite.conf import opts
from glance_lite.conf import v2 as v2_conf

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SHIPPED_SCHEMA_FILE = os.path.join(TOP, 'etc', 'schema-image.json')
UUID = 'b2173dd3-7ad6-4362-baa6-a68bce3565cb'

BASE_PROPERTIES = {
    'id', 'name', 'status', 'visibility', 'protected', 'os_hidden',
    'checksum', 'os_hash_algo', 'os_hash_value', 'owner', 'size',
    'virtual_size', 'container_format', 'disk_format', 'created_at',
    'updated_at', 'tags', 'direct_url', 'self', 'file', 'schema', 'stores',
    'min_ram', 'min_disk', 'locations'}
READ_ONLY = {
    'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size',
    'virtual_size', 'created_at', 'updated_at', 'direct_url', 'self',
    'file', 'schema', 'stores'}
SHIPPED_PROPERTIES = {
    'kernel_id', 'ramdisk_id', 'instance_uuid', 'architecture', 'os_distro',
    'os_version', 'description', 'cinder_encryption_key_id',
    'cinder_encryption_key_deletion_policy'}


@pytest.fixture(autouse=True)
def forget_built_schemas():
    schemas.reset()
    yield
    schemas.reset()


@pytest.fixture
def make_conf(tmp_path):
    """A configuration of its own, parsed from an empty glance-lite.conf
    in tmp_path (where a schema-image.json is looked for by default)."""
    def make(args=(), config_file=True, **overrides):
        conf = cfg.ConfigOpts()
        # Named by a string, the group is a new one: ConfigOpts copies a
        # registered OptGroup shallowly, so registering image_format's
        # OptGroup object would share its overrides with cfg.CONF.
        conf.register_opts(image_format.image_format_opts,
                           group='image_format')
        v2_conf.register_opts(conf)
        files = []
        if config_file:
            path = tmp_path / 'glance-lite.conf'
            path.write_text('[DEFAULT]\n')
            files.append(str(path))
        conf(list(args), project='glance-lite', default_config_files=files)
        for name, value in overrides.items():
            group = ('image_format' if name.endswith('_formats') else None)
            conf.set_override(name, value, group=group)
        return conf
    return make


def write_schema_file(tmp_path, content, name='schema-image.json'):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str)
                    else json.dumps(content))
    return path


def without_descriptions(definition):
    return {key: value for key, value in definition.items()
            if key != 'description'}


# -- the image schema (v2 spec §6.1) ------------------------------------------

def test_image_schema_has_the_documented_frame(make_conf):
    schema = schemas.build_image_schema(make_conf())
    assert schema['name'] == 'image'
    assert schema['additionalProperties'] == {'type': 'string'}
    assert schema['links'] == [
        {'rel': 'self', 'href': '{self}'},
        {'rel': 'enclosure', 'href': '{file}'},
        {'rel': 'describedby', 'href': '{schema}'}]
    assert 'required' not in schema


def test_image_schema_base_properties_are_exactly_the_documented_ones(
        make_conf):
    properties = schemas.build_image_schema(make_conf())['properties']
    assert set(properties) == BASE_PROPERTIES


def test_every_base_property_has_a_description_and_no_is_base(make_conf):
    for name, definition in schemas.base_properties(make_conf()).items():
        assert isinstance(definition.get('description'), str), name
        assert definition['description'], name
        assert 'is_base' not in definition, name


def test_read_only_properties_are_marked(make_conf):
    properties = schemas.base_properties(make_conf())
    marked = {name for name, definition in properties.items()
              if definition.get('readOnly')}
    assert marked == READ_ONLY


@pytest.mark.parametrize('name, expected', [
    ('id', {'type': 'string', 'pattern': schemas.UUID_PATTERN}),
    ('name', {'type': ['null', 'string'], 'maxLength': 255}),
    ('status', {'type': 'string', 'readOnly': True, 'enum': [
        'queued', 'saving', 'active', 'killed', 'deleted', 'uploading',
        'importing', 'pending_delete', 'deactivated']}),
    ('visibility', {'type': 'string',
                    'enum': ['community', 'public', 'private', 'shared']}),
    ('protected', {'type': 'boolean'}),
    ('os_hidden', {'type': 'boolean'}),
    ('checksum', {'type': ['null', 'string'], 'readOnly': True,
                  'maxLength': 32}),
    ('os_hash_algo', {'type': ['null', 'string'], 'readOnly': True,
                      'maxLength': 64}),
    ('os_hash_value', {'type': ['null', 'string'], 'readOnly': True,
                       'maxLength': 128}),
    ('owner', {'type': ['null', 'string'], 'maxLength': 255}),
    ('size', {'type': ['null', 'integer'], 'readOnly': True}),
    ('virtual_size', {'type': ['null', 'integer'], 'readOnly': True}),
    ('created_at', {'type': 'string', 'readOnly': True}),
    ('updated_at', {'type': 'string', 'readOnly': True}),
    ('tags', {'type': 'array',
              'items': {'type': 'string', 'maxLength': 255}}),
    ('direct_url', {'type': 'string', 'readOnly': True}),
    ('self', {'type': 'string', 'readOnly': True}),
    ('file', {'type': 'string', 'readOnly': True}),
    ('schema', {'type': 'string', 'readOnly': True}),
    ('stores', {'type': 'string', 'readOnly': True}),
    ('min_ram', {'type': 'integer'}),
    ('min_disk', {'type': 'integer'}),
])
def test_base_property_definition(make_conf, name, expected):
    definition = schemas.base_properties(make_conf())[name]
    assert without_descriptions(definition) == expected


def test_id_pattern_is_the_hyphenated_uuid():
    assert schemas.UUID_PATTERN == (
        '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
        '[0-9a-fA-F]{12}$')


def test_locations_items_are_location_objects(make_conf):
    locations = schemas.base_properties(make_conf())['locations']
    assert locations['type'] == 'array'
    item = locations['items']
    validation_data = item['properties']['validation_data']
    assert without_descriptions(validation_data) == {
        'type': 'object', 'writeOnly': True, 'additionalProperties': False,
        'properties': {
            'checksum': {'type': 'string', 'minLength': 32,
                         'maxLength': 32},
            'os_hash_algo': {'type': 'string', 'maxLength': 64},
            'os_hash_value': {'type': 'string', 'maxLength': 128}},
        'required': ['os_hash_algo', 'os_hash_value']}
    assert item['type'] == 'object'
    assert item['properties']['url'] == {'type': 'string', 'maxLength': 255}
    assert item['properties']['metadata'] == {'type': 'object'}
    assert item['required'] == ['url', 'metadata']


def test_format_enums_are_the_default_config_lists_null_first(make_conf):
    properties = schemas.base_properties(make_conf())
    assert properties['disk_format']['type'] == ['null', 'string']
    assert properties['disk_format']['enum'] == [
        None, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2',
        'vdi', 'iso', 'ploop']
    assert properties['container_format']['type'] == ['null', 'string']
    assert properties['container_format']['enum'] == [
        None, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker']


def test_format_enums_follow_the_configuration_in_its_order(make_conf):
    conf = make_conf(disk_formats=['qcow2', 'raw'],
                     container_formats=['ovf', 'bare', 'compressed'])
    schemas.load(conf)
    properties = schemas.image_schema()['properties']
    assert properties['disk_format']['enum'] == [None, 'qcow2', 'raw']
    assert properties['container_format']['enum'] == [
        None, 'ovf', 'bare', 'compressed']
    schemas.validate_image({'container_format': 'compressed'})
    with pytest.raises(exception.Invalid) as raised:
        schemas.validate_image({'disk_format': 'vhd'})
    assert raised.value.msg == (
        "Provided object does not match schema 'image': 'vhd' is not one "
        "of [None, 'qcow2', 'raw']")


def test_format_enums_read_from_a_config_file(make_conf, tmp_path):
    config = tmp_path / 'formats.conf'
    config.write_text('[image_format]\ndisk_formats = raw,iso\n')
    conf = make_conf(args=['--config-file', str(config)])
    assert schemas.base_properties(conf)['disk_format']['enum'] == [
        None, 'raw', 'iso']


def test_served_schemas_are_valid_draft_4(make_conf, tmp_path):
    write_schema_file(tmp_path, open(SHIPPED_SCHEMA_FILE).read())
    schemas.load(make_conf())
    for document in (schemas.image_schema(), schemas.images_schema(),
                     schemas.member_schema(), schemas.members_schema()):
        jsonschema.Draft4Validator.check_schema(document)


def test_the_example_image_view_validates(make_conf):
    schemas.load(make_conf())
    schemas.validate_image({
        'id': UUID, 'name': 'Ubuntu', 'status': 'queued',
        'visibility': 'shared', 'protected': False, 'os_hidden': False,
        'tags': [], 'disk_format': 'raw', 'container_format': 'bare',
        'min_disk': 0, 'min_ram': 0, 'size': None, 'virtual_size': None,
        'checksum': None, 'os_hash_algo': None, 'os_hash_value': None,
        'owner': 'bab7d5c60cd041a0a36f7c4b6e1dd978',
        'created_at': '2026-01-29T22:21:42Z',
        'updated_at': '2026-01-29T22:21:42Z',
        'self': '/v2/images/%s' % UUID,
        'file': '/v2/images/%s/file' % UUID,
        'schema': '/v2/schemas/image', 'os_distro': 'ubuntu'},
        creating=True)


# -- the collection and member schemas (v2 spec §6.2, v2 spec §6.3) -----------

def test_images_schema_wraps_the_whole_image_schema(make_conf, tmp_path):
    write_schema_file(tmp_path, {'os_distro': {'type': 'string'}})
    schemas.load(make_conf())
    images = schemas.images_schema()
    assert images['name'] == 'images'
    assert images['properties']['images'] == {
        'type': 'array', 'items': schemas.image_schema()}
    for name in ('first', 'next', 'schema'):
        assert images['properties'][name] == {'type': 'string'}
    assert set(images['properties']) == {'images', 'first', 'next',
                                         'schema'}
    assert images['links'] == [
        {'rel': 'first', 'href': '{first}'},
        {'rel': 'next', 'href': '{next}'},
        {'rel': 'describedby', 'href': '{schema}'}]
    assert 'additionalProperties' not in images


def test_member_schema_is_as_documented():
    member = schemas.build_member_schema()
    assert member['name'] == 'member'
    assert set(member) == {'name', 'properties'}
    properties = member['properties']
    assert {name: without_descriptions(definition)
            for name, definition in properties.items()} == {
        'member_id': {'type': 'string'},
        'image_id': {'type': 'string', 'pattern': schemas.UUID_PATTERN},
        'created_at': {'type': 'string'},
        'updated_at': {'type': 'string'},
        'status': {'type': 'string',
                   'enum': ['pending', 'accepted', 'rejected']},
        'schema': {'type': 'string', 'readOnly': True}}
    described = {name for name, definition in properties.items()
                 if definition.get('description')}
    assert described == set(properties) - {'schema'}


def test_members_schema_wraps_the_member_schema():
    members = schemas.members_schema()
    assert members == {
        'name': 'members',
        'properties': {
            'members': {'type': 'array',
                        'items': schemas.member_schema()},
            'schema': {'type': 'string'}},
        'links': [{'rel': 'describedby', 'href': '{schema}'}]}


# -- deployer properties (v2 spec §6.1, schema-image.json) --------------------

def test_no_schema_file_logs_a_warning_and_adds_nothing(make_conf, tmp_path,
                                                        caplog):
    with caplog.at_level(logging.WARNING, logger=schemas.__name__):
        schema = schemas.build_image_schema(make_conf())
    assert set(schema['properties']) == BASE_PROPERTIES
    assert 'required' not in schema
    assert [record.getMessage() for record in caplog.records] == [
        '%s not found: the image schema has no deployer properties'
        % (tmp_path / 'schema-image.json')]


def test_no_config_file_logs_a_warning_and_adds_nothing(make_conf, caplog):
    with caplog.at_level(logging.WARNING, logger=schemas.__name__):
        schema = schemas.build_image_schema(make_conf(config_file=False))
    assert set(schema['properties']) == BASE_PROPERTIES
    assert len(caplog.records) == 1
    assert 'no deployer properties' in caplog.records[0].getMessage()


def test_flat_schema_file_beside_the_config_file(make_conf, tmp_path):
    write_schema_file(tmp_path, {
        'os_distro': {'type': 'string', 'description': 'The distro.'},
        'kernel_id': {'type': ['null', 'string'],
                      'pattern': schemas.UUID_PATTERN}})
    schema = schemas.build_image_schema(make_conf())
    properties = schema['properties']
    assert properties['os_distro'] == {
        'type': 'string', 'description': 'The distro.', 'is_base': False}
    assert properties['kernel_id'] == {
        'type': ['null', 'string'], 'pattern': schemas.UUID_PATTERN,
        'is_base': False}
    assert set(properties) == BASE_PROPERTIES | {'os_distro', 'kernel_id'}
    assert 'required' not in schema


def test_wrapped_schema_file_with_required(make_conf, tmp_path):
    write_schema_file(tmp_path, {
        'properties': {'os_distro': {'type': 'string'}},
        'required': ['os_distro']})
    schemas.load(make_conf())
    schema = schemas.image_schema()
    assert schema['properties']['os_distro'] == {'type': 'string',
                                                 'is_base': False}
    assert schema['required'] == ['os_distro']
    assert 'properties' not in schema['properties']


def test_required_is_enforced_on_create_only(make_conf, tmp_path):
    write_schema_file(tmp_path, {
        'properties': {'os_distro': {'type': 'string'}},
        'required': ['os_distro']})
    schemas.load(make_conf())
    with pytest.raises(exception.Invalid) as raised:
        schemas.validate_image({'name': 'x'}, creating=True)
    assert raised.value.msg == ("Provided object does not match schema "
                                "'image': 'os_distro' is a required property")
    schemas.validate_image({'name': 'x', 'os_distro': 'arch'}, creating=True)
    schemas.validate_image({'name': 'x'})


def test_wrapped_schema_file_without_required(make_conf, tmp_path):
    write_schema_file(tmp_path, {'properties': {'a': {'type': 'string'}},
                                 'required': []})
    schema = schemas.build_image_schema(make_conf())
    assert schema['properties']['a']['is_base'] is False
    assert 'required' not in schema


def test_image_schema_file_option_names_the_file(make_conf, tmp_path):
    path = write_schema_file(tmp_path, {'x_only': {'type': 'string'}},
                             name='elsewhere.json')
    conf = make_conf(image_schema_file=str(path))
    assert 'x_only' in schemas.build_image_schema(conf)['properties']


def test_the_file_beside_the_first_config_file_is_read(make_conf,
                                                       tmp_path):
    first, second = tmp_path / 'first', tmp_path / 'second'
    for folder, name in ((first, 'from_first'), (second, 'from_second')):
        folder.mkdir()
        (folder / 'glance-lite.conf').write_text('[DEFAULT]\n')
        write_schema_file(folder, {name: {'type': 'string'}})
    conf = make_conf(args=[
        '--config-file', str(first / 'glance-lite.conf'),
        '--config-file', str(second / 'glance-lite.conf')],
        config_file=False)
    assert schemas.schema_file_path(conf) == str(first /
                                                 'schema-image.json')
    properties = schemas.build_image_schema(conf)['properties']
    assert 'from_first' in properties
    assert 'from_second' not in properties


def test_the_option_wins_over_the_file_beside_the_config_file(make_conf,
                                                              tmp_path):
    write_schema_file(tmp_path, {'beside': {'type': 'string'}})
    named = write_schema_file(tmp_path, {'named': {'type': 'string'}},
                              name='named.json')
    conf = make_conf(image_schema_file=str(named))
    properties = schemas.build_image_schema(conf)['properties']
    assert 'named' in properties
    assert 'beside' not in properties


def test_a_named_schema_file_that_does_not_exist_is_refused(make_conf,
                                                            tmp_path):
    conf = make_conf(image_schema_file=str(tmp_path / 'missing.json'))
    with pytest.raises(schemas.SchemaFileError) as raised:
        schemas.build_image_schema(conf)
    assert 'missing.json does not exist' in str(raised.value)


def test_redefining_a_base_property_differently_is_refused(make_conf,
                                                           tmp_path):
    write_schema_file(tmp_path, {
        'name': {'type': 'string', 'maxLength': 100},
        'os_distro': {'type': 'string'},
        'min_ram': {'type': 'string'}})
    with pytest.raises(schemas.SchemaFileError) as raised:
        schemas.load(make_conf())
    assert str(raised.value).endswith(
        'redefines base properties differently: min_ram, name')


def test_redefining_a_base_property_in_the_wrapped_form_is_refused(
        make_conf, tmp_path):
    write_schema_file(tmp_path, {
        'properties': {'visibility': {'type': 'string'}}})
    with pytest.raises(schemas.SchemaFileError):
        schemas.build_image_schema(make_conf())


def test_restating_a_base_property_in_other_words_is_accepted(make_conf,
                                                              tmp_path):
    write_schema_file(tmp_path, {
        'name': {'type': ['null', 'string'], 'maxLength': 255,
                 'description': 'Written by the deployer.'}})
    conf = make_conf()
    schema = schemas.build_image_schema(conf)
    assert schema['properties']['name'] == schemas.base_properties(
        conf)['name']


@pytest.mark.parametrize('content', [
    '{"os_distro": {"type": "string"}',
    '[]',
    '{"os_distro": "string"}',
    '{"os_distro": {"type": 5}}',
    '{"properties": [], "required": []}',
    '{"properties": {}, "required": "os_distro"}',
    '{"properties": {}, "required": [5]}',
])
def test_an_unusable_schema_file_is_refused(make_conf, tmp_path, content):
    write_schema_file(tmp_path, content)
    with pytest.raises(schemas.SchemaFileError):
        schemas.build_image_schema(make_conf())


def test_shipped_schema_file_has_the_nine_definitions(make_conf):
    properties, required = schemas.load_schema_file(
        SHIPPED_SCHEMA_FILE, schemas.base_properties(make_conf()))
    assert set(properties) == SHIPPED_PROPERTIES
    assert required == []
    for name, definition in properties.items():
        assert definition['is_base'] is False
        assert definition['description'], name
    for name in ('kernel_id', 'ramdisk_id'):
        assert properties[name]['type'] == ['null', 'string']
        assert properties[name]['pattern'] == schemas.UUID_PATTERN
    for name in SHIPPED_PROPERTIES - {'kernel_id', 'ramdisk_id'}:
        assert properties[name]['type'] == 'string'
    assert properties['cinder_encryption_key_deletion_policy']['enum'] == [
        'on_image_deletion', 'do_not_delete']


# -- the validator ----------------------------------------------------------

@pytest.fixture
def shipped(make_conf, tmp_path):
    """The schemas with the shipped deployer properties, loaded."""
    write_schema_file(tmp_path, open(SHIPPED_SCHEMA_FILE).read())
    return schemas.load(make_conf())


@pytest.mark.parametrize('obj, reason', [
    ({'name': 'x' * 256}, "'%s' is too long" % ('x' * 256)),
    ({'min_ram': 'big'}, "'big' is not of type 'integer'"),
    ({'min_disk': 1.0}, "1.0 is not of type 'integer'"),
    ({'min_disk': True}, "True is not of type 'integer'"),
    ({'visibility': 'secret'},
     "'secret' is not one of ['community', 'public', 'private', 'shared']"),
    ({'protected': 'yes'}, "'yes' is not of type 'boolean'"),
    ({'foo': 5}, "5 is not of type 'string'"),
    ({'foo': None}, "None is not of type 'string'"),
    ({'tags': ['t' * 256]}, "'%s' is too long" % ('t' * 256)),
    ({'tags': 'a'}, "'a' is not of type 'array'"),
    ({'owner': 5}, "5 is not of type 'null', 'string'"),
    ({'id': 'nope'}, "'nope' does not match '%s'" % schemas.UUID_PATTERN),
    ({'id': UUID + '\n'},
     "'%s\\n' does not match '%s'" % (UUID, schemas.UUID_PATTERN)),
    ({'status': 'gone'}, "'gone' is not one of ['queued', 'saving', "
     "'active', 'killed', 'deleted', 'uploading', 'importing', "
     "'pending_delete', 'deactivated']"),
    ({'kernel_id': 'not-a-uuid'},
     "'not-a-uuid' does not match '%s'" % schemas.UUID_PATTERN),
    ({'cinder_encryption_key_deletion_policy': 'sometimes'},
     "'sometimes' is not one of ['on_image_deletion', 'do_not_delete']"),
    ({'locations': [{'url': 'http://x'}]},
     "'metadata' is a required property"),
])
def test_invalid_values_are_refused_with_the_validator_message(
        shipped, obj, reason):
    with pytest.raises(exception.Invalid) as raised:
        schemas.validate_image(obj)
    assert raised.value.msg == (
        "Provided object does not match schema 'image': %s" % reason)


@pytest.mark.parametrize('obj', [
    {}, {'name': None}, {'name': 'x' * 255}, {'kernel_id': None},
    {'kernel_id': UUID}, {'disk_format': None}, {'tags': []},
    {'foo': ''}, {'x' * 300: 'long names are refused by the callers'},
    {'locations': [{'url': 'http://x', 'metadata': {}}]},
])
def test_valid_values_pass(shipped, obj):
    schemas.validate_image(obj)


@pytest.mark.parametrize('obj', [
    {'status': 'active'}, {'size': 5}, {'checksum': 'a' * 32},
    {'self': '/v2/images/x'}, {'stores': 'a,b'}])
def test_read_only_is_not_enforced(shipped, obj):
    schemas.validate_image(obj)
    schemas.validate_image(obj, creating=True)


# -- building once per process ----------------------------------------------

def test_schemas_are_built_once_until_reset(make_conf, tmp_path):
    schemas.load(make_conf(disk_formats=['raw']))
    assert schemas.image_schema()['properties']['disk_format']['enum'] == [
        None, 'raw']
    schemas.reset()
    # Rebuilt from the process's configuration: the default formats.
    assert schemas.image_schema()['properties']['disk_format']['enum'][
        1:] == list(cfg.CONF.image_format.disk_formats)


def test_documents_handed_out_are_copies(make_conf):
    schemas.load(make_conf())
    schemas.image_schema()['properties']['name']['maxLength'] = 1
    schemas.member_schema()['properties'].clear()
    assert schemas.image_schema()['properties']['name']['maxLength'] == 255
    assert schemas.member_schema()['properties']


def test_a_bad_schema_file_keeps_the_schemas_loaded_before(make_conf,
                                                           tmp_path):
    schemas.load(make_conf(disk_formats=['raw']))
    write_schema_file(tmp_path, '{broken')
    with pytest.raises(schemas.SchemaFileError):
        schemas.load(make_conf())
    assert schemas.image_schema()['properties']['disk_format']['enum'] == [
        None, 'raw']


def test_the_option_is_listed_for_the_sample_config():
    listed = [opt.name for group, group_opts in opts.list_opts()
              if group is None for opt in group_opts]
    assert 'image_schema_file' in listed
    assert cfg.CONF.image_schema_file is None
