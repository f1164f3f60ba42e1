"""Catalogue queries on one image: read, create, change its metadata,
move its status, delete and undelete it.

Every status change goes through ``records.set_status`` under a row lock,
so it is checked against the state machine (common/status.py) and
concurrent requests cannot both win a transition (spec §16).
"""

import json

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import engine
from glance_lite.db import models
from glance_lite.db import records


# Properties glance_lite keeps for itself (v2 spec §5.4; the import
# lock of v2 spec §17.4); glance_lite.image.properties says the same.
OWN_PREFIX = 'os_glance'


def _check_no_status(values):
    # Status changes have their own functions, which check the table.
    if values and 'status' in values:
        raise ValueError('status is changed by image_transition, not with '
                         'other values')


@engine.reader
def image_get(session, image_id):
    """The image with this id, deleted or not.

    :raises ImageNotFound: no such id.
    """
    images = records.IMAGES.c
    row = session.execute(sa.select(*records.IMAGE_COLUMNS).where(
        images.id == image_id)).first()
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
    image = records.image_dict(row)
    image['properties'] = records.properties_of(session, [image_id])[image_id]
    image['tags'] = records.tags_of(session, [image_id])[image_id]
    loc = records.LOCATIONS.c
    image['locations'] = [
        records.location_dict(url, meta_data, status)
        for url, meta_data, status in session.execute(
            sa.select(loc.url, loc.meta_data, loc.status)
            .where(loc.image_id == image_id,
                   loc.status != image_status.LOCATION_DELETED)
            .order_by(loc.id))]
    return image


@engine.writer
def image_create(session, values, properties=None, tags=None):
    """Store a new image record.

    :param values: core attributes; ``id`` and ``status`` are required.
    :param tags: its tags, distinct, in order.
    :raises Duplicate: the id is taken, by a live or a deleted image.
    """
    now = timeutils.utcnow()
    row = models.Image(size=None, visibility='private', protected=False,
                       min_disk=0, min_ram=0, os_hidden=False, deleted=False,
                       created_at=now, updated_at=now)
    for key, value in values.items():
        setattr(row, key, value)
    for name, value in (properties or {}).items():
        row.properties.append(models.ImageProperty(name=name, value=value))
    for value in (tags or ()):
        row.tags.append(models.ImageTag(value=value, created_at=now,
                                        updated_at=now))
    session.add(row)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate(image_id=values['id'])
    return records.to_dict(row)


def _apply_properties(row, properties, purge):
    existing = {p.name: p for p in row.properties}
    for name, value in properties.items():
        if name in existing:
            existing[name].value = value
        else:
            row.properties.append(models.ImageProperty(name=name, value=value))
    if purge:
        for name, prop in existing.items():
            if name not in properties and not name.startswith(OWN_PREFIX):
                row.properties.remove(prop)


def _apply_tags(session, row, tags, now):
    """Make ``tags`` (distinct, in order) the image's tags; tags it keeps
    keep their place."""
    existing = {tag.value: tag for tag in row.tags}
    for value, tag in existing.items():
        if value not in tags:
            row.tags.remove(tag)
    session.flush()
    for value in tags:
        if value not in existing:
            row.tags.append(models.ImageTag(value=value, created_at=now,
                                            updated_at=now))


@engine.writer
def image_update(session, image_id, values, properties=None, purge=False,
                 expected_statuses=None, tags=None, remove_properties=()):
    """Change an image's metadata in one transaction.

    :param values: core attributes to set (not ``status``: see
        image_transition).
    :param properties: custom properties to set (None: leave them alone).
    :param purge: delete the properties not named in ``properties``, but
        never glance_lite's own ``os_glance*`` ones (v2 spec §21.6, X-13).
    :param remove_properties: names of properties to delete.
    :param tags: the image's tags from now on, distinct (None: unchanged).
    :param expected_statuses: apply only while the image is in one of these.
    :raises ImageNotFound: no such image, or it was deleted meanwhile.
    :raises Conflict: its status is no longer one of ``expected_statuses``.
    """
    _check_no_status(values)
    row = records.load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    if expected_statuses and row.status not in expected_statuses:
        raise exception.Conflict()
    now = timeutils.utcnow()
    for key, value in values.items():
        setattr(row, key, value)
    if properties is not None:
        _apply_properties(row, properties, purge)
    if remove_properties:
        for prop in [p for p in row.properties
                     if p.name in remove_properties]:
            row.properties.remove(prop)
    if tags is not None:
        _apply_tags(session, row, tags, now)
    row.updated_at = now
    session.flush()
    return records.to_dict(row)


@engine.writer
def image_tag_add(session, image_id, value, max_tags=None):
    """Give a live image the tag ``value`` (nothing changes if it has it).

    :param max_tags: refuse a tag beyond this many (None: no limit).
    :raises ImageNotFound: no such live image.
    :raises LimitExceeded: ``max_tags`` reached; the message is the
        caller's to word, the attempted count is ``error.attempted``.
    """
    row = records.load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    values = [tag.value for tag in row.tags]
    if value in values:
        return
    if max_tags is not None and len(values) + 1 > max_tags:
        error = exception.LimitExceeded()
        error.attempted = len(values) + 1
        raise error
    now = timeutils.utcnow()
    row.tags.append(models.ImageTag(value=value, created_at=now,
                                    updated_at=now))
    row.updated_at = now


@engine.writer
def image_tag_delete(session, image_id, value):
    """Take the tag ``value`` off a live image.

    :returns: False when the image did not have it.
    :raises ImageNotFound: no such live image.
    """
    row = records.load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    for tag in row.tags:
        if tag.value == value:
            row.tags.remove(tag)
            row.updated_at = timeutils.utcnow()
            return True
    return False


@engine.writer
def image_transition(session, image_id, to_status, values=None,
                     location=None):
    """Move an image to ``to_status`` if the state machine allows it from
    the status it is in *now* (checked under a row lock).

    :param values: other core attributes to set in the same update.
    :param location: (url, metadata) of data to record with the change.
    :raises ImageNotFound: the image was deleted meanwhile (or never was).
    :raises InvalidTransition: (a Conflict) the transition is not allowed
        from its current status; nothing is changed.
    """
    _check_no_status(values)
    row = records.load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    now = timeutils.utcnow()
    records.set_status(row, to_status, now=now)
    for key, value in (values or {}).items():
        setattr(row, key, value)
    if location is not None:
        url, metadata = location
        row.locations.append(models.ImageLocation(
            url=url, meta_data=json.dumps(metadata or {}),
            status=image_status.LOCATION_ACTIVE, created_at=now))
    row.updated_at = now
    session.flush()
    return records.to_dict(row)


@engine.writer
def image_kill(session, image_id):
    """Mark a failed v1 upload ``killed`` (only from ``saving``); a no-op
    when the image has moved on (deleted meanwhile, for example).

    :returns: True if the image is now killed by this call.
    """
    return _end_failed_upload(session, image_id, image_status.KILLED)


@engine.writer
def image_requeue(session, image_id):
    """Put the image of a failed v2 upload back to ``queued`` (only from
    ``saving``), ready for another upload; a no-op when the image has
    moved on.

    :returns: True if the image is now queued by this call.
    """
    return _end_failed_upload(session, image_id, image_status.QUEUED)


def _end_failed_upload(session, image_id, to_status):
    row = records.load(session, image_id, lock=True)
    if row.deleted or row.status != image_status.SAVING:
        return False
    records.set_status(row, to_status)
    row.updated_at = timeutils.utcnow()
    return True


@engine.writer
def image_destroy(session, image_id, to_status, expected_status):
    """Soft-delete an image whose status is still ``expected_status``.

    Its locations become ``pending_delete`` (kept for a scrubber) or
    ``deleted``; its memberships are soft-deleted.

    :param to_status: ``deleted`` or ``pending_delete``.
    :returns: the image as it was before deletion, locations included.
    :raises ImageNotFound: already deleted.
    :raises Conflict: its status changed since the caller looked
        (InvalidTransition: the table does not allow ``to_status`` from
        it).
    """
    row = records.load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    if row.status != expected_status:
        raise exception.Conflict()
    before = records.to_dict(row)
    now = timeutils.utcnow()
    records.set_status(row, to_status, now=now)
    row.updated_at = now
    location_status = (image_status.LOCATION_PENDING_DELETE
                       if to_status == image_status.PENDING_DELETE
                       else image_status.LOCATION_DELETED)
    for loc in row.locations:
        if loc.status == image_status.LOCATION_ACTIVE:
            loc.status = location_status
    session.execute(
        sa.update(models.ImageMember)
        .where(models.ImageMember.image_id == image_id,
               models.ImageMember.deleted.is_(False))
        .values(deleted=True, deleted_at=now, updated_at=now))
    return before


@engine.writer
def image_restore_status(session, image_id, status):
    """Undo a soft-delete whose data could not be removed from the store:
    the image is live again in ``status``, the status it had before
    (``status.UNDO_DELETE``), with its locations.

    :raises ImageNotFound: no such id.
    :raises InvalidTransition: the image is not deleted, or ``status`` is
        not one it can have been deleted from; nothing is changed.
    """
    row = records.load(session, image_id, lock=True)
    records.set_status(row, status, reason=image_status.UNDO_DELETE)
    for loc in row.locations:
        if loc.status in (image_status.LOCATION_PENDING_DELETE,
                          image_status.LOCATION_DELETED):
            loc.status = image_status.LOCATION_ACTIVE
