"""Images: create, read, update, delete and list (spec §6-§10), the v1
routes.

Each handler checks policy first, then parses, then acts, then
serializes, in the order Glance's v1 made its checks (the spec's
"processing order" sections). The rules and the work are the domain's
(``glance_lite.image``); here are the x-image-meta-* headers, the request
body and policy. Errors are raised as glance_lite exceptions; the router
turns them into HTTP answers (``faults``).
"""

from oslo_config import cfg
import webob

from glance_lite.api import image_headers
from glance_lite.api import list_params
from glance_lite.api.middleware import cache as cache_filter
from glance_lite.api import policy
from glance_lite.api import request_body
from glance_lite.api import sendfile
from glance_lite.api import serialization
from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api
from glance_lite.image import access
from glance_lite.image import images
from glance_lite.image import notifications
from glance_lite.image import properties as image_properties
from glance_lite.image import protections
from glance_lite.image import quota
from glance_lite import store

CONF = cfg.CONF

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


def _check_size_cap(req, meta):
    """Refuse declared sizes over image_size_cap before anything changes."""
    images.check_declared_size(req.content_length or meta.core.get('size'))


def _check_content_type(req):
    media_type = req.headers.get('Content-Type', '').split(';')[0].strip()
    if media_type.lower() != 'application/octet-stream':
        raise exception.Invalid(
            "Content-Type must be application/octet-stream")


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
        return images.validate_source(meta.location)
    if meta.has_copy_from:
        return images.validate_source(meta.copy_from)
    return None


def _image_url(req, image_id):
    base = (CONF.public_endpoint or req.host_url).rstrip('/')
    return '%s/v1/images/%s' % (base, image_id)


def _image_response(req, image, status):
    image = protections.readable(_context(req), image)
    response = serialization.json_response(
        {'image': serialization.image_detail(image)}, status=status)
    response.headers['Location'] = _image_url(req, image['id'])
    if image.get('checksum'):
        response.headers['ETag'] = image['checksum']
    return response


def _attach_source(req, image, meta, source, size, has_body,
                   updating=False):
    """Attach the request's data source to a queued image."""
    return images.attach(
        image, _context(req).owner,
        data=request_body.reader(req) if has_body else None,
        location=source if meta.has_location else None,
        copy_from=source if meta.has_copy_from else None,
        store_name=meta.store, size=size, updating=updating)


def _both(first, second):
    """One on_sent callback calling ``first``, then ``second`` (if any)."""
    if second is None:
        return first

    def on_sent(count):
        first(count)
        second(count)
    return on_sent


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
        readable = [protections.readable(context, image)
                    for image in db_api.image_list(**params)]
        return serialization.json_response(
            {'images': [serialize(image) for image in readable]})

    def meta(self, req, image_id):
        """HEAD /v1/images/{id}: 200, the image as x-image-meta-* headers,
        in any status (deleted ones to admins only)."""
        context = _context(req)
        policy.authorize(context, 'get_image')
        image = protections.readable(
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
        cache = req.environ.get(cache_filter.ENV_KEY)
        if image is None or image['status'] != image_status.ACTIVE:
            if image is not None and cache is not None:
                # No node may serve it now; an entry is refilled if the
                # image becomes active again.
                cache.remove(image_id)
            # Policy refuses before the image's status does.
            policy.authorize(context, 'download_image')
            if image is None:
                raise exception.ImageNotFound(image_id=image_id)
            images.check_downloadable(image)
        target = dict(image['properties'])
        target.update({k: v for k, v in image.items()
                       if k not in ('properties', 'locations')})
        policy.authorize(context, 'download_image', target)

        response = webob.Response(status=200,
                                  content_type='application/octet-stream',
                                  charset=None)
        # A hit and a miss differ only in where the body comes from (spec
        # §20.5): every check above and every header below is the same.
        cached = cache.open_entry(image) if cache is not None else None
        if cached is not None:
            size = cached.size
            chunks = None
        else:
            chunks, size = images.open_data(image)
        on_sent = notifications.download_reporter(context, image, size,
                                                  req.remote_addr)
        if cached is not None:
            response.app_iter = sendfile.file_body(
                req.environ, cached.file, size,
                _both(cached.sent, on_sent))
        elif chunks is None:
            response.body = b''
            if on_sent is not None:
                on_sent(0)
        else:
            if cache is not None:
                chunks = cache.filling(image, chunks)
            response.app_iter = sendfile.body(req.environ, chunks, size,
                                              on_sent)
        image = dict(protections.readable(context, image), size=size)
        # Framing headers first, image headers after (see image_to_headers).
        response.content_length = size
        response.headerlist.extend(image_headers.image_to_headers(image))
        return response

    def create(self, req):
        """POST /v1/images: 201 {"image": ...} with a Location header.

        Reserve (no data), upload (body), external location, or copy-from;
        every check that can be made before storing anything is made first
        (spec §6.2).
        """
        context = _context(req)
        meta = _parse_meta(req)
        has_body = request_body.has_body(req)
        _check_size_cap(req, meta)
        _authorize_change(context, meta, has_body, 'add_image')
        images.check_single_source(has_body, meta.has_location,
                                   meta.has_copy_from)
        images.apply_format_rules(meta.core)
        protections.check_create(context, meta.properties)
        image_properties.check_v1_names({}, meta.properties)
        quota.check_property_count(image_properties.counted(meta.properties))
        source = _prepare_external_source(context, meta)
        if meta.store is not None:
            store.check_store_name(meta.store)
        if has_body:
            _check_content_type(req)
        if has_body or source:
            images.check_formats_for_activation(meta.core)

        values = {k: v for k, v in meta.core.items()
                  if k not in SERVER_MANAGED}
        values['id'] = images.new_image_id(meta.core.get('id'))
        if not context.is_admin or 'owner' not in values:
            values['owner'] = context.owner
        size = None
        if source:
            size = images.source_size(source, meta.core.get('size'),
                                      meta.has_location)
            values['size'] = size
        image = images.create(values, meta.properties,
                              has_source=bool(has_body or source))
        image = _attach_source(req, image, meta, source, size, has_body)
        return _image_response(req, image, 201)

    def update(self, req, image_id):
        """PUT /v1/images/{id}: 200 {"image": ...} with a Location header.

        Changes metadata, and/or attaches data, a location or a copy-from
        source to a queued image (spec §7.2).
        """
        context = _context(req)
        meta = _parse_meta(req)
        has_body = request_body.has_body(req)
        _check_size_cap(req, meta)
        _authorize_change(context, meta, has_body, 'modify_image')
        image = access.get_visible_image(context, image_id)
        images.check_update(context, image, meta.core, has_body)
        purge = image_headers.purge_requested(meta, has_body)
        images.check_single_source(has_body, meta.has_location,
                                   meta.has_copy_from)
        source = _prepare_external_source(context, meta)
        if source:
            images.check_source_allowed(image)
        images.apply_format_rules(meta.core)
        properties = protections.check_update(
            context, image['properties'], meta.properties, purge)
        image_properties.check_v1_names(image['properties'], meta.properties)
        if purge:
            quota.check_property_count(
                image_properties.counted(meta.properties))
        else:
            quota.check_property_count(image_properties.counted(
                set(image['properties']) | set(meta.properties)))
        values = {k: v for k, v in meta.core.items()
                  if k not in SERVER_MANAGED}
        if not context.is_admin:
            values.pop('owner', None)
        size = None
        if source:
            size = images.source_size(source, meta.core.get('size'),
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
            images.check_formats_for_activation(meta.core, image)
        if not (purge or properties):
            properties = None
        attaching = bool(has_body or source)
        image = images.update(image_id, values, properties, purge,
                              notify=not attaching)
        if attaching:
            image = _attach_source(req, image, meta, source, size, has_body,
                                   updating=True)
        return _image_response(req, image, 200)

    def delete(self, req, image_id):
        """DELETE /v1/images/{id}: 200 with an empty body (spec §9)."""
        context = _context(req)
        access.check_writable(context)
        policy.authorize(context, 'delete_image')
        images.delete(context, image_id)
        response = webob.Response(status=200, content_type=None)
        response.body = b''
        return response
