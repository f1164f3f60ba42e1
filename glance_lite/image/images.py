"""Image operations that every API calls: the rules on an image's core
attributes, creating and changing its record, attaching its data (an
upload, an external location or a copy), reading its data, and deleting
it (spec §5.5, §6, §7, §8.2, §9).

Callers speak in image dicts (``db.api``'s form) and get domain
exceptions; which HTTP answer each becomes is the API layer's business,
and so is policy: these functions assume the caller was authorized for
the action.
"""

import functools
import uuid

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import uuidutils

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api
from glance_lite.image import access
from glance_lite.image import notifications
from glance_lite.image import settle
from glance_lite.image import upload
from glance_lite import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

AMAZON_FORMATS = ('aki', 'ari', 'ami')
# How often a delete re-reads an image that an upload moved on meanwhile.
DELETE_ATTEMPTS = 5


def check_declared_size(size):
    """Refuse a declared size over image_size_cap before anything changes.

    :raises Invalid: ``size`` is over the cap.
    """
    if size and size > CONF.image_size_cap:
        raise exception.Invalid(
            "Denying attempt to upload image larger than %d bytes."
            % CONF.image_size_cap)


def apply_format_rules(core):
    """Validate the formats named in ``core`` (spec §5.5), filling in the
    Amazon pair when only one side was given.

    :raises Invalid: an unknown format, or a mixed Amazon pair.
    """
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


def check_formats_for_activation(core, stored=None):
    """An image gets data only once both formats are known, from ``core``
    or from the ``stored`` image.

    :raises Invalid: a format is missing.
    """
    stored = stored or {}
    if not core.get('disk_format', stored.get('disk_format')):
        raise exception.Invalid("Disk format is not specified.")
    if not core.get('container_format', stored.get('container_format')):
        raise exception.Invalid("Container format is not specified.")


def check_single_source(*sources):
    """At most one of data, a location and a copy-from source.

    :raises Invalid: more than one of ``sources`` is given.
    """
    if sum(bool(source) for source in sources) > 1:
        raise exception.Invalid(
            "It's invalid to provide multiple image sources.")


def new_image_id(requested=None):
    """The id of a new image: ``requested`` if it is a valid one, else a
    random UUID.

    :raises Invalid: ``requested`` is not a UUID.
    """
    if requested is None:
        return str(uuid.uuid4())
    if not uuidutils.is_uuid_like(requested) or len(requested) > 36:
        raise exception.Invalid("Invalid image id format: %s" % requested)
    return requested


def validate_source(uri):
    """Check an external location or copy-from URI before use (scheme,
    SSRF rules); returns it.

    :raises Invalid: the URI may not be used.
    """
    store.validate_external_source(uri)
    return uri


def source_size(uri, declared, for_location):
    """The size to record for an external source: the declared non-zero
    size, which must match what the remote store reports when the source
    becomes the image's location.

    :raises Conflict: a location's declared size differs from the stored one.
    """
    remote = store.get_size(uri)
    if declared and remote and declared != remote and for_location:
        raise exception.Conflict(
            "Provided image size must match the stored image size. "
            "(provided size: %d, stored size: %d)" % (declared, remote))
    return declared or remote or 0


def check_update(context, image, core, has_data):
    """The changes of ``core`` (and new data) an existing image allows
    (spec §7.3), in Glance's order.

    :raises Forbidden: a deleted image, or an attribute that may not
        change in its status.
    :raises Conflict: data for an image that is not queued.
    """
    if access.is_deleted(image):
        raise exception.Forbidden("Forbidden to update deleted image.")
    if not context.is_admin and image['status'] in (
            image_status.ACTIVE, image_status.DEACTIVATED):
        for field in ('size', 'checksum'):
            if field in core and core[field] != image[field]:
                raise exception.Forbidden(
                    "Forbidden to modify '%s' of %s image."
                    % (field, image['status']))
    for field in ('status', 'id'):
        if field in core and core[field] != image[field]:
            raise exception.Forbidden(
                "Forbidden to modify '%s' of image." % field)
    if has_data and image['status'] != image_status.QUEUED:
        raise exception.Conflict("Cannot upload to an unqueued image")


def check_source_allowed(image):
    """An external source may be attached to a queued image only.

    :raises Invalid: the image is not queued.
    """
    if image['status'] != image_status.QUEUED:
        raise exception.Invalid(
            "Attempted to update Location field for an image not in "
            "queued status.")


def _v1_visibility(values, image=None):
    """``values`` with v1's ``is_public`` made a ``visibility`` (v2 spec
    §21.2): true is ``public``; false makes a new image ``private`` (X-3)
    and a public one ``shared`` if it has members, else ``private`` (X-4);
    any other visibility stays."""
    if 'is_public' not in values:
        return values
    values = dict(values)
    if values.pop('is_public'):
        values['visibility'] = 'public'
    elif image is None:
        values['visibility'] = 'private'
    elif image['visibility'] == 'public':
        values['visibility'] = (
            'shared' if db_api.member_list(image_id=image['id'])
            else 'private')
    return values


def create(values, properties, has_source=False, tags=None):
    """Store a new image record: ``active`` when it was declared empty
    (size 0) and gets no data, else ``queued`` until data is attached.

    :param values: core attributes, ``id`` and ``owner`` included; v1's
        ``is_public`` is taken as a visibility.
    :param has_source: data, a location or a copy-from will follow.
    :param tags: its tags, distinct, in order (v2 only).
    :returns: the image.
    :raises Duplicate: the id is taken, by a live or a deleted image.
    """
    values = _v1_visibility(values)
    declared_empty = values.get('size') == 0
    values = dict(values, status=(
        image_status.ACTIVE if declared_empty and not has_source
        else image_status.QUEUED))
    image = db_api.image_create(values, properties, tags=tags)
    notifications.image_event('image.create', image)
    return image


def update(image_id, values, properties, purge, notify=True, tags=None,
           remove_properties=(), expected_statuses=None):
    """Change an image's core attributes, custom properties and tags in
    one write.

    :param properties: None leaves the properties alone; otherwise they
        are merged, or replace all of them when ``purge``.
    :param notify: send ``image.update`` (False when data is attached
        next: :func:`attach` sends it then).
    :param tags: the image's tags from now on (None: unchanged).
    :param remove_properties: names of properties to delete.
    :param expected_statuses: change the image only while its status is
        one of these (None: any).
    :returns: the image.
    :raises ImageNotFound: it was deleted meanwhile.
    :raises Conflict: its status left ``expected_statuses`` meanwhile.
    """
    if 'is_public' in values:
        values = _v1_visibility(values, db_api.image_get(image_id))
    image = db_api.image_update(image_id, values, properties, purge,
                                expected_statuses=expected_statuses,
                                tags=tags,
                                remove_properties=remove_properties)
    if notify:
        notifications.image_event('image.update', image)
    return image


def attach(image, owner, data=None, location=None, copy_from=None,
           store_name=None, size=None, updating=False):
    """Give a queued image its data: store ``data`` (a reader of
    ``image.data``), record ``location`` (activating it with ``size``), or
    start copying ``copy_from`` in the background.

    :param owner: whose storage quota an upload counts against.
    :param updating: an update of the image asked for it: ``image.update``
        follows once the data is attached (before a copy starts).
    :returns: the image as it is now.
    """
    if data is not None:
        image = upload.upload(image, data, store_name, owner)
    elif location:
        image = db_api.image_transition(image['id'], image_status.ACTIVE,
                                        values={'size': size},
                                        location=(location, {}))
        upload.activated(image)
    if updating:
        notifications.image_event('image.update', image)
    if copy_from:
        upload.start_copy(image, copy_from, store_name, owner)
    return image


def check_downloadable(image):
    """Only an active image has data to read.

    :raises Forbidden: the image is deactivated.
    :raises NotFound: it is in any other status but active.
    """
    if image['status'] == image_status.DEACTIVATED:
        raise exception.Forbidden("Image %s is deactivated" % image['id'])
    if image['status'] != image_status.ACTIVE:
        raise exception.NotFound("Image %s is not active" % image['id'])


def check_queueable(image):
    """Only an active image can be queued for caching (spec §20.8).

    :raises Invalid: it is in any other status.
    """
    if image['status'] != image_status.ACTIVE:
        raise exception.Invalid(
            "Only images with status active can be queued")


def open_data(image):
    """The data of an active image.

    :returns: (chunk iterator, size); (None, 0) for an empty image.
    :raises NotFound: the image has no readable location.
    """
    if not image['size']:
        return None, 0
    locations = [loc for loc in image['locations']
                 if loc['status'] == image_status.LOCATION_ACTIVE]
    if not locations:
        raise exception.NotFound("Image data not found.")
    chunks, store_size = store.get(locations[0]['url'])
    return chunks, store_size or image['size']


def open_any_location(image):
    """The data of an image with data, read from its first active location
    that opens, the next tried when one fails (v2 spec §12.3 step 7).

    :returns: a chunk iterator, or None when every store reports the data
        missing.
    :raises StoreUnavailable: (or Invalid: the store cannot serve reads)
        the error of the last location that failed otherwise.
    """
    failure = None
    for loc in image['locations']:
        if loc['status'] != image_status.LOCATION_ACTIVE:
            continue
        try:
            chunks, _size = store.get(loc['url'])
            return chunks
        except exception.NotFound:
            LOG.warning("Image %s: the data of a location is missing from "
                        "its store", image['id'])
        except (exception.StoreUnavailable, exception.Invalid) as e:
            LOG.warning("Image %s: a location could not be read: %s",
                        image['id'], e.msg)
            failure = e
    if failure is not None:
        raise failure
    return None


def byte_range(chunks, first, last):
    """Bytes ``first`` to ``last`` (inclusive) of the data behind
    ``chunks`` (of ``store.get``), streamed; ``chunks`` is closed with the
    iterator. A file of the filesystem store is read from ``first`` on;
    other stores' data is read from its start, the bytes before ``first``
    dropped as they come."""
    opened = store.open_file(chunks)
    skip = first
    if opened is not None:
        opened.seek(first)
        skip = 0
    remaining = last - first + 1
    try:
        for chunk in chunks:
            if skip:
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk, skip = chunk[skip:], 0
            if len(chunk) >= remaining:
                yield chunk[:remaining]
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        close = getattr(chunks, 'close', None)
        if close is not None:
            close()


def deactivate(image):
    """Make an active image's data unavailable (v2 spec §13); a
    deactivated image stays so.

    :returns: the image as it is now.
    :raises Forbidden: it is in another status.
    :raises Conflict: its status changed since it was read.
    """
    return _toggle(image, image_status.ACTIVE, image_status.DEACTIVATED,
                   'deactivate')


def reactivate(image):
    """Make a deactivated image's data available again (v2 spec §13); an
    active image stays so.

    :returns: the image as it is now.
    :raises Forbidden: it is in another status.
    :raises Conflict: its status changed since it was read.
    """
    return _toggle(image, image_status.DEACTIVATED, image_status.ACTIVE,
                   'reactivate')


def _toggle(image, from_status, to_status, action):
    if image['status'] == to_status:
        return image
    if image['status'] != from_status:
        raise exception.Forbidden("Not allowed to %s image in status '%s'"
                                  % (action, image['status']))
    changed = db_api.image_transition(image['id'], to_status)
    notifications.image_event('image.update', changed)
    LOG.info("Image %s %sd", image['id'], action)
    return changed


def _has_data(image):
    return any(loc['status'] == image_status.LOCATION_ACTIVE
               for loc in image['locations'])


def _remove_data_if_deleted(locations, image):
    """After a delete whose answer was lost with the database: remove the
    data at ``locations`` if the image did get deleted (not when delayed
    delete left it ``pending_delete`` for a scrubber)."""
    if image is not None and image['status'] == image_status.DELETED:
        for loc in locations:
            if loc['status'] == image_status.LOCATION_ACTIVE:
                store.delete_quietly(loc['url'])


def check_unprotected(image, message="Image is protected"):
    """A protected image cannot be deleted, not even by an admin.

    :raises Forbidden: it is protected (``message``: each API words it).
    """
    if image['protected']:
        raise exception.Forbidden(message)


def delete(context, image_id):
    """Delete a visible image as v1 does (spec §9), with v1's checks and
    messages, then :func:`destroy` it.

    :raises ImageNotFound, NotFound: no such visible, live image.
    :raises Forbidden: protected, pending_delete, not the caller's, or the
        store refused to delete the data (the image is then kept).
    :raises Conflict: the store says the data is in use (image kept).
    """
    image = access.get_visible_image(context, image_id)
    check_unprotected(image)
    if image['status'] == image_status.PENDING_DELETE:
        raise exception.Forbidden(
            "Forbidden to delete a pending_delete image.")
    if access.is_deleted(image):
        raise exception.NotFound("Image %s not found." % image_id)
    access.check_mutable(context, image, 'delete')
    destroy(image)


def destroy(image, missing_message=None):
    """Delete a live image the caller was allowed to delete (each API
    checks that in its own order): ``pending_delete`` when it has data and
    ``delayed_delete`` is on, else ``deleted`` with its data removed from
    the store. Any status but a deleted one may be deleted.

    :param missing_message: the text of the NotFound when the image was
        deleted meanwhile (default v1's).
    :raises NotFound: it was deleted meanwhile.
    :raises Forbidden: the store refused to delete the data (image kept).
    :raises Conflict: the store says the data is in use (image kept).
    """
    image_id = image['id']
    # An upload may move the image on between our read and the write;
    # take the status it has then, a few times at most.
    for _attempt in range(DELETE_ATTEMPTS):
        new_status = (image_status.PENDING_DELETE
                      if _has_data(image) and CONF.delayed_delete
                      else image_status.DELETED)
        try:
            before = db_api.image_destroy(image_id, new_status,
                                          image['status'])
            break
        except exception.Conflict:
            image = db_api.image_get(image_id)
        except exception.ImageNotFound:
            raise exception.NotFound(
                missing_message or "Image %s not found." % image_id)
        except db_exc.DBConnectionError:
            # The soft-delete may have been committed although its answer
            # was lost: its data must go then, or nothing would ever
            # remove it.
            settle.when_database_returns(image_id, functools.partial(
                _remove_data_if_deleted, image['locations']), 'A delete')
            raise
    else:
        raise exception.Conflict()
    if new_status == image_status.DELETED:
        _delete_data(image_id, before)
        if before['status'] == image_status.SAVING:
            # An upload cut by a crash left data under no location: found
            # by the image id, as clean-stale finds it. One still streaming
            # fails its final saving -> active step and removes its own.
            store.remove_partial_data(image_id)
    notifications.image_deleted(image_id)


def _delete_data(image_id, before):
    """Remove a deleted image's data; if the store refuses, the image
    gets back the status it had (``before``)."""
    try:
        for loc in before['locations']:
            if loc['status'] == image_status.LOCATION_ACTIVE:
                store.delete(loc['url'])
    except exception.GlanceLiteError as e:
        db_api.image_restore_status(image_id, before['status'])
        if isinstance(e, exception.Forbidden):
            raise exception.Forbidden(
                "Forbidden to delete image: %s" % e.msg)
        if isinstance(e, exception.Conflict):
            raise exception.Conflict(
                "Image %s could not be deleted because it is in use: %s"
                % (image_id, e.msg))
        raise
