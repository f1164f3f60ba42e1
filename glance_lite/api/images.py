"""Images: create, read, update, delete and list (spec §6-§10).

Each handler checks policy first, then parses, then acts, then
serializes. Errors are raised as glance_lite exceptions; the router turns
them into HTTP answers (``faults``).
"""

import functools
import uuid

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import uuidutils
import webob

from glance_lite.api import access
from glance_lite.api import image_headers
from glance_lite.api import list_params
from glance_lite.api import policy
from glance_lite.api import property_protections
from glance_lite.api import quota
from glance_lite.api import sendfile
from glance_lite.api import serialization
from glance_lite.api import settle
from glance_lite.api import upload
from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api
from glance_lite import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

BODY_TRANSFER_ENCODINGS = ('chunked', 'compress', 'deflate', 'gzip',
                           'identity')
AMAZON_FORMATS = ('aki', 'ari', 'ami')
# Request headers that never change a stored image (spec §5.1, §18 Q9).
SERVER_MANAGED = ('status', 'id', 'created_at', 'updated_at', 'deleted_at',
                  'deleted')


# Core attributes stored as non-null integers: an empty header for one of
# them means "not given" (spec §18 Q5), not "set to null".
NOT_NULL_INTEGERS = ('size', 'min_disk', 'min_ram')


def _parse_meta(req):
    meta = image_headers.parse_request(req.headers)
    for field in NOT_NULL_INTEGERS:
        if field in meta.core and meta.core[field] is None:
            del meta.core[field]
    return meta


def _context(req):
    return req.environ['glance_lite.context']


def _has_body(req):
    """A request carries image data when it is chunked or has a non-zero
    Content-Length (spec §6.3)."""
    encoding = req.headers.get('Transfer-Encoding', '').strip().lower()
    if encoding in BODY_TRANSFER_ENCODINGS:
        return True
    return bool(req.content_length)


def _body_reader(req):
    encoding = req.headers.get('Transfer-Encoding', '').strip().lower()
    length = None if encoding in BODY_TRANSFER_ENCODINGS else (
        req.content_length)
    return upload.RequestBodyReader(req.environ['wsgi.input'], length,
                                    CONF.image_size_cap)


def _check_size_cap(req, meta):
    """Refuse declared sizes over image_size_cap before anything changes."""
    declared = req.content_length or meta.core.get('size')
    if declared and declared > CONF.image_size_cap:
        raise exception.Invalid(
            "Denying attempt to upload image larger than %d bytes."
            % CONF.image_size_cap)


def _check_content_type(req):
    media_type = req.headers.get('Content-Type', '').split(';')[0].strip()
    if media_type.lower() != 'application/octet-stream':
        raise exception.Invalid(
            "Content-Type must be application/octet-stream")


def _apply_format_rules(core):
    """Validate the formats named by this request (spec §5.5), filling in
    the Amazon pair when only one side was given."""
    if 'disk_format' in core and (
            core['disk_format'] not in CONF.image_format.disk_formats):
        raise exception.Invalid(
            "Invalid disk format '%s' for image." % core['disk_format'])
    if 'container_format' in core and (
            core['container_format'] not in
            CONF.image_format.container_formats):
        raise exception.Invalid("Invalid container format '%s' for image."
                                % core['container_format'])
    disk, container = core.get('disk_format'), core.get('container_format')
    if disk in AMAZON_FORMATS or container in AMAZON_FORMATS:
        if 'container_format' not in core:
            core['container_format'] = disk
        elif 'disk_format' not in core:
            core['disk_format'] = container
        elif disk != container:
            raise exception.Invalid(
                "Invalid mix of disk and container formats. When setting a "
                "disk or container format to one of 'aki', 'ari', or 'ami', "
                "the container and disk formats must match.")


def _check_formats_for_activation(core, stored=None):
    stored = stored or {}
    if not core.get('disk_format', stored.get('disk_format')):
        raise exception.Invalid("Disk format is not specified.")
    if not core.get('container_format', stored.get('container_format')):
        raise exception.Invalid("Container format is not specified.")


def _check_single_source(has_body, meta):
    if sum([bool(has_body), meta.has_location, meta.has_copy_from]) > 1:
        raise exception.Invalid(
            "It's invalid to provide multiple image sources.")


def _authorize_change(context, meta, has_body, action):
    """Policy checks of create/update, in Glance's order (spec §4.5)."""
    access.check_writable(context)
    policy.authorize(context, action)
    if meta.core.get('is_public'):
        policy.authorize(context, 'publicize_image')
    if meta.has_copy_from:
        policy.authorize(context, 'copy_from')
    if has_body or meta.has_copy_from:
        policy.authorize(context, 'upload_image')


def _prepare_external_source(context, meta):
    """Validate a location or copy-from source; returns its URI or None."""
    if meta.has_location:
        policy.authorize(context, 'set_image_location')
        store.validate_external_source(meta.location)
        return meta.location
    if meta.has_copy_from:
        store.validate_external_source(meta.copy_from)
        return meta.copy_from
    return None


def _source_size(uri, declared, for_location):
    """Size to record for an external source: the declared non-zero size,
    checked against what the remote store reports."""
    remote = store.get_size(uri)
    if declared and remote and declared != remote and for_location:
        raise exception.Conflict(
            "Provided image size must match the stored image size. "
            "(provided size: %d, stored size: %d)" % (declared, remote))
    return declared or remote or 0


def _image_url(req, image_id):
    base = (CONF.public_endpoint or req.host_url).rstrip('/')
    return '%s/v1/images/%s' % (base, image_id)


def _image_response(req, image, status):
    image = property_protections.readable(_context(req), image)
    response = serialization.json_response(
        {'image': serialization.image_detail(image)}, status=status)
    response.headers['Location'] = _image_url(req, image['id'])
    if image.get('checksum'):
        response.headers['ETag'] = image['checksum']
    return response


def _activate_from_source(image, meta, source, size, has_body, req):
    """Attach the request's data source to a queued image."""
    owner = _context(req).owner
    if has_body:
        return upload.upload(image, _body_reader(req), meta.store, owner)
    if meta.has_location:
        return db_api.image_transition(image['id'], image_status.ACTIVE,
                                       values={'size': size},
                                       location=(source, {}))
    if meta.has_copy_from:
        upload.start_copy(image, source, meta.store, owner)
    return image


def _remove_data_if_deleted(locations, image):
    """After a delete whose answer was lost with the database: remove the
    data at ``locations`` if the image did get deleted (not when delayed
    delete left it ``pending_delete`` for a scrubber)."""
    if image is not None and image['status'] == image_status.DELETED:
        for loc in locations:
            if loc['status'] == 'active':
                store.delete_quietly(loc['url'])


class ImagesController:

    def index(self, req):
        """GET /v1/images: 200 {"images": [summary, ...]}."""
        return self._list(req, serialization.image_summary)

    def detail(self, req):
        """GET /v1/images/detail: 200 {"images": [detail, ...]}."""
        return self._list(req, serialization.image_detail)

    def _list(self, req, serialize):
        context = _context(req)
        policy.authorize(context, 'get_images')
        params = list_params.parse(req.GET, context)
        images = db_api.image_list(**params)
        readable = [property_protections.readable(context, image)
                    for image in images]
        return serialization.json_response(
            {'images': [serialize(image) for image in readable]})

    def meta(self, req, image_id):
        """HEAD /v1/images/{id}: 200, the image as x-image-meta-* headers,
        in any status (deleted ones to admins only)."""
        context = _context(req)
        policy.authorize(context, 'get_image')
        image = property_protections.readable(
            context, access.get_visible_image(context, image_id))
        response = webob.Response(status=200, content_type=None)
        # Framing headers first, image headers after (see image_to_headers).
        response.headers['Content-Length'] = '0'
        response.headerlist.extend(image_headers.image_to_headers(image))
        return response

    def show(self, req, image_id):
        """GET /v1/images/{id}: 200 with the image data streamed and its
        metadata as headers; 404 unless active, 403 when deactivated."""
        context = _context(req)
        policy.authorize(context, 'get_image')
        try:
            image = access.get_visible_image(context, image_id)
        except exception.ImageNotFound:
            image = None
        if image is None or image['status'] != image_status.ACTIVE:
            policy.authorize(context, 'download_image')
            if image is None:
                raise exception.ImageNotFound(image_id=image_id)
            if image['status'] == image_status.DEACTIVATED:
                raise exception.Forbidden("Image %s is deactivated" %
                                          image_id)
            raise exception.NotFound("Image %s is not active" % image_id)
        target = dict(image['properties'])
        target.update({k: v for k, v in image.items()
                       if k not in ('properties', 'locations')})
        policy.authorize(context, 'download_image', target)

        response = webob.Response(status=200,
                                  content_type='application/octet-stream',
                                  charset=None)
        size = image['size']
        if size:
            locations = [loc for loc in image['locations']
                         if loc['status'] == 'active']
            if not locations:
                raise exception.NotFound("Image data not found.")
            chunks, store_size = store.get(locations[0]['url'])
            size = store_size or size
            response.app_iter = sendfile.body(req.environ, chunks, size)
        else:
            response.body = b''
        image = dict(property_protections.readable(context, image), size=size)
        # Framing headers first, image headers after (see image_to_headers).
        response.content_length = size
        response.headerlist.extend(image_headers.image_to_headers(image))
        return response

    def create(self, req):
        """POST /v1/images: 201 {"image": ...} with a Location header.

        Reserve (no data), upload (body), external location, or copy-from;
        every check that can be made before storing anything is made first.
        """
        context = _context(req)
        meta = _parse_meta(req)
        has_body = _has_body(req)
        _check_size_cap(req, meta)
        _authorize_change(context, meta, has_body, 'add_image')
        _check_single_source(has_body, meta)
        _apply_format_rules(meta.core)
        property_protections.check_create(context, meta.properties)
        quota.check_property_count(len(meta.properties))
        source = _prepare_external_source(context, meta)
        if meta.store is not None:
            store.check_store_name(meta.store)
        if has_body:
            _check_content_type(req)
        if has_body or source:
            _check_formats_for_activation(meta.core)

        values = {k: v for k, v in meta.core.items()
                  if k not in SERVER_MANAGED}
        image_id = meta.core.get('id')
        if image_id is None:
            image_id = str(uuid.uuid4())
        elif not uuidutils.is_uuid_like(image_id) or len(image_id) > 36:
            raise exception.Invalid("Invalid image id format: %s" % image_id)
        values['id'] = image_id
        if not context.is_admin or 'owner' not in values:
            values['owner'] = context.owner
        size = None
        if source:
            size = _source_size(source, meta.core.get('size'),
                                meta.has_location)
            values['size'] = size
        declared_empty = ('size' in meta.core and meta.core['size'] == 0)
        values['status'] = (image_status.ACTIVE
                            if declared_empty and not has_body and not source
                            else image_status.QUEUED)
        image = db_api.image_create(values, meta.properties)
        image = _activate_from_source(image, meta, source, size, has_body,
                                      req)
        return _image_response(req, image, 201)

    def update(self, req, image_id):
        """PUT /v1/images/{id}: 200 {"image": ...} with a Location header.

        Changes metadata, and/or attaches data, a location or a copy-from
        source to a queued image (spec §7).
        """
        context = _context(req)
        meta = _parse_meta(req)
        has_body = _has_body(req)
        _check_size_cap(req, meta)
        _authorize_change(context, meta, has_body, 'modify_image')
        image = access.get_visible_image(context, image_id)
        if access.is_deleted(image):
            raise exception.Forbidden("Forbidden to update deleted image.")
        if not context.is_admin and image['status'] in (
                image_status.ACTIVE, image_status.DEACTIVATED):
            for field in ('size', 'checksum'):
                if field in meta.core and meta.core[field] != image[field]:
                    raise exception.Forbidden(
                        "Forbidden to modify '%s' of %s image."
                        % (field, image['status']))
        for field in ('status', 'id'):
            if field in meta.core and meta.core[field] != image[field]:
                raise exception.Forbidden(
                    "Forbidden to modify '%s' of image." % field)
        purge = image_headers.purge_requested(meta, has_body)
        if has_body and image['status'] != image_status.QUEUED:
            raise exception.Conflict("Cannot upload to an unqueued image")
        _check_single_source(has_body, meta)
        source = _prepare_external_source(context, meta)
        if source and image['status'] != image_status.QUEUED:
            raise exception.Invalid(
                "Attempted to update Location field for an image not in "
                "queued status.")
        _apply_format_rules(meta.core)
        properties = property_protections.check_update(
            context, image['properties'], meta.properties, purge)
        if purge:
            quota.check_property_count(len(meta.properties))
        else:
            quota.check_property_count(
                len(set(image['properties']) | set(meta.properties)))
        values = {k: v for k, v in meta.core.items()
                  if k not in SERVER_MANAGED}
        if not context.is_admin:
            values.pop('owner', None)
        size = None
        if source:
            size = _source_size(source, meta.core.get('size'),
                                meta.has_location)
            values['size'] = size
        # Glance refuses a non-owner when it stores the metadata (spec §7.2
        # step 16), after the checks above; what Glance found only while
        # activating is checked next, before anything is stored (§18 Q3).
        access.check_mutable(context, image, 'update')
        if meta.store is not None and has_body:
            store.check_store_name(meta.store)
        if has_body:
            _check_content_type(req)
        if has_body or source:
            _check_formats_for_activation(meta.core, image)
        if not (purge or properties):
            properties = None
        image = db_api.image_update(image_id, values, properties, purge)
        if has_body or source:
            image = _activate_from_source(image, meta, source, size,
                                          has_body, req)
        return _image_response(req, image, 200)

    def delete(self, req, image_id):
        """DELETE /v1/images/{id}: 200 with an empty body (spec §9)."""
        context = _context(req)
        access.check_writable(context)
        policy.authorize(context, 'delete_image')
        image = access.get_visible_image(context, image_id)
        if image['protected']:
            raise exception.Forbidden("Image is protected")
        if image['status'] == image_status.PENDING_DELETE:
            raise exception.Forbidden(
                "Forbidden to delete a pending_delete image.")
        if access.is_deleted(image):
            raise exception.NotFound("Image %s not found." % image_id)
        access.check_mutable(context, image, 'delete')
        # An upload may move the image on between our read and the write;
        # take the status it has then, a few times at most.
        for _attempt in range(5):
            has_data = any(loc['status'] == 'active'
                           for loc in image['locations'])
            new_status = (image_status.PENDING_DELETE
                          if has_data and CONF.delayed_delete
                          else image_status.DELETED)
            try:
                before = db_api.image_destroy(image_id, new_status,
                                              image['status'])
                break
            except exception.Conflict:
                image = db_api.image_get(image_id)
            except exception.ImageNotFound:
                raise exception.NotFound("Image %s not found." % image_id)
            except db_exc.DBConnectionError:
                # The soft-delete may have been committed although its
                # answer was lost: its data must go then, or nothing
                # would ever remove it.
                settle.when_database_returns(image_id, functools.partial(
                    _remove_data_if_deleted, image['locations']),
                    'A delete')
                raise
        else:
            raise exception.Conflict()
        if new_status == image_status.DELETED:
            try:
                for loc in before['locations']:
                    if loc['status'] == 'active':
                        store.delete(loc['url'])
            except exception.GlanceLiteError as e:
                db_api.image_restore_status(image_id, before['status'])
                if isinstance(e, exception.Forbidden):
                    raise exception.Forbidden(
                        "Forbidden to delete image: %s" % e.msg)
                if isinstance(e, exception.Conflict):
                    raise exception.Conflict(
                        "Image %s could not be deleted because it is in "
                        "use: %s" % (image_id, e.msg))
                raise
        response = webob.Response(status=200, content_type=None)
        response.body = b''
        return response
