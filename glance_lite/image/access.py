"""Who may see and change an image: one rule for both APIs (v1 spec
§4.4 as v2 spec §4.2 and v2 spec §21.4 amend it)."""

from oslo_utils import uuidutils

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import api as db_api

# Visibilities that let everyone read an image.
PUBLIC_VISIBILITIES = ('public', 'community')


def is_member(context, image):
    owner = context.owner
    return owner is not None and db_api.member_find(image['id'], owner)


def is_visible(context, image):
    """Whether the caller may read the image: admins, anyone for an
    ownerless, public or community image, its owner, and the live members
    of a ``shared`` one (in any member status; memberships of an image of
    another visibility give nothing)."""
    if context.is_admin:
        return True
    if image['deleted']:
        return False
    if image['owner'] is None or image['visibility'] in PUBLIC_VISIBILITIES:
        return True
    if context.owner is not None and context.owner == image['owner']:
        return True
    return image['visibility'] == 'shared' and bool(is_member(context, image))


def is_mutable(context, image):
    if context.is_admin:
        return True
    return (context.owner is not None and image['owner'] is not None and
            context.owner == image['owner'])


def get_visible_image(context, image_id):
    """The image, if this caller may see it.

    :raises ImageNotFound: it does not exist or is not visible (never 403).
    """
    if not (len(image_id) <= 36 and uuidutils.is_uuid_like(image_id)):
        # Every stored id is one (create refuses others): anything else,
        # "../x", NUL bytes, megabytes, never reaches the catalogue or the
        # store.
        raise exception.ImageNotFound(image_id=image_id[:36])
    try:
        image = db_api.image_get(image_id)
    except exception.ImageNotFound:
        raise
    if not is_visible(context, image):
        raise exception.ImageNotFound(image_id=image_id)
    return image


def check_writable(context):
    """Raise Forbidden for an anonymous, read-only caller."""
    if getattr(context, 'read_only', False):
        raise exception.Forbidden("Read-only access")


def check_mutable(context, image, action):
    """Raise Forbidden unless the caller may change ``image``.

    :param action: "update" or "delete", for the message.
    """
    if not is_mutable(context, image):
        raise exception.Forbidden(
            "Forbidden to %s image: not the image owner." % action)


def is_deleted(image):
    return image['deleted'] or image['status'] in image_status.DELETED_STATUSES
