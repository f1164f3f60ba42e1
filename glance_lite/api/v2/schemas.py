"""The JSON schemas of the Image API v2 (v2 spec §6) and the validator
image bodies are checked with on create and update.

The four documents are built once per process from the configuration
(the format lists and the deployer's ``schema-image.json``) and served as
built; ``load`` builds them from a given configuration and ``reset``
forgets them, so tests and the service's start-up decide when that
happens.
"""

import copy
import json
import os
import re
import threading

import jsonschema
from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

SCHEMA_FILE_NAME = 'schema-image.json'

UUID_PATTERN = ('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                '[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
# The wire order of the enums (v2 spec §6.1, v2 spec §6.3).
STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading',
            'importing', 'pending_delete', 'deactivated']
VISIBILITIES = ['community', 'public', 'private', 'shared']
MEMBER_STATUSES = ['pending', 'accepted', 'rejected']

# Keys of a definition that do not change what it accepts: a deployer
# file may restate a base property in its own words.
_WORDING_KEYS = ('description', 'is_base')


class SchemaFileError(Exception):
    """The deployer's schema file cannot be used; the service must not
    start with it."""


def _read_only(definition):
    return dict(definition, readOnly=True)


def _location_schema():
    return {
        'type': 'object',
        'properties': {
            'url': {'type': 'string', 'maxLength': 255},
            'metadata': {'type': 'object'},
            'validation_data': {
                'description': 'Checksum and hash of the data at the '
                               'location, checked when it is added; '
                               'never shown.',
                'type': 'object',
                'writeOnly': True,
                'additionalProperties': False,
                'properties': {
                    'checksum': {'type': 'string', 'minLength': 32,
                                 'maxLength': 32},
                    'os_hash_algo': {'type': 'string', 'maxLength': 64},
                    'os_hash_value': {'type': 'string', 'maxLength': 128},
                },
                'required': ['os_hash_algo', 'os_hash_value'],
            },
        },
        'required': ['url', 'metadata'],
    }


def base_properties(conf=CONF):
    """The definitions of the core attributes (v2 spec §6.1), the format
    enums taken from ``conf`` in its order, null first."""
    formats = conf.image_format
    return {
        'id': {'type': 'string', 'pattern': UUID_PATTERN,
               'description': 'Identifier of the image, a UUID.'},
        'name': {'type': ['null', 'string'], 'maxLength': 255,
                 'description': 'Human-readable name; need not be '
                                'unique.'},
        'status': _read_only({
            'type': 'string', 'enum': list(STATUSES),
            'description': 'Where the image is in its life cycle.'}),
        'visibility': {'type': 'string', 'enum': list(VISIBILITIES),
                       'description': 'Who besides the owner may see the '
                                      'image.'},
        'protected': {'type': 'boolean',
                      'description': 'When true the image cannot be '
                                     'deleted.'},
        'os_hidden': {'type': 'boolean',
                      'description': 'When true default image lists leave '
                                     'the image out.'},
        'checksum': _read_only({
            'type': ['null', 'string'], 'maxLength': 32,
            'description': 'MD5 hex digest of the image data.'}),
        'os_hash_algo': _read_only({
            'type': ['null', 'string'], 'maxLength': 64,
            'description': 'Hash algorithm of os_hash_value.'}),
        'os_hash_value': _read_only({
            'type': ['null', 'string'], 'maxLength': 128,
            'description': 'Hex digest of the image data with '
                           'os_hash_algo.'}),
        'owner': {'type': ['null', 'string'], 'maxLength': 255,
                  'description': 'Project that owns the image.'},
        'size': _read_only({
            'type': ['null', 'integer'],
            'description': 'Size of the image data in bytes.'}),
        'virtual_size': _read_only({
            'type': ['null', 'integer'],
            'description': 'Size of the disk the data unpacks to, in '
                           'bytes, when the format tells it.'}),
        'container_format': {
            'type': ['null', 'string'],
            'enum': [None] + list(formats.container_formats),
            'description': 'Wrapper format around the disk data.'},
        'disk_format': {
            'type': ['null', 'string'],
            'enum': [None] + list(formats.disk_formats),
            'description': 'Format of the disk data.'},
        'created_at': _read_only({
            'type': 'string',
            'description': 'When the image was created (UTC).'}),
        'updated_at': _read_only({
            'type': 'string',
            'description': 'When the image was last changed (UTC).'}),
        'tags': {'type': 'array',
                 'items': {'type': 'string', 'maxLength': 255},
                 'description': 'Free-form labels of the image.'},
        'direct_url': _read_only({
            'type': 'string',
            'description': 'URL of the image data in its store, when the '
                           'service shows it.'}),
        'min_ram': {'type': 'integer',
                    'description': 'Memory in MB a server booted from the '
                                   'image needs.'},
        'min_disk': {'type': 'integer',
                     'description': 'Disk space in GB a server booted from '
                                    'the image needs.'},
        'self': _read_only({'type': 'string',
                            'description': 'Link to this image.'}),
        'file': _read_only({'type': 'string',
                            'description': 'Link to the image data.'}),
        'stores': _read_only({
            'type': 'string',
            'description': 'Stores holding the image data, comma '
                           'separated.'}),
        'schema': _read_only({
            'type': 'string',
            'description': 'Link to the schema describing this image.'}),
        'locations': {'type': 'array', 'items': _location_schema(),
                      'description': 'Where the image data is stored, '
                                     'when the service shows it.'},
    }


def _split_schema_file(data, path):
    """(properties, required) of a schema file's parsed content."""
    if not isinstance(data, dict):
        raise SchemaFileError('%s: expected a JSON object' % path)
    # A file with only these keys is the wrapped form; a flat file that
    # happens to define properties named "properties" and "required" and
    # nothing else is read as wrapped too, and refused below unless it is.
    if 'properties' in data and set(data) <= {'properties', 'required'}:
        properties = data['properties']
        required = data.get('required', [])
    else:
        properties, required = data, []
    if not isinstance(properties, dict):
        raise SchemaFileError('%s: "properties" must be an object' % path)
    if not isinstance(required, list) or not all(
            isinstance(name, str) for name in required):
        raise SchemaFileError('%s: "required" must be a list of property '
                              'names' % path)
    return properties, required


def load_schema_file(path, base=None):
    """The deployer properties and required names defined in ``path``.

    Each definition is returned with ``"is_base": false``. One that
    restates a base property (of ``base``) identically, descriptions
    aside, is dropped: the base definition stays.

    :raises SchemaFileError: the file cannot be read, is not JSON of
        either form, holds an invalid definition, or redefines a base
        property differently.
    """
    try:
        with open(path, encoding='utf-8') as schema_file:
            data = json.load(schema_file)
    except (OSError, ValueError) as error:
        raise SchemaFileError('%s cannot be read as JSON: %s'
                              % (path, error))
    properties, required = _split_schema_file(data, path)
    base = base or {}
    extra, conflicting = {}, []
    for name, definition in properties.items():
        if not isinstance(definition, dict):
            raise SchemaFileError('%s: the definition of %s is not an '
                                  'object' % (path, name))
        try:
            jsonschema.Draft4Validator.check_schema(definition)
        except jsonschema.SchemaError as error:
            raise SchemaFileError('%s: the definition of %s is not a valid '
                                  'JSON schema: %s'
                                  % (path, name, error.message))
        if name in base:
            if _meaning(definition) != _meaning(base[name]):
                conflicting.append(name)
            continue
        extra[name] = dict(definition, is_base=False)
    if conflicting:
        raise SchemaFileError('%s redefines base properties differently: %s'
                              % (path, ', '.join(sorted(conflicting))))
    return extra, list(required)


def _meaning(definition):
    return {key: value for key, value in definition.items()
            if key not in _WORDING_KEYS}


def schema_file_path(conf=CONF):
    """The schema file ``conf`` names, else schema-image.json beside the
    first configuration file; None when there is neither."""
    if conf.image_schema_file:
        return conf.image_schema_file
    # config_file exists once the command line has been parsed.
    config_files = getattr(conf, 'config_file', None)
    if not config_files:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(config_files[0])),
                        SCHEMA_FILE_NAME)


def deployer_properties(conf=CONF, base=None):
    """(properties, required) of the deployer's schema file for ``conf``;
    ({}, []) with a warning when the default file is absent.

    :raises SchemaFileError: as ``load_schema_file``, and when the file
        named by ``image_schema_file`` does not exist (a typo must not
        silently drop the deployer's rules).
    """
    path = schema_file_path(conf)
    if path is None or not os.path.exists(path):
        if conf.image_schema_file:
            raise SchemaFileError('image_schema_file %s does not exist'
                                  % path)
        if path is None:
            LOG.warning('No configuration file to find %s beside: the '
                        'image schema has no deployer properties',
                        SCHEMA_FILE_NAME)
        else:
            LOG.warning('%s not found: the image schema has no deployer '
                        'properties', path)
        return {}, []
    return load_schema_file(path, base)


def build_image_schema(conf=CONF):
    """The image schema document (v2 spec §6.1) for ``conf``.

    :raises SchemaFileError: see ``deployer_properties``.
    """
    properties = base_properties(conf)
    extra, required = deployer_properties(conf, properties)
    properties.update(extra)
    schema = {
        'name': 'image',
        'properties': properties,
        'additionalProperties': {'type': 'string'},
        'links': [{'rel': 'self', 'href': '{self}'},
                  {'rel': 'enclosure', 'href': '{file}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }
    if required:
        schema['required'] = required
    return schema


def build_images_schema(image_schema):
    """The image collection schema (v2 spec §6.2) around ``image_schema``."""
    return {
        'name': 'images',
        'properties': {
            'images': {'type': 'array',
                       'items': copy.deepcopy(image_schema)},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'first', 'href': '{first}'},
                  {'rel': 'next', 'href': '{next}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


def build_member_schema():
    """The member schema (v2 spec §6.3): no links, no additional
    properties keyword."""
    return {
        'name': 'member',
        'properties': {
            'member_id': {'type': 'string',
                          'description': 'Project the image is shared '
                                         'with.'},
            'image_id': {'type': 'string', 'pattern': UUID_PATTERN,
                         'description': 'Identifier of the shared image.'},
            'created_at': {'type': 'string',
                           'description': 'When the member was added '
                                          '(UTC).'},
            'updated_at': {'type': 'string',
                           'description': 'When the member last changed '
                                          '(UTC).'},
            'status': {'type': 'string', 'enum': list(MEMBER_STATUSES),
                       'description': 'Whether the member has accepted '
                                      'the image into its lists.'},
            'schema': {'type': 'string', 'readOnly': True},
        },
    }


def build_members_schema(member_schema):
    """The member collection schema (v2 spec §6.3)."""
    return {
        'name': 'members',
        'properties': {
            'members': {'type': 'array',
                        'items': copy.deepcopy(member_schema)},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'describedby', 'href': '{schema}'}],
    }


def _anchored_pattern(validator, pattern, instance, schema):
    # JSON Schema patterns are ECMA 262 regexes, whose "$" ends the string;
    # Python's also matches before a final newline, so "<uuid>\n" would
    # pass the id pattern. A trailing "$" is made to mean end of string.
    if not validator.is_type(instance, 'string'):
        return
    compiled = pattern
    if pattern.endswith('$') and not pattern.endswith('\\$'):
        compiled = pattern[:-1] + r'\Z'
    if not re.search(compiled, instance):
        yield jsonschema.ValidationError(
            '%r does not match %r' % (instance, pattern))


# Draft 4, the draft the documents are written in (Glance's too): its
# "integer" excludes 1.0, so min_ram and min_disk never arrive as floats;
# readOnly and writeOnly are not keywords of it, so the validator leaves
# them to create and update (v2 spec §6.1).
_Validator = jsonschema.validators.extend(
    jsonschema.Draft4Validator, validators={'pattern': _anchored_pattern})


class _Schemas:
    """The documents and validators built from one configuration."""

    def __init__(self, conf):
        self.image = build_image_schema(conf)
        self.images = build_images_schema(self.image)
        self.member = build_member_schema()
        self.members = build_members_schema(self.member)
        self.create_validator = _Validator(self.image)
        # Updates validate parts of an image: a required name is checked
        # on create only (v2 spec §6.1).
        partial = dict(self.image)
        partial.pop('required', None)
        self.validator = _Validator(partial)


_lock = threading.Lock()
_loaded = None


def load(conf=CONF):
    """Build the schemas from ``conf`` and keep them for this process;
    the service calls it at start-up so a bad schema file stops it.

    :raises SchemaFileError: see ``deployer_properties``.
    """
    global _loaded
    schemas = _Schemas(conf)
    with _lock:
        _loaded = schemas
    return schemas


def reset():
    """Forget the built schemas; the next use builds them from CONF."""
    global _loaded
    with _lock:
        _loaded = None


def _schemas():
    with _lock:
        schemas = _loaded
    return schemas if schemas is not None else load()


# Callers get copies: a document changed by one response must not change
# the next.
def image_schema():
    """The image schema document (v2 spec §6.1)."""
    return copy.deepcopy(_schemas().image)


def images_schema():
    """The image collection schema document (v2 spec §6.2)."""
    return copy.deepcopy(_schemas().images)


def member_schema():
    """The member schema document (v2 spec §6.3)."""
    return copy.deepcopy(_schemas().member)


def members_schema():
    """The member collection schema document (v2 spec §6.3)."""
    return copy.deepcopy(_schemas().members)


def validate_image(obj, creating=False):
    """Check an image body, or part of one, against the image schema.

    ``creating`` also enforces the deployer's ``required`` names. readOnly
    is not enforced.

    :raises Invalid: "Provided object does not match schema 'image': <why>"
        (400).
    """
    schemas = _schemas()
    validator = schemas.create_validator if creating else schemas.validator
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    if error is not None:
        raise exception.Invalid("Provided object does not match schema "
                                "'image': %s" % error.message)
