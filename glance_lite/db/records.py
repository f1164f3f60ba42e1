"""What the catalogue modules share: the tables, image rows as dicts, and
the one function that writes an image's status."""

import json

from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import models

IMAGE_FIELDS = ('id', 'name', 'disk_format', 'container_format', 'size',
                'virtual_size', 'checksum', 'status', 'visibility',
                'protected', 'min_disk', 'min_ram', 'owner', 'os_hidden',
                'os_hash_algo', 'os_hash_value', 'created_at', 'updated_at',
                'deleted_at', 'deleted')

# Reads that answer requests (HEAD, GET, lists, markers) are Core
# statements on the tables, their rows made into dicts: the ORM's
# instance loading and statement annotations were most of a HEAD
# request's CPU time (py-spy, bench/request_rate.py).
IMAGES = models.Image.__table__
PROPERTIES = models.ImageProperty.__table__
LOCATIONS = models.ImageLocation.__table__
MEMBERS = models.ImageMember.__table__
TAGS = models.ImageTag.__table__
IMAGE_COLUMNS = [IMAGES.c[field] for field in IMAGE_FIELDS]


def location_dict(url, meta_data, status):
    return {'url': url, 'metadata': json.loads(meta_data or '{}'),
            'status': status}


def image_dict(row):
    """The catalogue's image dict of a row of IMAGE_COLUMNS (without its
    properties, tags and locations).

    ``is_public`` is v1's view of ``visibility`` (v2 spec §21.2), given
    here so that the v1 code reads it as it always did; it is never
    written.
    """
    image = dict(zip(IMAGE_FIELDS, row))
    image['is_public'] = image['visibility'] == 'public'
    return image


def to_dict(image):
    """An Image row (ORM) as the catalogue's image dict."""
    result = image_dict([getattr(image, field) for field in IMAGE_FIELDS])
    result['properties'] = {p.name: p.value for p in image.properties}
    result['tags'] = [tag.value for tag in image.tags]
    result['locations'] = [
        location_dict(loc.url, loc.meta_data, loc.status)
        for loc in image.locations
        if loc.status != image_status.LOCATION_DELETED]
    return result


def load(session, image_id, lock=False):
    """The Image row (ORM) of this id, deleted or not; ``lock`` holds it
    (SELECT ... FOR UPDATE) until the transaction ends.

    :raises ImageNotFound: no such id.
    """
    query = sa.select(models.Image).where(models.Image.id == image_id)
    if lock:
        query = query.with_for_update()
    image = session.scalars(query).first()
    if image is None:
        raise exception.ImageNotFound(image_id=image_id)
    return image


def properties_of(session, image_ids):
    """{image id: {name: value}} of these images, in one statement."""
    prop = PROPERTIES.c
    found = {image_id: {} for image_id in image_ids}
    if image_ids:
        for image_id, name, value in session.execute(
                sa.select(prop.image_id, prop.name, prop.value)
                .where(prop.image_id.in_(image_ids)).order_by(prop.id)):
            found[image_id][name] = value
    return found


def tags_of(session, image_ids):
    """{image id: [tag, ...]} of these images, each list in the order the
    tags were added, in one statement."""
    tag = TAGS.c
    found = {image_id: [] for image_id in image_ids}
    if image_ids:
        for image_id, value in session.execute(
                sa.select(tag.image_id, tag.value)
                .where(tag.image_id.in_(image_ids)).order_by(tag.id)):
            found[image_id].append(value)
    return found


def locations_of(session, image_ids):
    """{image id: [location dict, ...]} of these images, their live
    locations in the stored order, in one statement."""
    loc = LOCATIONS.c
    found = {image_id: [] for image_id in image_ids}
    if image_ids:
        for image_id, url, meta_data, status in session.execute(
                sa.select(loc.image_id, loc.url, loc.meta_data, loc.status)
                .where(loc.image_id.in_(image_ids),
                       loc.status != image_status.LOCATION_DELETED)
                .order_by(loc.id)):
            found[image_id].append(location_dict(url, meta_data, status))
    return found


def set_status(row, to_status, reason=None, now=None):
    """Move an image row to ``to_status``: the one writer of image
    statuses in the catalogue. The caller holds the row locked (``load``
    with ``lock``), so the status checked is the status changed.

    The move must be one the state machine allows from the row's status
    (``status.TRANSITIONS``, or the repair named by ``reason``). Moving
    into a deleted status soft-deletes the record (``deleted``,
    ``deleted_at``); moving out of one, an undo, revives it.

    :raises InvalidTransition: the table does not allow the move; the row
        is left as it was.
    """
    image_status.check_transition(row.id, row.status, to_status, reason)
    if to_status in image_status.DELETED_STATUSES:
        if not row.deleted:
            row.deleted = True
            row.deleted_at = now or timeutils.utcnow()
    elif row.deleted:
        row.deleted = False
        row.deleted_at = None
    row.status = to_status
