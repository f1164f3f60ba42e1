"""One image record through v2: create, show, update (PATCH) and delete
(v2 spec §7, §8, §10, §11).

The JSON bodies, the PATCH operations and v2's wording are parsed and
checked here; the records are written by the domain (``glance_lite.image``)
that v1's controllers use too. Every request is checked in the order of
its spec section: the first failure decides and nothing is stored.
"""

import re

from oslo_config import cfg
import webob

from glance_lite.api import policy
from glance_lite.api.v2 import common
from glance_lite.api.v2 import patch
from glance_lite.api.v2 import schemas
from glance_lite.api.v2 import views
from glance_lite.common import exception
from glance_lite.image import images
from glance_lite.image import protections
from glance_lite.image import quota

CONF = cfg.CONF

# Core attributes a create body may set (v2 spec §5.1).
WRITABLE = ('id', 'name', 'visibility', 'protected', 'os_hidden', 'owner',
            'disk_format', 'container_format', 'min_disk', 'min_ram', 'tags')
# Refused before the schema is checked (v2 spec §7.2 step 2).
LINKS_AND_STORES = ('direct_url', 'self', 'file', 'schema', 'stores')
# Refused after the policy checks (v2 spec §7.2 step 9).
SERVER_SET = ('created_at', 'updated_at', 'status', 'checksum',
              'os_hash_algo', 'os_hash_value', 'size', 'virtual_size')
# Every core attribute: any other key of a body is an additional property.
CORE = frozenset(WRITABLE + LINKS_AND_STORES + SERVER_SET + ('locations',))
# What PATCH may set on a core attribute (``id`` is read-only there).
PATCHABLE = frozenset(WRITABLE) - {'id'}
MINIMUMS = ('min_disk', 'min_ram')
MAX_INT32 = 2 ** 31 - 1
# Formats may change while the data is still to come (v2 spec §10.3).
FORMAT_STATUSES = ('queued', 'importing')
DEFAULT_VISIBILITY = 'shared'

RESERVED_MESSAGE = "Attribute '%s' is reserved."
READ_ONLY_MESSAGE = "Attribute '%s' is read-only."
NOT_OWNER = 'You do not own this image'
# Characters outside the Basic Multilingual Plane: 4 bytes in UTF-8,
# which Glance's MySQL tables could not hold (v2 spec §5.4).
_FOUR_BYTES = re.compile('[\U00010000-\U0010FFFF]')


def _image_url(req, image_id):
    """The absolute URL of an image, as v1 builds its own (v2 spec §7.3)."""
    base = (CONF.public_endpoint or req.host_url).rstrip('/')
    return '%s/v2/images/%s' % (base, image_id)


def _view(context, image):
    return views.image_view(context, protections.readable(context, image))


def _not_permitted_owner(owner):
    return exception.Forbidden(
        "You are not permitted to create images owned by '%s'." % owner)


def _distinct(tags):
    """Tags without repeats, in first-given order (v2 spec §23 V16)."""
    return list(dict.fromkeys(tags))


def _check_minimum_sign(name, value):
    if value < 0:
        raise exception.Invalid(
            "Invalid value '%d' for parameter '%s': Cannot be a negative "
            "value" % (value, name))


def _check_minimum_range(name, value):
    if value > MAX_INT32:
        raise exception.Invalid(
            "'%s' value out of range, must not exceed %d." % (name, MAX_INT32))


def _has_four_bytes(value):
    return isinstance(value, str) and bool(_FOUR_BYTES.search(value))


def _check_four_bytes(values, properties, tags):
    """:raises Invalid: text outside the BMP in a core value, a property
    name or value, or a tag (v2 spec §5.4)."""
    for name, value in values.items():
        if _has_four_bytes(value):
            raise exception.Invalid(
                "%s can't contain 4 byte unicode characters." % name.title())
    for name, value in properties.items():
        if _has_four_bytes(name):
            raise exception.Invalid(
                "Property names can't contain 4 byte unicode.")
        if _has_four_bytes(value):
            raise exception.Invalid(
                "%s can't contain 4 byte unicode characters." % name.title())
    if any(_has_four_bytes(tag) for tag in tags or ()):
        raise exception.Invalid(
            "Tags can't contain 4 byte unicode characters.")


def _check_property_names(properties):
    """v2 spec §7.2 step 4, name by name."""
    for name in properties:
        if len(name) > patch.MAX_PROPERTY_NAME_LENGTH:
            raise exception.Invalid("Custom property should not be greater "
                                    "than 255 characters.")
        if name in patch.RESERVED or name.startswith(patch.RESERVED_PREFIX):
            raise exception.Forbidden(RESERVED_MESSAGE % name)


def _authorize_create(context, values):
    """v2 spec §7.2 steps 6-7: who may create an image of this owner and
    visibility."""
    owner = values['owner']
    others = not context.is_admin and (
        owner is None or owner != context.owner)
    target = {'owner': owner, 'project_id': owner,
              'visibility': values.get('visibility', 'private')}
    if not policy.allows(context, 'add_image', target):
        if others:
            raise _not_permitted_owner(owner)
        raise exception.Forbidden(
            'You are not authorized to complete add_image action.')
    rule = {'public': 'publicize_image',
            'community': 'communitize_image'}.get(values.get('visibility'))
    if rule and not policy.allows(context, rule, target):
        raise exception.Forbidden(
            'You are not authorized to complete %s action.' % rule)
    if others:
        raise _not_permitted_owner(owner)


def _read_patch_body(req):
    limit = CONF.max_json_body_size
    if req.content_length is not None and req.content_length > limit:
        # The media type decides first (v2 spec §10.2 step 1).
        patch.media_type(req.headers.get('Content-Type'))
    # One byte more than allowed tells a chunked body that is too large.
    return req.body_file.read(limit + 1)


class _Changes:
    """PATCH operations applied in order to an in-memory copy of an image
    (v2 spec §10.3); nothing is written until :meth:`save`."""

    def __init__(self, context, image):
        self.context = context
        self.image = image
        # The properties the caller can read: the others do not exist
        # for it (v2 spec §5.4).
        self.original = dict(
            protections.readable(context, image)['properties'])
        self.properties = dict(self.original)
        self.written = []
        self.values = {}
        self.tags = None

    def current(self):
        """The image as the operations so far made it."""
        return dict(self.image, properties=self.properties,
                    tags=self.image['tags'] if self.tags is None
                    else self.tags, **self.values)

    def apply(self, operation):
        name = operation.path[0]
        if name == 'locations':
            self._locations(operation)
            return
        common.authorize(self.context, 'modify_image', self.current())
        common.check_owner(self.context, self.image, NOT_OWNER)
        if operation.op == patch.REMOVE:
            self._remove(name)
            return
        if operation.op == patch.ADD and operation.v2_0_form and (
                name in PATCHABLE or name in self.properties):
            raise exception.Conflict("Property %s already present." % name)
        if name in PATCHABLE:
            self._set_core(operation.op, name, operation.value)
        elif name in self.properties or operation.op == patch.ADD:
            self.properties[name] = operation.value
            self.written.append(name)
        else:
            raise exception.Conflict("Property %s does not exist." % name)

    def _remove(self, name):
        if name in PATCHABLE:
            raise exception.Forbidden("Property %s may not be removed."
                                      % name)
        if name not in self.properties:
            raise exception.Conflict("Property %s does not exist." % name)
        del self.properties[name]

    def _set_core(self, op, name, value):
        if name == 'owner' and not self.context.is_admin:
            # add as well as replace (v2 spec §23 V1).
            raise exception.Forbidden("Owner can't be updated by non admin.")
        if name == 'visibility':
            rule = {'public': 'publicize_image',
                    'community': 'communitize_image'}.get(value)
            if rule:
                common.authorize(self.context, rule, self.current())
        if name in ('disk_format', 'container_format') and (
                self.image['status'] not in FORMAT_STATUSES):
            # Even for the value it has already (v2 spec §23 V21).
            raise exception.Forbidden(
                "Attribute %s can be only replaced for a queued image."
                % name)
        if name in MINIMUMS:
            _check_minimum_sign(name, value)
            _check_minimum_range(name, value)
        if name == 'tags':
            value = _distinct(value)
            quota.check_tag_count(len(value))
            self.tags = value
            return
        self.values[name] = value

    def _locations(self, operation):
        # Checked before whether locations are shown (v2 spec §25
        # scenario 78).
        if operation.op == patch.REPLACE and operation.value == []:
            raise exception.Forbidden("Cannot set locations to empty list.")
        verb = {patch.REPLACE: 'update', patch.ADD: 'add',
                patch.REMOVE: 'remove'}[operation.op]
        if not CONF.show_multiple_locations:
            raise exception.Forbidden(
                "It's not allowed to %s locations if locations are "
                "invisible." % verb)
        # The location changes of v2 spec §10.5 are not implemented yet:
        # refused plainly rather than half done.
        raise exception.Forbidden(
            "It's not allowed to %s locations through PATCH in this "
            "release of glance_lite." % verb)

    def save(self):
        """Check what holds for the changes as a whole, then store them
        in one write.

        :returns: the image as stored.
        """
        created = [name for name in self.properties
                   if name not in self.original]
        updated = [name for name in dict.fromkeys(self.written)
                   if name in self.original and name in self.properties]
        removed = [name for name in self.original
                   if name not in self.properties]
        if created:
            names = (set(self.image['properties']) - set(removed)) | set(
                created)
            quota.check_property_count(quota.property_count(names))
        protections.check_changes(self.context, created, updated, removed,
                                  RESERVED_MESSAGE)
        changed = {name: self.properties[name] for name in created + updated}
        _check_four_bytes(self.values, changed, self.tags)
        formats = {'disk_format', 'container_format'} & set(self.values)
        try:
            return images.update(
                self.image['id'], self.values, changed or None, purge=False,
                tags=self.tags, remove_properties=removed,
                # An upload may have begun since the image was read.
                expected_statuses=FORMAT_STATUSES if formats else None)
        except exception.ImageNotFound:
            raise exception.NotFound(
                'No image found with ID %s' % self.image['id'])


class ImagesController:

    def create(self, req):
        """POST /v2/images: 201, the image view (queued), with Location.

        :raises Invalid, Forbidden, LimitExceeded, Conflict: in the order
            of v2 spec §7.2.
        """
        context = common.context_of(req)
        body = common.json_body(req)
        if not isinstance(body, dict):
            # The schema has no "type": an array would pass it.
            raise exception.Invalid("Provided object does not match schema "
                                    "'image': %s is not of type 'object'"
                                    % 'array')
        for name in body:
            if name in LINKS_AND_STORES:
                raise exception.Forbidden(READ_ONLY_MESSAGE % name)
        schemas.validate_image(body, creating=True)
        properties = {name: value for name, value in body.items()
                      if name not in CORE}
        _check_property_names(properties)
        common.check_writable(context)

        values = {name: body[name] for name in WRITABLE
                  if name in body and name != 'tags'}
        values.setdefault('owner', context.owner)
        _authorize_create(context, values)
        tags = _distinct(body.get('tags', []))
        quota.check_tag_count(len(tags))
        for name in body:
            if name in SERVER_SET:
                raise exception.Forbidden(READ_ONLY_MESSAGE % name)
        if 'locations' in body:
            raise exception.Forbidden(RESERVED_MESSAGE % 'locations')
        for name in MINIMUMS:
            if name in values:
                _check_minimum_sign(name, values[name])
        quota.check_property_count(quota.property_count(properties))
        protections.check_create(context, properties, RESERVED_MESSAGE)
        for name in MINIMUMS:
            if name in values:
                _check_minimum_range(name, values[name])
        _check_four_bytes(values, properties, tags)

        values['id'] = images.new_image_id(values.get('id'))
        values.setdefault('visibility', DEFAULT_VISIBILITY)
        try:
            image = images.create(values, properties, tags=tags)
        except exception.Duplicate:
            raise exception.Conflict(
                'Image ID %s already exists!' % values['id'])
        headers = {'Location': _image_url(req, image['id'])}
        if CONF.enabled_import_methods:
            headers['OpenStack-image-import-methods'] = ','.join(
                CONF.enabled_import_methods)
        return views.json_response(_view(context, image), status=201,
                                   headers=headers)

    def show(self, req, image_id):
        """GET /v2/images/{id}: 200, the image view, in any live status.

        :raises NotFound: unknown, deleted, invisible, or get_image denied.
        """
        context = common.context_of(req)
        return views.json_response(
            _view(context, common.find_image(context, image_id)))

    def update(self, req, image_id):
        """PATCH /v2/images/{id}: 200, the image view after the changes,
        which are stored together or not at all; ``[]`` stores nothing.

        :raises HTTPUnsupportedMediaType, Invalid, Forbidden, NotFound,
            Conflict, LimitExceeded: as v2 spec §10.2-§10.4.
        """
        context = common.context_of(req)
        operations = patch.parse(req.headers.get('Content-Type'),
                                 _read_patch_body(req),
                                 max_size=CONF.max_json_body_size)
        common.check_writable(context)
        image = common.find_image(context, image_id)
        if not operations:
            # Nothing to change, so nothing to authorize (v2 spec §23 V14).
            return views.json_response(_view(context, image))
        changes = _Changes(context, image)
        for operation in operations:
            changes.apply(operation)
        return views.json_response(_view(context, changes.save()))

    def delete(self, req, image_id):
        """DELETE /v2/images/{id}: 204, the image and its data gone.

        :raises Forbidden: read-only caller, policy, not the owner,
            protected, or the store refused.
        :raises NotFound: unknown, deleted or invisible.
        :raises Conflict: the store says the data is in use.
        """
        context = common.context_of(req)
        common.check_writable(context)
        missing = 'Failed to find image %s to delete' % image_id[:36]
        image = common.find_image(context, image_id, missing)
        common.authorize(context, 'delete_image', image)
        common.check_owner(context, image, NOT_OWNER)
        images.check_unprotected(
            image, 'Image %s is protected and cannot be deleted.'
            % image['id'])
        images.destroy(image, missing)
        return webob.Response(status=204, content_type=None)
